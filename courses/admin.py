from django.contrib import admin

from clinic.admin import NoDeleteAdmin
from clinic.changes import Change, announce
from courses.models import (
    Condition,
    InjectionSite,
    Lot,
    OutcomeInstrument,
    Product,
    ProtocolSettings,
    ProtocolTimepoint,
    SideEffectTerm,
)


class CatalogueAdmin(NoDeleteAdmin):
    """A catalogue the reports show (names, bands, regions): every save announces it (clinic.changes)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        announce(self.change_kind(form))

    def change_kind(self, form):
        return Change.CATALOGUE


@admin.register(Condition)
class ConditionAdmin(CatalogueAdmin):
    list_display = ("name", "icd10_code", "active")
    list_filter = ("active",)
    search_fields = ("name", "icd10_code")


@admin.register(InjectionSite)
class InjectionSiteAdmin(CatalogueAdmin):
    list_display = (
        "name",
        "region",
        "structure_type",
        "needs_spinal_level",
        "laterality_rule",
        "snomed_code",
        "chart_view",
        "risk_note",
        "active",
    )
    list_filter = (
        "region",
        "structure_type",
        "needs_spinal_level",
        "laterality_rule",
        "chart_view",
        "active",
    )
    search_fields = ("name", "snomed_code")
    fieldsets = (
        (None, {"fields": ("region", "name", "structure_type", "needs_spinal_level", "risk_note", "active")}),
        ("Coding and side", {"fields": ("snomed_code", "laterality_rule")}),
        (
            "Place on the body chart",
            {
                "fields": ("chart_view", ("chart_x", "chart_y")),
                "description": "Each view of the chart is 200 wide and 500 high; the midline is x = 100. "
                "Place a paired site on either side: the chart mirrors it onto the other.",
            },
        ),
    )


class LotInline(admin.TabularInline):
    model = Lot
    extra = 0
    can_delete = False
    formfield_overrides = NoDeleteAdmin.formfield_overrides


@admin.register(Product)
class ProductAdmin(CatalogueAdmin):
    list_display = (
        "name",
        "product_type",
        "stock_concentration_percent",
        "corn_derived",
        "fish_derived",
        "local_anaesthetic",
        "latex",
        "parabens",
        "active",
    )
    list_filter = ("product_type", "active", "latex", "parabens")
    search_fields = ("name",)
    inlines = [LotInline]


@admin.register(Lot)
class LotAdmin(CatalogueAdmin):
    list_display = (
        "lot_number",
        "product",
        "expiry_date",
        "multi_dose",
        "opened_on",
        "beyond_use_date",
        "recalled",
    )
    list_filter = ("recalled", "multi_dose", "product")
    search_fields = ("lot_number", "product__name")
    list_select_related = ("product",)


@admin.register(SideEffectTerm)
class SideEffectTermAdmin(CatalogueAdmin):
    list_display = ("name", "category", "active")
    list_filter = ("category", "active")


@admin.register(OutcomeInstrument)
class OutcomeInstrumentAdmin(CatalogueAdmin):
    list_display = (
        "code",
        "name",
        "min_score",
        "max_score",
        "higher_is_better",
        "mcid_absolute",
        "mcid_relative_percent",
    )
    # What every course's response flags are computed from.
    RESPONSE_FIELDS = {"min_score", "max_score", "higher_is_better", "mcid_absolute", "mcid_relative_percent"}

    def change_kind(self, form):
        if form is None or set(form.changed_data) & self.RESPONSE_FIELDS:
            return Change.INSTRUMENT
        return Change.CATALOGUE


@admin.register(ProtocolSettings)
class ProtocolSettingsAdmin(CatalogueAdmin):
    list_display = ("__str__", "slot_minutes", "screening_valid_days", "reminder_hours_before")

    def has_add_permission(self, request):
        # One row only: the clinic's protocol.
        return not ProtocolSettings.objects.exists()


@admin.register(ProtocolTimepoint)
class ProtocolTimepointAdmin(CatalogueAdmin):
    list_display = (
        "name",
        "code",
        "target_days",
        "window_before_days",
        "window_after_days",
        "primary",
        "active",
    )
    list_filter = ("active",)
    # What every course's timepoint values are read from (outcomes.timepoints).
    WINDOW_FIELDS = {"target_days", "window_before_days", "window_after_days", "active"}

    def change_kind(self, form):
        if form is None or set(form.changed_data) & self.WINDOW_FIELDS:
            return Change.TIMEPOINTS
        return Change.CATALOGUE
