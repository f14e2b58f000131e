"""Clinic admins edit the instruments item by item and the schedule here; assignments are read-only."""

from django.contrib import admin

from clinic.admin import NoDeleteAdmin
from questionnaires.models import (
    Assignment,
    ItemChoice,
    LinkLock,
    Questionnaire,
    QuestionnaireItem,
    ScheduleRule,
)


class ItemInline(admin.TabularInline):
    model = QuestionnaireItem
    extra = 0
    can_delete = False
    show_change_link = True
    fields = (
        "order",
        "link_id",
        "text",
        "answer_type",
        "min_value",
        "max_value",
        "required",
        "scored",
        "reversed",
    )


@admin.register(Questionnaire)
class QuestionnaireAdmin(NoDeleteAdmin):
    list_display = ("name", "code", "version", "scoring", "instrument", "origin", "active")
    list_filter = ("origin", "scoring", "active")
    search_fields = ("name", "code")
    inlines = [ItemInline]


class ChoiceInline(admin.TabularInline):
    model = ItemChoice
    extra = 0
    can_delete = False


@admin.register(QuestionnaireItem)
class QuestionnaireItemAdmin(NoDeleteAdmin):
    list_display = ("link_id", "questionnaire", "answer_type", "scored", "reversed", "order")
    list_filter = ("questionnaire",)
    inlines = [ChoiceInline]


@admin.register(ScheduleRule)
class ScheduleRuleAdmin(NoDeleteAdmin):
    list_display = ("__str__", "anchor", "questionnaire", "opens_hours", "closes_hours", "active")
    list_filter = ("anchor", "active")


class ReadOnlyAdmin(NoDeleteAdmin):
    """Written only by the schedule and the patient's answers (questionnaires.services)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ("course", "questionnaire", "anchor", "opens_at", "closes_at", "status")
    list_filter = ("status", "anchor", "questionnaire")
    exclude = ("token_hash",)


@admin.register(LinkLock)
class LinkLockAdmin(ReadOnlyAdmin):
    list_display = ("assignment", "locked_at", "locked_until")
