from django.db import migrations


def backfill(apps, schema_editor):
    # The summary is derived data: computed by the app's own rebuild, which uses the current models, so it
    # runs here, after the last summary column exists (the earlier backfills defer to this one). Only a
    # database that already has courses has anything to summarise.
    if not apps.get_model("courses", "TreatmentCourse").objects.exists():
        return
    from outcomes.summary import course_outcomes_rebuild

    course_outcomes_rebuild()


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0006_report_summaries_and_version")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
