"""Nobody holds a delete permission (tests/clinic/test_roles.py): removing a working-hours range or a
closure is part of changing the schedule, so it needs the change permission instead."""

from django.db import migrations

from clinic.roles import grant, revoke

MATRIX = {"Clinic admin": ["scheduling.delete_workinghours", "scheduling.delete_closure"]}


def forwards(apps, schema_editor):
    revoke(apps, MATRIX)


def backwards(apps, schema_editor):
    grant(apps, MATRIX)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0003_no_double_booking")]

    operations = [migrations.RunPython(forwards, backwards)]
