from django.apps import AppConfig


class DeclarationsConfig(AppConfig):
    name = "declarations"
    verbose_name = "Déclarations à la Caisse des dépôts"

    def ready(self):
        from candidates.signals import results_withdrawn
        from declarations.receivers import flag_rectified_declarations, flag_withdrawn_declarations
        from juries.signals import decision_rectified

        decision_rectified.connect(flag_rectified_declarations, dispatch_uid="declarations_flag_rectified")
        results_withdrawn.connect(flag_withdrawn_declarations, dispatch_uid="declarations_flag_withdrawn")
