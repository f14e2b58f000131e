"""Formerly the schedule of the courses that existed before questionnaires: it needs the app's current models,
so it runs in the last questionnaires migration (0007_schedule_existing_courses) instead."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("questionnaires", "0003_role_permissions"),
        ("outcomes", "0012_summaries_after_preparations"),
        ("clinic", "0005_outbound_message_permissions"),
    ]

    operations = []
