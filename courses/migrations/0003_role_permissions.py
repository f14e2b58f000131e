"""Who may do what with courses, sessions and catalogues (the README's permission matrix)."""

from django.db import migrations

from clinic.roles import grant, revoke

CATALOGUES = [
    "condition",
    "injectionsite",
    "product",
    "lot",
    "sideeffectterm",
    "outcomeinstrument",
    "protocolsettings",
]
CLINICAL = ["preparationcomponent", "injection", "sideeffect", "outcomescore", "courseextension"]

MATRIX = {
    # Schedule and status only: books, moves, checks in and cancels sessions; never clinical entries.
    "Front desk": [
        "courses.view_treatmentcourse",
        "courses.view_treatmentsession",
        "courses.add_treatmentsession",
        "courses.change_treatmentsession",
        "courses.view_protocolsettings",
    ],
    "Practitioner": [
        *[
            f"courses.{action}_{model}"
            for model in ["treatmentcourse", "treatmentsession", *CLINICAL]
            for action in ("view", "add", "change")
        ],
        *[f"courses.view_{model}" for model in CATALOGUES],
        "courses.view_clinical",
        "courses.view_outcomes",
    ],
    # Reads everything clinical, manages catalogues, sees every practitioner's outcomes.
    "Clinic admin": [
        *[f"courses.view_{model}" for model in ["treatmentcourse", "treatmentsession", *CLINICAL]],
        *[f"courses.{action}_{model}" for model in CATALOGUES for action in ("view", "add", "change")],
        "courses.view_clinical",
        "courses.view_outcomes",
        "courses.view_all_outcomes",
        "courses.export_research",
    ],
}


def forwards(apps, schema_editor):
    grant(apps, MATRIX)


def backwards(apps, schema_editor):
    revoke(apps, MATRIX)


class Migration(migrations.Migration):
    dependencies = [("courses", "0002_seed_catalogues"), ("clinic", "0002_roles")]

    operations = [migrations.RunPython(forwards, backwards)]
