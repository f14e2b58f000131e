"""Clinic admins see the outbox and try failed messages again (clinic:messages)."""

from django.db import migrations

from clinic.roles import grant, revoke

MATRIX = {"Clinic admin": ["clinic.view_outboundmessage", "clinic.change_outboundmessage"]}


def forwards(apps, schema_editor):
    grant(apps, MATRIX)


def backwards(apps, schema_editor):
    revoke(apps, MATRIX)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0004_outbound_message")]

    operations = [migrations.RunPython(forwards, backwards)]
