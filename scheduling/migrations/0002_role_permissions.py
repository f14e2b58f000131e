"""Who may do what with the appointment book (the README's permission matrix)."""

from django.db import migrations

from clinic.roles import grant, revoke

MATRIX = {
    # Front desk runs the diary: books, moves, checks in, cancels; reads hours and closures.
    "Front desk": [
        "scheduling.book_appointments",
        "scheduling.view_calendar",
        "scheduling.view_worklists",
        "scheduling.view_workinghours",
        "scheduling.view_closure",
    ],
    # Practitioners see their own and the clinic's calendar and may publish a private feed of their own.
    "Practitioner": [
        "scheduling.view_calendar",
        "scheduling.view_workinghours",
        "scheduling.view_closure",
        "scheduling.use_calendar_feed",
    ],
    # Clinic admins set working hours and closures and read everything else.
    "Clinic admin": [
        "scheduling.view_calendar",
        "scheduling.view_worklists",
        *[
            f"scheduling.{action}_{model}"
            for model in ("workinghours", "closure")
            for action in ("view", "add", "change", "delete")
        ],
    ],
}


def forwards(apps, schema_editor):
    grant(apps, MATRIX)


def backwards(apps, schema_editor):
    revoke(apps, MATRIX)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial"), ("clinic", "0002_roles")]

    operations = [migrations.RunPython(forwards, backwards)]
