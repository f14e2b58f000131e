"""Who may do what with patients (the README's permission matrix)."""

from django.db import migrations

from clinic.roles import grant, revoke

MATRIX = {
    # Demographics and contact details; archiving, not restoring; no clinical entries.
    "Front desk": [
        "patients.view_patient",
        "patients.add_patient",
        "patients.change_patient",
        "patients.archive_patient",
    ],
    # Screening and consent are clinical work; demographics are read-only for practitioners.
    "Practitioner": [
        "patients.view_patient",
        "patients.view_screening",
        "patients.add_screening",
        "patients.change_screening",
        "patients.view_consent",
        "patients.add_consent",
        "patients.change_consent",
    ],
    "Clinic admin": [
        "patients.view_patient",
        "patients.add_patient",
        "patients.change_patient",
        "patients.archive_patient",
        "patients.restore_patient",
        "patients.view_screening",
        "patients.add_screening",
        "patients.change_screening",
        "patients.view_consent",
        "patients.add_consent",
        "patients.change_consent",
    ],
}


def forwards(apps, schema_editor):
    grant(apps, MATRIX)


def backwards(apps, schema_editor):
    revoke(apps, MATRIX)


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial"), ("clinic", "0002_roles")]

    operations = [migrations.RunPython(forwards, backwards)]
