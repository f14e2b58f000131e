from django.contrib import admin
from django.db import models

from clinic.inputs import ClinicDateField
from scheduling.models import Closure, WorkingHours

# Calendar feeds are left out on purpose: a feed's token is its owner's secret, shown only to them.


class NoDeleteAdmin(admin.ModelAdmin):
    """Ranges and closures are removed from the scheduling pages (with the change permission), which
    say what was removed; the admin offers no delete, like every other model of the clinic."""

    formfield_overrides = {models.DateField: {"form_class": ClinicDateField}}

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkingHours)
class WorkingHoursAdmin(NoDeleteAdmin):
    list_display = ["practitioner", "weekday", "starts_at", "ends_at"]
    list_filter = ["weekday", "practitioner"]


@admin.register(Closure)
class ClosureAdmin(NoDeleteAdmin):
    list_display = ["reason", "starts_on", "ends_on"]
    date_hierarchy = "starts_on"
