"""Right of access: clinic admins download a patient's complete record."""

from django.db import migrations

from clinic.roles import grant, revoke

MATRIX = {"Clinic admin": ["patients.export_patient_record"]}


def forwards(apps, schema_editor):
    grant(apps, MATRIX)


def backwards(apps, schema_editor):
    revoke(apps, MATRIX)


class Migration(migrations.Migration):
    dependencies = [("patients", "0004_search_columns_and_trigram_indexes")]

    operations = [
        migrations.AlterModelOptions(
            name="patient",
            options={
                "ordering": ["family_name", "given_name", "id"],
                "permissions": [
                    ("archive_patient", "Can archive patients"),
                    ("restore_patient", "Can restore archived patients"),
                    ("export_patient_record", "Can download a patient's complete record (right of access)"),
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
