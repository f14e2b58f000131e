"""The three clinic roles and the tools migrations use to give them permissions.

Roles are Django groups. Each app grants its own models' permissions in a data migration that
lists them literally, so the permission matrix is versioned with the schema (see the README).
"""

from django.contrib.auth.management import create_permissions

FRONT_DESK = "Front desk"
PRACTITIONER = "Practitioner"
CLINIC_ADMIN = "Clinic admin"
ROLES = (FRONT_DESK, PRACTITIONER, CLINIC_ADMIN)


def _ensure_permissions(apps):
    # Permissions are normally created after the whole migrate run; a data migration that hands them
    # out needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def _permissions(apps, codenames):
    Permission = apps.get_model("auth", "Permission")
    found = []
    for dotted in codenames:
        app_label, codename = dotted.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


def grant(apps, matrix):
    """Give each role (creating its group) the permissions listed for it: {role: ["app.codename", ...]}."""
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    for role, codenames in matrix.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*_permissions(apps, codenames))


def revoke(apps, matrix):
    Group = apps.get_model("auth", "Group")
    for role, codenames in matrix.items():
        group = Group.objects.filter(name=role).first()
        if group:
            group.permissions.remove(*_permissions(apps, codenames))
