"""Clinic admins read the audit trail and access log and see sign-in lockouts (django-axes).

Unlocking needs clinic.change_user, which clinic admins already hold: it is managing a staff account.
"""

from django.db import migrations

from clinic.roles import grant, revoke

MATRIX = {
    "Clinic admin": [
        "auditlog.view_logentry",
        "axes.view_accessattempt",
        "axes.view_accesslog",
        "axes.view_accessfailurelog",
    ],
}


def forwards(apps, schema_editor):
    grant(apps, MATRIX)


def backwards(apps, schema_editor):
    revoke(apps, MATRIX)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0002_roles"),
        ("auditlog", "0017_add_actor_email"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
