"""Search columns may be empty (no phone), and on PostgreSQL "contains" searches get trigram indexes.

A plain B-tree index cannot serve `LIKE '%fragment%'`; a pg_trgm GIN index can, which keeps the
registry search fast at tens of thousands of patients. SQLite has no equivalent and scans instead.
"""

from django.db import migrations, models

TRIGRAM_INDEXES = {
    "patient_search_name_trgm": "search_name",
    "patient_phone_digits_trgm": "phone_digits",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON patients_patient USING gin ({column} gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("patients", "0003_mrn_sequence_row")]

    operations = [
        migrations.AlterField(
            model_name="patient",
            name="phone_digits",
            field=models.CharField(blank=True, db_index=True, default="", editable=False, max_length=32),
        ),
        migrations.AlterField(
            model_name="patient",
            name="search_name",
            field=models.CharField(blank=True, default="", editable=False, max_length=320),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
