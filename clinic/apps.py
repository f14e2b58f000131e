from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        from clinic import audit, middleware  # noqa: F401  (middleware stamps the sign-in time)

        audit.register_models()
