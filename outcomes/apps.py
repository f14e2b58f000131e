from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "outcomes"
    verbose_name = "Outcome reports"

    def ready(self):
        # The one receiver of clinic.changes: what the outcome summaries and the report version follow.
        from outcomes import refresh

        refresh.connect()
