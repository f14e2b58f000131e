"""The audit trail as the clinic reads it: field labels and values in the clinic's words, and for a patient
one timeline of the patient's own record and every record under it.

auditlog stores each change as raw text ("None", "True", a foreign key's id, a choice's code, and on
creation every reverse relation as "app.Model.None"); `readable_rows` turns a page of entries into rows of
(label, before, after) with blanks, yes/no, choice labels, names of related records and local times, in a
fixed number of queries per page (one per kind of related record named on it).
"""

import datetime
from collections import defaultdict

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst

from clinic.inputs import record_id

# Columns that say nothing a reader needs: the row's id, and who/when it was made (the entry says so).
HIDDEN_FIELDS = {"id", "version", "created_at", "created_by", "updated_at"}
BLANK = "(blank)"
ACTION_LABELS = {
    LogEntry.Action.CREATE: ("Created", "success"),
    LogEntry.Action.UPDATE: ("Changed", "primary"),
    LogEntry.Action.DELETE: ("Deleted", "danger"),
    LogEntry.Action.ACCESS: ("Opened", "secondary"),
}


def patient_records(patient):
    """{model: queryset of the ids (as text, like LogEntry.object_pk)} of every audited record under a
    patient: screenings, consents, courses with their extensions and scores, visits with their
    preparations, injections and side effects. Querysets, so the timeline is one query."""
    from courses.models import (
        CourseExtension,
        Injection,
        OutcomeScore,
        PreparationComponent,
        SideEffect,
        TreatmentCourse,
        TreatmentSession,
    )
    from patients.models import Consent, Screening

    def ids(model, **filters):
        manager = getattr(model, "all_objects", model._default_manager)
        return manager.filter(**filters).annotate(key=Cast("pk", CharField())).values("key")

    return {
        Screening: ids(Screening, patient=patient),
        Consent: ids(Consent, patient=patient),
        TreatmentCourse: ids(TreatmentCourse, patient=patient),
        CourseExtension: ids(CourseExtension, course__patient=patient),
        OutcomeScore: ids(OutcomeScore, course__patient=patient),
        TreatmentSession: ids(TreatmentSession, patient=patient),
        PreparationComponent: ids(PreparationComponent, session__patient=patient),
        Injection: ids(Injection, session__patient=patient),
        SideEffect: ids(SideEffect, reported_session__patient=patient),
    }


def timeline_entries(obj):
    """The change entries of a record and, for a patient, of every record under it, newest first."""
    from patients.models import Patient

    where = Q(content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk))
    if isinstance(obj, Patient):
        records = patient_records(obj)
        types = ContentType.objects.get_for_models(*records)
        for model, keys in records.items():
            where |= Q(content_type=types[model], object_pk__in=keys)
    return (
        LogEntry.objects.filter(where)
        .exclude(action=LogEntry.Action.ACCESS)
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-id")
    )


def _field(model, name):
    try:
        field = model._meta.get_field(name)
    except Exception:  # a field since removed from the model: shown under its stored name
        return None
    return field if field.concrete or field.many_to_many else False


def _is_blank(value):
    return value in (None, "", "None")


def _local(value):
    moment = parse_datetime(value)
    if moment is None:
        return value
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, datetime.UTC)
    return f"{timezone.localtime(moment):%-d %b %Y %H:%M}"


# What a record's name reads from other rows (its __str__), loaded with it.
NAME_RELATIONS = {
    "courses.treatmentsession": ("course__condition",),
    "courses.treatmentcourse": ("condition",),
    "courses.lot": ("product",),
    "courses.preparationcomponent": ("lot__product",),
    "courses.injection": ("site",),
    "courses.sideeffect": ("term",),
    "courses.outcomescore": ("instrument",),
    "patients.screening": ("patient",),
    "scheduling.workinghours": ("practitioner",),
}


class _Names:
    """Names of the related records a page of entries mentions, loaded in one query per model."""

    def __init__(self):
        self.wanted = defaultdict(set)
        self.found = {}

    def want(self, model, pk):
        self.wanted[model].add(pk)

    def load(self):
        for model, pks in self.wanted.items():
            manager = getattr(model, "all_objects", model._default_manager)
            rows = manager.select_related(*NAME_RELATIONS.get(model._meta.label_lower, ()))
            ids = [pk for pk in map(record_id, pks) if pk is not None]
            self.found[model] = {str(pk): str(obj) for pk, obj in rows.in_bulk(ids).items()}

    def name(self, model, pk):
        return self.found.get(model, {}).get(str(pk), f"#{pk} (no longer on record)")


def _value(field, value, names):
    if _is_blank(value):
        return BLANK
    if field is None:
        return str(value)
    if isinstance(field, models.BooleanField):
        return {"True": "Yes", "False": "No"}.get(value, value)
    if field.choices:
        return str({str(code): label for code, label in field.flatchoices}.get(str(value), value))
    if field.is_relation and field.many_to_one:
        return names.name(field.related_model, value)
    if isinstance(field, models.DateTimeField):
        return _local(value)
    if isinstance(field, models.DateField):
        day = parse_date(value)
        return f"{day:%-d %b %Y}" if day else value
    return str(value)


def _changes(entry, model):
    """[(field, label, before, after)] worth showing; on creation only the values given."""
    created = entry.action == LogEntry.Action.CREATE
    shown = []
    for name, change in (entry.changes_dict or {}).items():
        field = _field(model, name)
        if field is False or name in HIDDEN_FIELDS:
            continue
        label = capfirst(field.verbose_name) if field else name.replace("_", " ").capitalize()
        if isinstance(change, dict):  # a many-to-many change (a staff account's roles)
            verb = {"add": "Added", "delete": "Removed"}.get(change.get("operation"), "Set")
            shown.append((field, label, None, f"{verb}: {', '.join(change.get('objects', []))}"))
            continue
        before, after = [*change, None, None][:2]
        if created:
            if _is_blank(after) or after == "False":
                continue
            before = None
        shown.append((field, label, before, after))
    return shown


def readable_rows(entries):
    """Rows for the history page: who, when, what (the record, in a patient timeline), the changes."""
    names = _Names()
    pending = []
    for entry in entries:
        model = entry.content_type.model_class()
        changes = _changes(entry, model) if model else []
        for field, _, before, after in changes:
            if field and field.is_relation and field.many_to_one:
                for value in (before, after):
                    if not _is_blank(value):
                        names.want(field.related_model, value)
        pending.append((entry, model, changes))
    names.load()
    rows = []
    for entry, model, changes in pending:
        rows.append(
            {
                "entry": entry,
                "action": ACTION_LABELS[entry.action],
                "kind": capfirst(model._meta.verbose_name) if model else entry.content_type.name,
                "record": entry.object_repr,
                "changes": [
                    {
                        "label": label,
                        "before": None if before is None else _value(field, before, names),
                        "after": _value(field, after, names) if field or after is not None else BLANK,
                    }
                    for field, label, before, after in changes
                ],
            }
        )
    return rows
