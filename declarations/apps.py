from django.apps import AppConfig


class DeclarationsConfig(AppConfig):
    name = "declarations"
    verbose_name = "Déclarations à la Caisse des dépôts"

    def ready(self):
        from candidates.declaration_duty import register_first_declared_at
        from candidates.signals import results_withdrawn
        from declarations.deadlines import first_declared_at
        from declarations.jobs import register_jobs
        from declarations.receivers import flag_rectified_declarations, flag_withdrawn_declarations
        from juries.signals import decision_rectified

        # The statistics read who was declared when without importing this room.
        register_first_declared_at(first_declared_at)
        register_jobs()
        decision_rectified.connect(flag_rectified_declarations, dispatch_uid="declarations_flag_rectified")
        results_withdrawn.connect(flag_withdrawn_declarations, dispatch_uid="declarations_flag_withdrawn")
