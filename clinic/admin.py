from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import models

from clinic.access import log_access, patient_of
from clinic.changes import Change, announce
from clinic.inputs import ClinicDateField
from clinic.models import User


@admin.register(User)
class ClinicUserAdmin(UserAdmin):
    """Staff accounts: a clinic admin sets names, roles and whether the account is active.

    Powers beyond the roles are not on the form for anyone: the superuser and staff-site flags are shown
    but set only on the server (`manage.py site_access`), and permissions come from roles alone, never
    granted one by one, so no account, the editor's own included, can be raised past a role here.
    """

    list_display = ("username", "first_name", "last_name", "email", "is_active", "role_list")
    list_filter = ("groups", "is_active", "is_staff")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Roles", {"fields": ("is_active", "groups")}),
        ("Site access (set on the server: manage.py site_access)", {"fields": ("is_staff", "is_superuser")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("is_staff", "is_superuser", "last_login", "date_joined")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def has_delete_permission(self, request, obj=None):
        # Staff who leave are deactivated: their name must stay on every entry and audit record they made.
        return False

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Names and roles: the reports' practitioner names and filter.
        announce(Change.STAFF)

    @admin.display(description="Roles")
    def role_list(self, user):
        return ", ".join(group.name for group in user.groups.all())


class NoDeleteAdmin(admin.ModelAdmin):
    """Clinical records and catalogues are archived or deactivated, never deleted, also from the admin.

    Opening a patient's record (or one of its clinical rows) in the admin is written to the access log.
    """

    # Dates in the clinic's range (clinic.inputs), as on every other form.
    formfield_overrides = {models.DateField: {"form_class": ClinicDateField}}

    def has_delete_permission(self, request, obj=None):
        return False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and obj is not None and request.method == "GET":
            try:
                patient = patient_of(obj)
            except ValueError:
                patient = None  # a catalogue row: no patient data
            if patient is not None:
                log_access(request, obj, patient=patient, what="admin")
        return super().render_change_form(
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )
