import random
from decimal import Decimal

import pytest
from django.db.models import Count, Max, Min, Q

import courses.demo
import patients.demo
from clinic.demo import seed_users
from courses import selectors
from courses.diary import overlapping_sessions
from courses.models import (
    LIVE_SESSION_STATUSES,
    CourseStatus,
    Injection,
    PreparationComponent,
    SessionStatus,
    SideEffect,
    TreatmentCourse,
    TreatmentSession,
)


@pytest.fixture
def demo(db):
    users = seed_users()
    rng = random.Random(2026)
    patients.demo.seed(users=users, rng=rng, patients=80)
    courses.demo.seed(users=users, rng=rng, patients=80)
    return users


def test_demo_courses_cover_conditions_statuses_and_a_few_deviations(demo):
    assert TreatmentCourse.objects.values("condition").distinct().count() >= 8
    statuses = set(TreatmentCourse.objects.values_list("status", flat=True))
    assert {CourseStatus.ACTIVE, CourseStatus.COMPLETED, CourseStatus.STOPPED} <= statuses
    assert not TreatmentCourse.objects.filter(status=CourseStatus.STOPPED, stop_reason="").exists()
    deviations = TreatmentCourse.objects.filter(is_protocol_deviation=True)
    assert deviations.exists()
    assert not deviations.filter(deviation_reason="").exists()
    planned = TreatmentCourse.objects.aggregate(low=Min("planned_sessions"), high=Max("planned_sessions"))
    assert planned["low"] >= 3


def test_demo_courses_are_valid_records(demo):
    for course in TreatmentCourse.objects.all()[:40]:
        course.full_clean()
    for session in TreatmentSession.objects.select_related("course")[:60]:
        session.full_clean()
    for injection in Injection.objects.select_related("site")[:200]:
        injection.full_clean()


def test_demo_sessions_carry_realistic_preparations_and_volumes(demo):
    completed = TreatmentSession.objects.filter(status=SessionStatus.COMPLETED)
    assert completed.exists()
    assert not completed.filter(
        Q(final_dextrose_percent__isnull=True) | Q(total_volume_ml__isnull=True)
    ).exists()
    assert completed.aggregate(low=Min("final_dextrose_percent"))["low"] >= Decimal("12")
    assert completed.aggregate(high=Max("final_dextrose_percent"))["high"] <= Decimal("25.5")
    volumes = Injection.objects.aggregate(low=Min("volume_ml"), high=Max("volume_ml"))
    assert volumes["low"] >= Decimal("0.5") and volumes["high"] <= Decimal("6")
    assert not Injection.objects.filter(site__needs_spinal_level=True, spinal_level="").exists()
    knee = Injection.objects.filter(session__course__condition__name="Knee osteoarthritis")
    assert set(knee.values_list("site__region", flat=True)) == {"knee"}
    for component in PreparationComponent.objects.select_related("lot", "session")[:200]:
        assert component.lot.expiry_date >= component.session.starts_at.date()


def test_demo_side_effects_and_responders_are_in_published_ranges(demo):
    sessions = TreatmentSession.objects.filter(status=SessionStatus.COMPLETED).count()
    flares = SideEffect.objects.filter(term__name="Post-injection pain / flare").count()
    assert 0.15 < flares / sessions < 0.45
    nrs = selectors.pain_instrument()
    closed = TreatmentCourse.objects.filter(status=CourseStatus.COMPLETED)
    responders = [
        selectors.course_responses(
            c, selectors.course_sessions(c, clinical=False), selectors.course_scores(c), nrs
        )[0].is_responder
        for c in closed
    ]
    assert 0.35 <= sum(responders) / len(responders) <= 0.75


def test_demo_sessions_never_double_book_anyone(demo):
    for session in TreatmentSession.objects.filter(status__in=LIVE_SESSION_STATUSES)[:150]:
        clash = overlapping_sessions(
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            practitioner=session.practitioner,
            patient=session.patient,
            exclude_pks=[session.pk],
        )
        assert not clash.exists()
    duplicates = (
        TreatmentSession.objects.filter(status__in=LIVE_SESSION_STATUSES)
        .values("course", "sequence")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not duplicates.exists()


def test_a_recalled_lot_reaches_a_few_demo_patients(demo):
    recipients = PreparationComponent.objects.filter(lot__recalled=True).values("session__patient").distinct()
    assert 0 < recipients.count() < TreatmentCourse.objects.count() / 2


def test_the_demo_seed_runs_once(demo):
    before = (TreatmentCourse.objects.count(), TreatmentSession.objects.count())
    courses.demo.seed(users=demo, rng=random.Random(1), patients=80)
    assert (TreatmentCourse.objects.count(), TreatmentSession.objects.count()) == before
