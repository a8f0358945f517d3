from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Wiring: management commands that span apps (run, demo, bootstrap) and checks."""

    name = "config"
    verbose_name = "Trellis"

    def ready(self):
        from config import checks, tenancy_checks  # noqa: F401  (registers the system checks)
