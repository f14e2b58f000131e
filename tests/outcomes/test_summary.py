"""The per-course outcome summary equals a fresh rebuild after every service that writes its inputs."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from courses import services
from courses.models import (
    CourseStatus,
    OutcomeInstrument,
    SessionStatus,
    StopReason,
    Timepoint,
    TreatmentCourse,
)
from courses.session_services import session_record
from outcomes.models import CourseOutcome, CourseSessionCount, CourseTimepoint, TimepointTally
from outcomes.summary import course_outcome_refresh, course_outcomes_rebuild
from scheduling.diary import visit_cancel
from tests.factories import (
    ConditionFactory,
    PatientFactory,
    ScreeningFactory,
    SideEffectTermFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)
from tests.outcomes.conftest import ClinicBuilder, admin_save, build_clinic

# Rows here are written by the services alone (no refresh-on-save helper from conftest).
SERVICES_ONLY = True


def stored(course):
    return CourseOutcome.objects.filter(course=course).values().first()


def counts(course=None):
    rows = CourseSessionCount.objects.all() if course is None else course.session_counts.all()
    return sorted(
        rows.values_list("course_id", "dimension", "key", "sessions", "serious", "total", "total_sq"),
        key=lambda row: row[:3],
    )


def timepoint_values(course=None):
    rows = CourseTimepoint.objects.all() if course is None else course.timepoint_values.all()
    fields = [f.attname for f in CourseTimepoint._meta.concrete_fields if f.attname != "id"]
    return sorted(rows.values_list(*fields), key=lambda row: row[:3])


def tallies():
    """The clinic's stored responder tallies that count something: a refresh may leave a row at zero where
    the courses it counted have moved on, and a rebuild has no such row."""
    sums = ("scored", "unscheduled", "mcid", "half_evaluable", "half", "improvement_sum", "improvement_sq")
    emptied = TimepointTally.objects.filter(treated=0)
    assert not emptied.exclude(**dict.fromkeys(sums, 0)).exists()
    fields = [f.attname for f in TimepointTally._meta.concrete_fields if f.attname != "id"]
    return sorted(TimepointTally.objects.exclude(treated=0).values_list(*fields))


def assert_equal_to_a_rebuild(course):
    before, before_counts, before_values = stored(course), counts(course), timepoint_values(course)
    before_tallies = tallies()
    course_outcomes_rebuild()
    assert stored(course) == before
    assert counts(course) == before_counts
    assert timepoint_values(course) == before_values
    assert tallies() == before_tallies
    return before


@pytest.fixture
def course(practitioner):
    course = TreatmentCourseFactory(
        practitioner=practitioner,
        status=CourseStatus.ACTIVE,
        baseline_pain=8,
        start_date=timezone.localdate() - datetime.timedelta(days=30),
    )
    ScreeningFactory(patient=course.patient, screened_by=practitioner)
    TreatmentSessionFactory(
        course=course,
        sequence=1,
        completed=True,
        pain_pre=8,
        starts_at=timezone.make_aware(datetime.datetime.combine(course.start_date, datetime.time(9))),
        final_dextrose_percent=Decimal("15"),
    )
    course_outcomes_rebuild()
    return course


def log_visit(course, user, pain):
    visit = TreatmentSessionFactory(
        course=course,
        sequence=2,
        status=SessionStatus.CHECKED_IN,
        starts_at=timezone.make_aware(
            datetime.datetime.combine(course.start_date + datetime.timedelta(days=16), datetime.time(9))
        ),
    )
    return session_record(
        session=visit,
        data={"pain_pre": pain, "complete": True},
        components=[],
        injections=[],
        side_effects=[],
        recorded_by=user,
        expected_version=visit.version,
        confirmations={"spacing": "Fits the patient's holiday", "screening": "Checked", "count": "Planned"},
    )


def test_logging_a_session_refreshes_the_summary_in_the_same_save(course, practitioner):
    log_visit(course, practitioner, pain=5)

    summary = assert_equal_to_a_rebuild(course)
    assert summary["sessions_received"] == 2
    assert summary["latest_pain"] == Decimal("5")
    assert summary["max_dextrose"] == Decimal("15.00")
    # Session 1 had 15 % dextrose; session 2 was logged without a preparation.
    # Session 1 on day 0, session 2 on day 16: one interval of 16 days.
    # Pain 8 before session 1 and 5 before session 2 (day 16: week 2, the "1–2" window).
    assert [row[1:] for row in counts(course)] == [
        ("band", "12_5_20", 1, 0, None, None),
        ("band", "none", 1, 0, None, None),
        ("gap", "16", 1, 0, None, None),
        ("pain_seq", "1", 1, 0, Decimal("8"), Decimal("64")),
        ("pain_seq", "2", 1, 0, Decimal("5"), Decimal("25")),
        ("pain_week", "1", 1, 0, Decimal("5"), Decimal("25")),
    ]


def test_recording_and_voiding_a_score_refresh_the_summary(course, practitioner):
    nrs = OutcomeInstrument.objects.get(code=OutcomeInstrument.PAIN_NRS_CODE)

    score = services.outcome_score_record(
        course=course,
        instrument=nrs,
        score=Decimal("3"),
        timepoint=Timepoint.BETWEEN,
        recorded_by=practitioner,
    )
    summary = assert_equal_to_a_rebuild(course)
    assert (summary["latest_pain"], summary["latest_pain_on"]) == (Decimal("3"), timezone.localdate())

    services.outcome_score_void(score=score, by=practitioner, reason="Wrong course")
    assert assert_equal_to_a_rebuild(course)["latest_pain"] is None


def test_changing_the_course_instrument_refreshes_its_latest_score(course, practitioner):
    koos = OutcomeInstrument.objects.get(code="KOOS")
    services.outcome_score_record(
        course=course,
        instrument=koos,
        score=Decimal("60"),
        timepoint=Timepoint.WEEK_6,
        recorded_by=practitioner,
    )
    assert stored(course)["instrument_latest"] is None

    services.course_update(
        course=course,
        updated_by=practitioner,
        outcome_instrument=koos,
        baseline_instrument_score=Decimal("40"),
    )

    assert assert_equal_to_a_rebuild(course)["instrument_latest"] == Decimal("60")


def test_closing_extending_and_cancelling_leave_a_summary_that_still_matches(course, practitioner):
    log_visit(course, practitioner, pain=4)
    booked = TreatmentSessionFactory(course=course, sequence=3)
    visit_cancel(session=booked, reason="Patient unwell", by=practitioner)
    services.course_extend(
        course=course, by=practitioner, to_sessions=course.planned_sessions + 1, reason="Slow"
    )
    services.course_stop(course=course, by=practitioner, stop_reason=StopReason.LOST_TO_FOLLOW_UP)

    assert assert_equal_to_a_rebuild(course)["latest_pain"] == Decimal("4")


def test_a_refreshed_row_equals_the_rebuilt_row_for_every_course_of_the_hand_counted_clinic(practitioner):
    build_clinic(practitioner, ClinicBuilder())
    course_outcomes_rebuild()
    rebuilt = {row["course_id"]: row for row in CourseOutcome.objects.values()}
    rebuilt_counts, rebuilt_values, rebuilt_tallies = counts(), timepoint_values(), tallies()
    TimepointTally.objects.all().delete()
    CourseTimepoint.objects.all().delete()
    CourseOutcome.objects.all().delete()
    CourseSessionCount.objects.all().delete()

    for course in TreatmentCourse.objects.all():
        course_outcome_refresh(course)

    assert {row["course_id"]: row for row in CourseOutcome.objects.values()} == rebuilt
    assert counts() == rebuilt_counts
    assert timepoint_values() == rebuilt_values
    assert tallies() == rebuilt_tallies
    # Seven treated courses × five timepoints on the NRS, and C1 (KOOS) and C3 (VISA-A) on their own measure.
    assert len(rebuilt_values) == 7 * 5 + 2 * 5
    assert ("band", "12_5_20") in {row[1:3] for row in rebuilt_counts}
    assert len(rebuilt) == TreatmentCourse.objects.count() == 8


def test_the_rebuild_command_restores_a_summary_written_past_the_services(course, practitioner):
    log_visit(course, practitioner, pain=5)
    CourseOutcome.objects.filter(course=course).update(latest_pain=None, sessions_received=0)
    out = io.StringIO()

    call_command("outcomes_rebuild", stdout=out)

    assert stored(course)["latest_pain"] == Decimal("5") and stored(course)["sessions_received"] == 2
    assert "rebuilt for 1 courses" in out.getvalue()


def test_a_new_course_has_its_summary_at_once(practitioner):
    course = services.course_create(
        patient=PatientFactory(),
        condition=ConditionFactory(),
        body_region="knee",
        laterality="left",
        practitioner=practitioner,
        baseline_pain=6,
        created_by=practitioner,
    )

    summary = assert_equal_to_a_rebuild(course)
    assert summary["awaiting"] and not summary["evaluable"] and summary["sessions_received"] == 0


def _effect(attributed, term):
    return {
        "term": term,
        "attributed_session": attributed,
        "onset_date": timezone.localdate(),
        "resolved_date": None,
        "severity": 2,
        "serious": False,
        "serious_criterion": "",
        "site": None,
        "laterality": "",
        "action_taken": "none",
        "outcome": "resolved",
        "relatedness": "possibly",
        "notes": "",
    }


def test_a_side_effect_attributed_to_another_course_refreshes_that_courses_counts(course, practitioner):
    other = TreatmentCourseFactory(
        patient=course.patient, practitioner=practitioner, status=CourseStatus.ACTIVE
    )
    visit = TreatmentSessionFactory(
        course=other, sequence=1, status=SessionStatus.CHECKED_IN, starts_at=timezone.now()
    )
    first = course.sessions.get(sequence=1)
    term = SideEffectTermFactory(name="Bruising")

    # Reported at the other course's visit, which is saved but not completed: no service refresh of `course`.
    visit = session_record(
        session=visit,
        data={"notes": "Bruise from the knee injection"},
        components=[],
        injections=[],
        side_effects=[_effect(first, term)],
        recorded_by=practitioner,
        expected_version=visit.version,
        confirmations={},
    )

    assert_equal_to_a_rebuild(course)
    assert (f"{term.pk}:2", 1) in {(row[2], row[3]) for row in counts(course) if row[1] == "se_term"}

    effect = first.side_effects.get()
    session_record(
        session=visit,
        data={},
        components=[],
        injections=[],
        side_effects=[{"id": effect.pk, "void_reason": "Entered twice"}],
        recorded_by=practitioner,
        expected_version=visit.version,
        confirmations={},
    )

    assert_equal_to_a_rebuild(course)
    assert not [row for row in counts(course) if row[1].startswith("se_")]


def test_an_mcid_edit_recomputes_every_courses_flags(course, practitioner):
    log_visit(course, practitioner, pain=6)  # 8 -> 6: 2 points, the NRS's absolute MCID
    assert stored(course)["responder_mcid"]
    nrs = OutcomeInstrument.objects.get(code=OutcomeInstrument.PAIN_NRS_CODE)

    admin_save(nrs, mcid_absolute=Decimal("3"))

    # 2 points is 25 % of 8: under both the new absolute MCID and the 30 % relative one.
    assert not assert_equal_to_a_rebuild(course)["responder_mcid"]


def test_completing_a_course_moves_it_from_awaiting_to_lost(course, practitioner):
    assert stored(course)["awaiting"]

    services.course_complete(course=course, by=practitioner)

    summary = assert_equal_to_a_rebuild(course)
    assert summary["lost"] and not summary["awaiting"]


def test_starting_a_planned_course_keeps_its_flags_equal_to_a_rebuild(practitioner):
    planned = TreatmentCourseFactory(practitioner=practitioner, status=CourseStatus.PLANNED)

    services.course_activate(course=planned, by=practitioner)  # a save of the status alone

    assert assert_equal_to_a_rebuild(planned)["awaiting"]
