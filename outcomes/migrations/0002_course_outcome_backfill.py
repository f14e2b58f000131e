from django.db import migrations


def backfill(apps, schema_editor):
    # Superseded by 0007, which fills the summary once all its tables and columns exist.
    return


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0001_course_outcome")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
