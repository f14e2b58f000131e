"""Clinic admins list, issue and revoke API tokens (the README's permission matrix)."""

from django.db import migrations

from clinic.roles import grant, revoke

MATRIX = {"Clinic admin": ["api.view_apitoken", "api.add_apitoken", "api.change_apitoken"]}


def forwards(apps, schema_editor):
    grant(apps, MATRIX)


def backwards(apps, schema_editor):
    revoke(apps, MATRIX)


class Migration(migrations.Migration):
    dependencies = [("api", "0001_api_tokens"), ("clinic", "0002_roles")]

    operations = [migrations.RunPython(forwards, backwards)]
