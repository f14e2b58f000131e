"""The three clinic roles. Later apps grant their own permissions to these groups."""

from django.db import migrations

from clinic.roles import grant, revoke

MATRIX = {
    "Front desk": [],
    "Practitioner": [],
    "Clinic admin": ["clinic.add_user", "clinic.change_user", "clinic.view_user", "auth.view_group"],
}


def forwards(apps, schema_editor):
    grant(apps, MATRIX)


def backwards(apps, schema_editor):
    revoke(apps, MATRIX)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
