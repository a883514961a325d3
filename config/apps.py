from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project itself: settings, URLs, the home page (it reads every room), deploy checks and the demo."""

    name = "config"
    verbose_name = "Projet"

    def ready(self):
        from config import checks  # noqa: F401 (system checks)
