from django.db import migrations


def forwards(apps, schema_editor):
    apps.get_model("patients", "MrnSequence").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("patients", "0002_role_permissions")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
