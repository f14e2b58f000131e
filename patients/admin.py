from django.contrib import admin

from clinic.admin import NoDeleteAdmin
from patients.models import Consent, Patient, Screening, ScreeningCondition
from patients.services import mrn_allocate


@admin.register(Patient)
class PatientAdmin(NoDeleteAdmin):
    list_display = (
        "mrn",
        "family_name",
        "given_name",
        "date_of_birth",
        "phone",
        "primary_practitioner",
        "archived",
    )
    list_filter = ("archived", "primary_practitioner")
    search_fields = ("mrn", "family_name", "given_name", "preferred_name", "phone")
    list_select_related = ("primary_practitioner",)
    readonly_fields = ("mrn", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        # The registry's rules (a fresh MRN, who registered) apply here too.
        if not change:
            obj.mrn = mrn_allocate()[0]
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class CreatedByAdmin(NoDeleteAdmin):
    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Screening)
class ScreeningAdmin(CreatedByAdmin):
    list_display = ("patient", "screened_on", "outcome", "screened_by")
    list_filter = ("outcome",)
    list_select_related = ("patient", "screened_by")
    raw_id_fields = ("patient",)


@admin.register(Consent)
class ConsentAdmin(CreatedByAdmin):
    list_display = ("patient", "consented_on", "form_version", "taken_by")
    list_select_related = ("patient", "taken_by")
    raw_id_fields = ("patient",)


@admin.register(ScreeningCondition)
class ScreeningConditionAdmin(NoDeleteAdmin):
    """Clinic admins choose which screening conditions rule injection out (absolute) or need a reason."""

    list_display = ("label", "severity", "note", "updated_at")
    list_filter = ("severity",)
    fields = ("field_name", "severity", "note")

    def get_readonly_fields(self, request, obj=None):
        # A row is the rule for one screening field: its field never changes, only how it gates.
        return ("field_name",) if obj else ()

    def has_add_permission(self, request):
        # One row per screening condition, seeded by patients/migrations/0006 (a row found missing falls back
        # to its seeded default, Screening.severities): admins change severities, they add none.
        return False
