from django.apps import AppConfig


class DeclarationsConfig(AppConfig):
    name = "declarations"
    verbose_name = "Déclarations à la Caisse des dépôts"

    def ready(self):
        from candidates.declaration_duty import register_first_declared_at
        from declarations.deadlines import first_declared_at

        # The statistics read who was declared when without importing this room.
        register_first_declared_at(first_declared_at)
