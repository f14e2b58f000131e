"""PostgreSQL exclusion constraints: no two live appointments overlap for one practitioner or one patient.

slot_claim() checks the same rule under row locks; these constraints make it impossible to bypass
(a raw save, the admin, a bug). SQLite has no exclusion constraints: there the IMMEDIATE
transactions serialise every writer, so slot_claim() alone suffices.
"""

from django.db import migrations

LIVE = "status IN ('scheduled', 'checked_in', 'completed')"
CONSTRAINTS = {
    "session_no_practitioner_overlap": "practitioner_id",
    "session_no_patient_overlap": "patient_id",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for name, column in CONSTRAINTS.items():
        schema_editor.execute(
            f"ALTER TABLE courses_treatmentsession ADD CONSTRAINT {name} EXCLUDE USING gist "
            f"({column} WITH =, tstzrange(starts_at, ends_at) WITH &&) WHERE ({LIVE})"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE courses_treatmentsession DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_role_permissions"), ("courses", "0003_role_permissions")]

    operations = [migrations.RunPython(forwards, backwards)]
