from django.apps import AppConfig


class QuestionnairesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "questionnaires"
    verbose_name = "Patient questionnaires"

    def ready(self):
        # The questionnaire schedule follows the diary and the course's status (clinic.changes), in the
        # same transaction as the write that changed them.
        from questionnaires import schedule

        schedule.connect()
