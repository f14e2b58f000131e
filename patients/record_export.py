"""One patient's complete record, for the patient's right of access (JSON download and printable page).

Everything the clinic holds about the patient: demographics, screenings, consents (the scan's name, not its
bytes), every course with its extensions and scores, every session with its preparation (lots), injections
and side effects, and the patient's own questionnaires with their answers, the reactions they reported and
any urgent check-in. Voided entries are included and marked, since they are part of the record. A
questionnaire link's secret is not: only its digest is held, and it opens nothing after use.

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
    PatientSideEffectReport,
    Preparation,
    PreparationComponent,
    SideEffect,
    TreatmentCourse,
    TreatmentSession,
)
from patients.models import Consent, Screening
from questionnaires.models import Answer, Assignment, UrgentAlert

# Derived or internal columns that say nothing the other fields do not (and a link's secret digest).
SKIPPED_FIELDS = {"search_name", "phone_digits", "version", "token_hash"}
# Foreign keys to the record's own rows: their ids are kept, their labels would only repeat the nesting.
PARENT_FIELDS = {
    "patient",
    "course",
    "session",
    "reported_session",
    "attributed_session",
    "preparation",
    "assignment",
}


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

    # What a model's name is made of, read in the same query.
    NAMED_BY = {Lot: "product", OutcomeScore: "instrument", SideEffect: "term"}

    def fetch(self):
        for model, pks in self.wanted.items():
            queryset = model._base_manager.all()
            if model in self.NAMED_BY:
                queryset = queryset.select_related(self.NAMED_BY[model])
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
    assignments = list(Assignment.objects.filter(course__patient=patient).order_by("opens_at", "pk"))
    answers = list(Answer.objects.filter(assignment__course__patient=patient).order_by("assignment", "pk"))
    reports = list(
        PatientSideEffectReport.objects.filter(course__patient=patient).order_by("reported_on", "pk")
    )
    alerts = list(UrgentAlert.objects.filter(course__patient=patient).order_by("raised_at", "pk"))

    labels = _Labels()
    rows = [patient, *screenings, *consents, *courses, *extensions, *scores, *sessions]
    questionnaire_rows = (*assignments, *answers, *reports, *alerts)
    for obj in (*rows, *preparations, *components, *injections, *side_effects, *questionnaire_rows):
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
    answers_by_assignment = entries(answers, "assignment_id")
    questionnaires_by_course = defaultdict(list)
    for assignment in assignments:
        entry = _entry(assignment, labels)
        entry.children = {"answers": answers_by_assignment[assignment.pk]}
        name = labels.label(Assignment.questionnaire.field.related_model, assignment.questionnaire_id)
        entry.title = f"{name} · opens {_text(assignment.opens_at)} · {assignment.get_status_display()}"
        questionnaires_by_course[assignment.course_id].append(entry)
    reports_by_course = entries(reports, "course_id")
    alerts_by_course = entries(alerts, "course_id")

    course_entries = []
    for course in courses:
        entry = _entry(course, labels)
        condition = labels.label(type(course).condition.field.related_model, course.condition_id)
        entry.title = f"{condition} · from {_text(course.start_date)} · {course.get_status_display()}"
        entry.children = {
            "extensions": extensions_by_course[course.pk],
            "sessions": sessions_by_course[course.pk],
            "scores": scores_by_course[course.pk],
            "questionnaires": questionnaires_by_course[course.pk],
            "reported_side_effects": reports_by_course[course.pk],
            "urgent_check_ins": alerts_by_course[course.pk],
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
