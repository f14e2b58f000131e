from django.db import migrations


def backfill(apps, schema_editor):
    # Superseded by 0007, which fills the summary once its last columns exist (the rebuild uses the current
    # models, so it cannot run against this older schema).
    return


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0003_course_session_count")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
