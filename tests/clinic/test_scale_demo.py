"""`seed_demo --scale N`: the benchmark's clinic, checked at a small N."""

import io
import itertools
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Q

from courses.models import (
    LIVE_SESSION_STATUSES,
    CourseStatus,
    Injection,
    OutcomeScore,
    Preparation,
    PreparationComponent,
    SessionStatus,
    SideEffect,
    TreatmentCourse,
    TreatmentSession,
)
from courses.session_services import injected_volume, preparation_strengths, session_strengths
from patients.models import Consent, Patient, Screening, fold
from scheduling.models import WorkingHours


@pytest.fixture
def scale_50(db, settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_demo", scale=50, stdout=out)
    return out.getvalue()


def test_scale_seeding_creates_a_clinic_in_the_demo_proportions(scale_50):
    assert Patient.objects.count() == 50
    assert 40 <= Screening.objects.count() <= 50
    consents = Consent.objects.count()
    courses = TreatmentCourse.objects.count()
    sessions = TreatmentSession.objects.count()
    assert 30 <= consents <= 50
    # About two courses per patient, five sessions per course, three injections per visit.
    assert 1.2 * consents <= courses <= 4 * consents
    assert 3 * courses <= sessions <= 8 * courses
    completed = TreatmentSession.objects.filter(status=SessionStatus.COMPLETED).count()
    assert 2 * completed <= Injection.objects.count() <= 4 * completed
    # A visit injecting inside a joint and around it draws up two preparations (25% inside).
    assert 2 * completed <= PreparationComponent.objects.count() <= 5 * completed
    assert completed < Preparation.objects.count() < 2 * completed
    assert SideEffect.objects.exists() and OutcomeScore.objects.exists()
    assert set(TreatmentCourse.objects.values_list("status", flat=True)) >= {
        CourseStatus.COMPLETED,
        CourseStatus.ACTIVE,
    }
    assert "Scale data ready." in scale_50
    assert " patients\n" in scale_50 and "courses" in scale_50  # progress lines


def test_open_courses_have_their_remaining_sessions_booked_ahead(scale_50):
    active = TreatmentCourse.objects.filter(status=CourseStatus.ACTIVE).annotate(
        booked=Count("sessions", filter=Q(sessions__status=SessionStatus.SCHEDULED))
    )
    assert active.exists()
    for course in active:
        assert course.booked >= 1, course
    practitioners = {s.practitioner_id for s in TreatmentSession.objects.all()}
    assert WorkingHours.objects.filter(practitioner__in=practitioners).count() == 5 * len(practitioners)


def test_no_practitioner_or_patient_is_in_two_live_appointments_at_once(scale_50):
    for key in ("practitioner_id", "patient_id"):
        diaries = defaultdict(list)
        for session in TreatmentSession.objects.filter(status__in=LIVE_SESSION_STATUSES):
            diaries[getattr(session, key)].append((session.starts_at, session.ends_at))
        for slots in diaries.values():
            slots.sort()
            for (_, first_end), (second_start, _) in itertools.pairwise(slots):
                assert second_start >= first_end


def test_derived_columns_are_computed_as_the_services_would(scale_50):
    for patient in Patient.objects.all():
        assert patient.search_name == fold(
            f"{patient.given_name} {patient.family_name} {patient.preferred_name}"
        )
    completed = TreatmentSession.objects.filter(status=SessionStatus.COMPLETED).prefetch_related(
        "preparations__components__lot__product", "preparations__injections", "injections"
    )
    for session in completed:
        strengths = []
        for preparation in session.preparations.all():
            mix = preparation_strengths(preparation.components.all())
            assert preparation.final_dextrose_percent == mix.final_dextrose_percent
            assert mix.volume_ml >= injected_volume(preparation.injections.all())
            strengths.append(mix)
        summary = session_strengths(strengths)
        assert session.final_dextrose_percent == summary.final_dextrose_percent
        assert session.final_anaesthetic_percent == summary.final_anaesthetic_percent
        assert session.total_volume_ml == injected_volume(session.injections.all())
        assert all(injection.preparation_id for injection in session.injections.all())
        assert session.patient_id == session.course.patient_id


def test_every_row_passes_its_model_validation(scale_50):
    for model in (Patient, Screening, Consent, TreatmentCourse, TreatmentSession, SideEffect, OutcomeScore):
        for row in model.objects.all()[:200]:
            row.full_clean()


def test_seeding_twice_is_refused_with_a_clear_message(scale_50):
    with pytest.raises(CommandError, match="already here"):
        call_command("seed_demo", scale=50, stdout=io.StringIO())
    assert Patient.objects.count() == 50


def test_the_scale_option_needs_a_positive_number(db, settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_demo", scale=0)


def test_every_scale_visit_passes_the_diary_rules(scale_50):
    """The benchmark's diary is one the clinic could have booked: the same guards as every booking
    (scheduling.diary.visit_problems), past visits judged as when they were booked."""
    from courses.models import ProtocolSettings
    from scheduling import diary

    protocol = ProtocolSettings.load()
    courses = TreatmentCourse.objects.select_related("patient", "practitioner")
    for course in courses:
        sessions = list(course.sessions.select_related("practitioner").order_by("starts_at", "pk"))
        assert diary.visit_problems(course, sessions, protocol) == [], course
    # Public holidays are closures the diary knows about, as far back as the data goes.
    from scheduling.models import Closure

    first = TreatmentSession.objects.order_by("starts_at").first().starts_at.date()
    assert Closure.objects.filter(starts_on__lte=first).exists()
