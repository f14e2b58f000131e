"""One patient's complete record, for the patient's right of access (JSON download and printable page).

Everything the clinic holds about the patient: demographics, screenings, consents (the scan's name, not its
bytes), every course with its extensions and scores, every session with its preparation (lots), injections
and side effects. Voided entries are included and marked, since they are part of the record.

`patient_record()` runs a fixed number of queries however long the history: one per kind of row, then one
per kind of referenced catalogue or staff member (their names), never one per row.
"""

import datetime
import decimal
import os
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone

from courses.models import (
    CourseExtension,
    Injection,
    Lot,
    OutcomeScore,
    Preparation,
    PreparationComponent,
    SideEffect,
    TreatmentCourse,
    TreatmentSession,
)
from patients.models import Consent, Screening

# Derived or internal columns that say nothing the other fields do not.
SKIPPED_FIELDS = {"search_name", "phone_digits", "version"}
# Foreign keys to the record's own rows: their ids are kept, their labels would only repeat the nesting.
PARENT_FIELDS = {"patient", "course", "session", "reported_session", "attributed_session", "preparation"}


@dataclass
class Field:
    name: str
    label: str
    value: object  # JSON-ready
    text: str  # for the printable page
    printed: bool = True  # False for JSON-only detail (row ids, a choice's code beside its meaning)


@dataclass
class Entry:
    """One row of the record with its fields, ready for both JSON and the page."""

    obj: models.Model
    title: str = ""
    fields: list = field(default_factory=list)
    children: dict = field(default_factory=dict)  # name -> list of Entry

    @property
    def voided(self):
        return getattr(self.obj, "voided_at", None) is not None

    def as_dict(self):
        data = {f.name: f.value for f in self.fields}
        if hasattr(self.obj, "voided_at"):
            data["voided"] = self.voided
        for name, entries in self.children.items():
            data[name] = [entry.as_dict() for entry in entries]
        return data


@dataclass
class PatientRecord:
    patient: Entry
    screenings: list
    consents: list
    courses: list
    exported_at: datetime.datetime
    exported_by: str

    def as_dict(self):
        return {
            "format": "ProloTrack patient record, version 1",
            "exported_at": self.exported_at.isoformat(),
            "exported_by": self.exported_by,
            "patient": self.patient.as_dict(),
            "screenings": [entry.as_dict() for entry in self.screenings],
            "consents": [entry.as_dict() for entry in self.consents],
            "courses": [entry.as_dict() for entry in self.courses],
        }


def _json_value(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _text(value):
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.datetime):
        return f"{timezone.localtime(value):%d %b %Y %H:%M}" if timezone.is_aware(value) else str(value)
    if isinstance(value, datetime.date):
        return f"{value:%d %b %Y}"
    return str(value)


def _concrete_fields(model):
    return [f for f in model._meta.concrete_fields if f.name not in SKIPPED_FIELDS]


class _Labels:
    """Names of the staff and catalogue rows the record points at, fetched in one query per model."""

    def __init__(self):
        self.wanted = defaultdict(set)
        self.found = {}

    def want(self, obj):
        for f in _concrete_fields(type(obj)):
            if isinstance(f, models.ForeignKey) and f.name not in PARENT_FIELDS:
                pk = getattr(obj, f.attname)
                if pk is not None:
                    self.wanted[f.related_model].add(pk)

    def fetch(self):
        for model, pks in self.wanted.items():
            queryset = model._base_manager.all()
            if model is Lot:
                queryset = queryset.select_related("product")
            self.found[model] = {pk: str(obj) for pk, obj in queryset.in_bulk(pks).items()}

    def label(self, model, pk):
        return self.found.get(model, {}).get(pk, f"#{pk}")


def _entry(obj, labels):
    entry = Entry(obj)
    for f in _concrete_fields(type(obj)):
        label = str(f.verbose_name)
        if isinstance(f, models.ForeignKey):
            pk = getattr(obj, f.attname)
            entry.fields.append(Field(f.attname, f"{label} (id)", pk, _text(pk), printed=False))
            if f.name not in PARENT_FIELDS:
                name = labels.label(f.related_model, pk) if pk is not None else None
                entry.fields.append(Field(f.name, label, name, _text(name)))
            continue
        value = getattr(obj, f.attname)
        if isinstance(f, models.FileField):
            # The scan's name only: the record says a scan exists; the file itself is downloaded separately.
            name = os.path.basename(value.name) if value else ""
            entry.fields.append(Field(f.name, label, name, _text(name)))
            continue
        text = _text(getattr(obj, f"get_{f.name}_display")() if f.choices else value)
        entry.fields.append(Field(f.name, label, _json_value(value), text))
        if f.choices:
            entry.fields.append(Field(f"{f.name}_display", f"{label} (meaning)", text, text, printed=False))
    return entry


def patient_record(patient, *, exported_by=""):
    """The patient's whole record (voided entries included and marked) in a fixed number of queries."""
    screenings = list(Screening.all_objects.filter(patient=patient).order_by("screened_on", "pk"))
    consents = list(Consent.all_objects.filter(patient=patient).order_by("consented_on", "pk"))
    courses = list(TreatmentCourse.objects.filter(patient=patient).order_by("start_date", "pk"))
    extensions = list(CourseExtension.objects.filter(course__patient=patient).order_by("created_at", "pk"))
    scores = list(OutcomeScore.all_objects.filter(course__patient=patient).order_by("recorded_on", "pk"))
    sessions = list(TreatmentSession.objects.filter(patient=patient).order_by("starts_at", "pk"))
    preparations = list(Preparation.all_objects.filter(session__patient=patient).order_by("pk"))
    components = list(PreparationComponent.all_objects.filter(session__patient=patient).order_by("pk"))
    injections = list(Injection.all_objects.filter(session__patient=patient).order_by("pk"))
    side_effects = list(
        SideEffect.all_objects.filter(attributed_session__patient=patient).order_by("onset_date", "pk")
    )

    labels = _Labels()
    rows = [patient, *screenings, *consents, *courses, *extensions, *scores, *sessions]
    for obj in (*rows, *preparations, *components, *injections, *side_effects):
        labels.want(obj)
    labels.fetch()

    def entries(objs, key):
        grouped = defaultdict(list)
        for obj in objs:
            grouped[getattr(obj, key)].append(_entry(obj, labels))
        return grouped

    preparations_by_session = entries(preparations, "session_id")
    components_by_session = entries(components, "session_id")
    injections_by_session = entries(injections, "session_id")
    effects_by_session = entries(side_effects, "attributed_session_id")
    sessions_by_course = defaultdict(list)
    for session in sessions:
        entry = _entry(session, labels)
        entry.children = {
            "preparations": preparations_by_session[session.pk],
            "preparation": components_by_session[session.pk],
            "injections": injections_by_session[session.pk],
            "side_effects": effects_by_session[session.pk],
        }
        status = session.get_status_display()
        entry.title = f"Session {session.sequence} · {_text(session.starts_at)} · {status}"
        sessions_by_course[session.course_id].append(entry)
    extensions_by_course = entries(extensions, "course_id")
    scores_by_course = entries(scores, "course_id")

    course_entries = []
    for course in courses:
        entry = _entry(course, labels)
        condition = labels.label(type(course).condition.field.related_model, course.condition_id)
        entry.title = f"{condition} · from {_text(course.start_date)} · {course.get_status_display()}"
        entry.children = {
            "extensions": extensions_by_course[course.pk],
            "sessions": sessions_by_course[course.pk],
            "scores": scores_by_course[course.pk],
        }
        course_entries.append(entry)

    return PatientRecord(
        patient=_entry(patient, labels),
        screenings=[_entry(s, labels) for s in screenings],
        consents=[_entry(c, labels) for c in consents],
        courses=course_entries,
        exported_at=timezone.now(),
        exported_by=str(exported_by),
    )
