from django.db import migrations


def backfill(apps, schema_editor):
    # The summary is derived data: computed by the app's own rebuild, which uses the current models. It only
    # runs on a database that already has courses (a fresh database has nothing to summarise).
    if not apps.get_model("courses", "TreatmentCourse").objects.exists():
        return
    from outcomes.summary import course_outcomes_rebuild

    course_outcomes_rebuild()


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0003_course_session_count")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
