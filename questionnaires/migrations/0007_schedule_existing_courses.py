"""Give the courses that existed before questionnaires their schedule (open courses, and closed ones while a
follow-up window can still be open), as `manage.py questionnaires_sync` does."""

import io

from django.core.management import call_command
from django.db import migrations


def schedule(apps, schema_editor):
    # The schedule is derived from each course's diary by the app's own service with the current models, so
    # it runs after the last migration those models need (0004 defers to this one). Only a database with
    # courses has anything to do.
    if not apps.get_model("courses", "TreatmentCourse").objects.exists():
        return
    call_command("questionnaires_sync", stdout=io.StringIO())


class Migration(migrations.Migration):
    dependencies = [
        ("questionnaires", "0006_urgent_alerts"),
        ("outcomes", "0012_summaries_after_preparations"),
        ("clinic", "0005_outbound_message_permissions"),
    ]

    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
