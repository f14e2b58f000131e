"""The permission matrix, applied to every API endpoint and method.

Each view lists, per HTTP method, the Django permissions of the page that does the same thing
(`required = {"GET": ("patients.view_patient",), ...}`), so a role reaches through the API exactly what
it reaches through the pages. A method the view does not offer answers 405 (no DELETE anywhere: clinical
records are archived, voided or cancelled, never deleted).
"""

from rest_framework.permissions import BasePermission

# HEAD and OPTIONS read what GET reads.
READ_ALIASES = {"HEAD": "GET", "OPTIONS": "GET"}


def offers(view, method):
    return method.lower() in view.http_method_names and hasattr(view, method.lower())


class RolePermission(BasePermission):
    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False  # DRF answers 401
        method = READ_ALIASES.get(request.method, request.method)
        if not offers(view, request.method):
            return True  # DRF answers 405
        required = getattr(view, "required", {}).get(method)
        if required is None:
            return False
        return user.has_perms(required)


def is_staff_member(user):
    """Anyone with a clinic role: the schema and the docs are for staff, not for accounts without one."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.role_names))


class StaffMember(BasePermission):
    def has_permission(self, request, view):
        if request.user and request.user.is_authenticated and not offers(view, request.method):
            return True  # DRF answers 405, as RolePermission does
        return is_staff_member(request.user)
