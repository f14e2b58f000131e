from django.contrib import admin

from scheduling.models import Closure, WorkingHours

# Calendar feeds are left out on purpose: a feed's token is its owner's secret, shown only to them.


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["practitioner", "weekday", "starts_at", "ends_at"]
    list_filter = ["weekday", "practitioner"]


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["reason", "starts_on", "ends_on"]
    date_hierarchy = "starts_on"
