"""A small fixed clinic whose outcome figures are worked out by hand in the tests (see `clinic_data`)."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db.models.signals import post_save
from django.utils import timezone

from clinic import roles
from clinic.changes import Change, announce
from courses.models import (
    CourseStatus,
    Injection,
    OutcomeInstrument,
    OutcomeScore,
    SessionStatus,
    SideEffect,
    StopReason,
    Timepoint,
    TreatmentCourse,
    TreatmentSession,
)
from outcomes import reports, versions
from tests.factories import (
    ConditionFactory,
    OutcomeScoreFactory,
    SideEffectFactory,
    SideEffectTermFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
)

KNEE = "Knee osteoarthritis"
ACHILLES = "Achilles tendinopathy"


class ClinicBuilder:
    """Builds courses with sessions on distinct times, so no diary rule is broken as the data grows."""

    def __init__(self):
        self.count = 0
        self.base = timezone.localdate() - datetime.timedelta(days=300)

    def course(self, *, sessions=(), start=None, **fields):
        self.count += 1
        start = start or self.base
        course = TreatmentCourseFactory(start_date=start, **fields)
        made = []
        for sequence, (day, pain, dextrose, anaesthetic) in enumerate(sessions, start=1):
            made.append(self.session(course, sequence, day, pain, dextrose=dextrose, anaesthetic=anaesthetic))
        return course, made

    def session(self, course, sequence, day, pain, *, dextrose=None, anaesthetic=None, status=None):
        when = datetime.datetime.combine(
            course.start_date + datetime.timedelta(days=day), datetime.time(7, 0)
        )
        starts_at = timezone.make_aware(when) + datetime.timedelta(minutes=30 * self.count)
        extra = {"completed": True, "pain_pre": pain} if status is None else {"status": status}
        if status == SessionStatus.CANCELLED:
            extra["cancel_reason"] = "Patient unwell"
        return TreatmentSessionFactory(
            course=course,
            sequence=sequence,
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(minutes=25),
            final_dextrose_percent=dextrose,
            final_anaesthetic_percent=anaesthetic,
            **extra,
        )


def build_clinic(practitioner, builder=None):
    """Eight courses; the comments give each one's figures (NRS MCID = 2 points)."""
    b = builder or ClinicBuilder()
    other = UserFactory(role=roles.PRACTITIONER, first_name="Jo", last_name="Other")
    knee, achilles = ConditionFactory(name=KNEE), ConditionFactory(name=ACHILLES)
    koos = OutcomeInstrument.objects.get(code="KOOS")
    visa = OutcomeInstrument.objects.get(code="VISA-A")
    nrs = OutcomeInstrument.objects.get(code="NRS")
    flare = SideEffectTermFactory(name="Post-injection pain / flare")
    bruising = SideEffectTermFactory(name="Bruising")
    infection = SideEffectTermFactory(name="Injection-site infection")
    d15, d12, d25, d30 = Decimal("15"), Decimal("12.5"), Decimal("25"), Decimal("30")

    # C1 knee, mine, completed: 8 -> NRS follow-up 3 (change -5: responder both ways); KOOS 40 -> 55 (+15).
    c1, s1 = b.course(
        condition=knee,
        practitioner=practitioner,
        status=CourseStatus.COMPLETED,
        baseline_pain=8,
        planned_sessions=3,
        outcome_instrument=koos,
        baseline_instrument_score=Decimal("40"),
        sessions=[(0, 8, d15, Decimal("0.1")), (14, 6, d15, None), (28, 4, d25, None)],
    )
    OutcomeScoreFactory(
        course=c1,
        instrument=nrs,
        score=3,
        timepoint=Timepoint.WEEK_12,
        recorded_on=c1.start_date + datetime.timedelta(days=112),
    )
    OutcomeScoreFactory(
        course=c1,
        instrument=koos,
        score=55,
        timepoint=Timepoint.WEEK_12,
        recorded_on=c1.start_date + datetime.timedelta(days=112),
    )
    SideEffectFactory(attributed_session=s1[0], term=flare, severity=1)
    SideEffectFactory(attributed_session=s1[2], term=flare, severity=2)

    # C2 knee, mine, stopped (no response), a protocol deviation: 6 -> 6 (no change).
    c2, s2 = b.course(
        condition=knee,
        practitioner=practitioner,
        status=CourseStatus.STOPPED,
        stop_reason=StopReason.NO_RESPONSE,
        baseline_pain=6,
        planned_sessions=6,
        is_protocol_deviation=True,
        sessions=[(0, 6, d12, None), (20, 6, d12, None)],
    )
    SideEffectFactory(attributed_session=s2[0], term=bruising, severity=1)
    voided = SideEffectFactory(attributed_session=s2[1], term=flare, severity=3)
    voided.void(by=practitioner, reason="Entered on the wrong patient")

    # C3 achilles, other's, completed, baseline 0: evaluable for MCID (no), not for 50 %; VISA-A 50 -> 60.
    c3, s3 = b.course(
        condition=achilles,
        practitioner=other,
        status=CourseStatus.COMPLETED,
        baseline_pain=0,
        planned_sessions=3,
        outcome_instrument=visa,
        baseline_instrument_score=Decimal("50"),
        sessions=[(0, 0, None, None), (14, 1, None, None), (40, 0, None, None)],
    )
    OutcomeScoreFactory(
        course=c3,
        instrument=visa,
        score=60,
        timepoint=Timepoint.WEEK_6,
        recorded_on=c3.start_date + datetime.timedelta(days=82),
    )
    SideEffectFactory(
        attributed_session=s3[1],
        term=infection,
        severity=3,
        serious=True,
        serious_criterion="hospitalisation",
    )

    # C4 achilles, other's, completed after one session, no follow-up: lost. Its only NRS score is voided.
    c4, _ = b.course(
        condition=achilles,
        practitioner=other,
        status=CourseStatus.COMPLETED,
        baseline_pain=7,
        planned_sessions=4,
        sessions=[(0, 7, None, None)],
    )
    b.session(c4, 2, 14, None, status=SessionStatus.CANCELLED)
    score = OutcomeScoreFactory(
        course=c4,
        instrument=nrs,
        score=1,
        timepoint=Timepoint.WEEK_6,
        recorded_on=c4.start_date + datetime.timedelta(days=60),
    )
    score.void(by=other, reason="Wrong course")

    # C5 knee, other's, stopped as lost to follow-up although a later score exists: lost, not evaluable.
    c5, _ = b.course(
        condition=knee,
        practitioner=other,
        status=CourseStatus.STOPPED,
        stop_reason=StopReason.LOST_TO_FOLLOW_UP,
        baseline_pain=9,
        planned_sessions=6,
        sessions=[(0, 9, None, None), (14, 5, None, None)],
    )

    # C6 knee, other's, active since this month, one session: awaiting follow-up.
    month_start = timezone.localdate().replace(day=1)
    c6, _ = b.course(
        condition=knee,
        practitioner=other,
        status=CourseStatus.ACTIVE,
        baseline_pain=5,
        start=month_start,
        sessions=[(0, 5, None, None)],
    )

    # C7 achilles, mine, planned, no sessions: awaiting follow-up.
    c7, _ = b.course(
        condition=achilles, practitioner=practitioner, status=CourseStatus.PLANNED, baseline_pain=4
    )

    # C8 achilles, mine, active: 10 -> session 2 score 7 and an NRS score 8 the same day (the score wins):
    # change -2 = MCID responder, not a 50 % responder. A baseline-timepoint NRS score never counts.
    c8, _ = b.course(
        condition=achilles,
        practitioner=practitioner,
        status=CourseStatus.ACTIVE,
        baseline_pain=10,
        sessions=[(0, 10, None, None), (14, 7, d30, None)],
    )
    OutcomeScoreFactory(
        course=c8,
        instrument=nrs,
        score=8,
        timepoint=Timepoint.BETWEEN,
        recorded_on=c8.start_date + datetime.timedelta(days=14),
    )
    OutcomeScoreFactory(
        course=c8, instrument=nrs, score=2, timepoint=Timepoint.BASELINE, recorded_on=c8.start_date
    )
    return {"c1": c1, "c2": c2, "c3": c3, "c4": c4, "c5": c5, "c6": c6, "c7": c7, "c8": c8, "other": other}


@pytest.fixture
def clinic_data(practitioner):
    return build_clinic(practitioner)


def _refresh_summary(sender, instance, **kwargs):
    if sender is TreatmentCourse:
        course_id = instance.pk
    elif sender is Injection:
        course_id = instance.session.course_id
    elif sender is SideEffect:
        course_id = instance.attributed_session.course_id
    else:
        course_id = instance.course_id
    # What a service announces after such a write: the summary follows, and the report version.
    announce(Change.TREATMENT, Change.SCORES, Change.SIDE_EFFECTS, courses=[course_id])


def admin_save(obj, **changes):
    """What the catalogue admin does when a clinic admin saves a change (its save announces it)."""
    from django.contrib import admin
    from django.forms.models import model_to_dict
    from django.test import RequestFactory

    model_admin = admin.site._registry[type(obj)]
    request = RequestFactory().post("/")
    request.user = UserFactory(role="Clinic admin")
    form_class = model_admin.get_form(request, obj, change=True)
    form = form_class({**model_to_dict(obj, fields=form_class.base_fields), **changes}, instance=obj)
    assert form.is_valid(), form.errors
    model_admin.save_model(request, form.save(commit=False), form, True)


@pytest.fixture(autouse=True)
def summaries_follow_factory_rows(request):
    """Factories save rows directly, past the services that refresh the outcome summary: refresh on save.

    The services' own refresh is proven in test_summary.py; here the hand-counted data sets just need the
    summary the services would have written (the services announce their changes: clinic.changes).
    """
    if getattr(request.module, "SERVICES_ONLY", False):
        # The module proves the services' own refresh: no help from saves.
        yield
        return
    connections = [
        (model, f"outcomes-test-{model.__name__}")
        for model in (TreatmentCourse, TreatmentSession, OutcomeScore, Injection, SideEffect)
    ]
    for model, uid in connections:
        post_save.connect(_refresh_summary, sender=model, dispatch_uid=uid)
    yield
    for model, uid in connections:
        post_save.disconnect(sender=model, dispatch_uid=uid)


@pytest.fixture(autouse=True)
def reports_start_empty_and_every_write_bumps(monkeypatch):
    """No cached report outlives its test; and each write bumps the report version.

    A test runs in one transaction that never commits, so "at most once per transaction" would make its
    first write the only one that bumps; test_report_cache.py proves that rule with real commits.
    """
    caches[reports.ALIAS].clear()
    # Bumps wait for the transaction to commit, and a test's transaction never does: bump at once.
    monkeypatch.setattr(versions, "report_data_changed", versions._bump)
    yield
    caches[reports.ALIAS].clear()
