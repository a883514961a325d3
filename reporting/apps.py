from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Statistiques"

    def ready(self):
        from reporting.jobs import register_jobs

        register_jobs()
