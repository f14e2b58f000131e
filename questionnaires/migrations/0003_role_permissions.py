"""Who may see and manage questionnaires (the README's permission matrix): clinic admins manage the
instruments and the schedule; practitioners and clinic admins see a course's questionnaires and answers;
front desk sees their status (to chase follow-ups)."""

from django.db import migrations

from clinic.roles import grant, revoke

MATRIX = {
    "Front desk": ["questionnaires.view_assignment"],
    "Practitioner": [
        "questionnaires.view_questionnaire",
        "questionnaires.view_assignment",
        "questionnaires.view_answer",
    ],
    "Clinic admin": [
        *[
            f"questionnaires.{action}_{model}"
            for model in ("questionnaire", "questionnaireitem", "itemchoice", "schedulerule")
            for action in ("view", "add", "change")
        ],
        "questionnaires.view_assignment",
        "questionnaires.view_answer",
        "questionnaires.view_linklock",
    ],
}


def forwards(apps, schema_editor):
    grant(apps, MATRIX)


def backwards(apps, schema_editor):
    revoke(apps, MATRIX)


class Migration(migrations.Migration):
    dependencies = [("questionnaires", "0002_shipped_instruments"), ("clinic", "0002_roles")]

    operations = [migrations.RunPython(forwards, backwards)]
