from django.db import migrations


def backfill(apps, schema_editor):
    # Superseded by 0004, which fills the summary and the session counts together once both tables exist.
    return


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0001_course_outcome")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
