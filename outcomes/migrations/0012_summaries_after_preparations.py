"""Recompute the outcome summaries once the treatments' preparations exist.

Several preparations per treatment changed what a treatment's strengths are (P2G's glucose counts as dextrose;
each anaesthetic is its own %), and the summaries read those strengths (a course's band, its anaesthetic flag).
"""

from django.db import migrations


def rebuild(apps, schema_editor):
    # The summary is derived data: computed by the app's own rebuild, which uses the current models, so it
    # runs here, after the last change to what it reads (the earlier backfills defer to this one). Only a
    # database that already has courses has anything to summarise.
    if not apps.get_model("courses", "TreatmentCourse").objects.exists():
        return
    from outcomes.summary import course_outcomes_rebuild

    course_outcomes_rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0011_course_outcome_side_effects"),
        # The rebuild reads the course tables with the current models.
        ("courses", "0014_preparation_required"),
    ]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
