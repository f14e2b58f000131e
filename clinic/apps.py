from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        # middleware stamps the sign-in time; two_factor clears failed attempts after a whole sign-in.
        from clinic import audit, middleware, two_factor  # noqa: F401

        audit.register_models()
