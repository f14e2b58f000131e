"""Walk-ins and "the patient is here now": a visit is dated, numbered and spaced by when it is given."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from courses.models import CourseStatus, SessionStatus, StopReason
from courses.session_services import session_record
from scheduling.diary import VisitRefused, visit_move_to_now, visit_walk_in
from scheduling.models import Closure
from tests.factories import TreatmentCourseFactory, TreatmentSessionFactory, WorkingHoursFactory

pytestmark = pytest.mark.django_db


def today_at(hour, minute=0, days=0):
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def works_every_day(practitioner):
    for weekday in range(7):
        WorkingHoursFactory(
            practitioner=practitioner, weekday=weekday, starts_at=datetime.time(8), ends_at=datetime.time(18)
        )


@pytest.fixture
def course(practitioner, works_every_day):
    return TreatmentCourseFactory(
        practitioner=practitioner,
        status=CourseStatus.PLANNED,
        start_date=timezone.localdate() - datetime.timedelta(days=60),
    )


def test_a_walk_in_takes_the_next_treatment_number_and_one_slot(course, practitioner):
    TreatmentSessionFactory(course=course, sequence=1, completed=True, starts_at=today_at(10, days=-14))
    TreatmentSessionFactory(
        course=course,
        sequence=2,
        status=SessionStatus.CANCELLED,
        cancel_reason="Ill",
        starts_at=today_at(10, days=-2),
    )
    session = visit_walk_in(course=course, practitioner=practitioner, by=practitioner, now=today_at(10, 7))
    assert session.sequence == 2
    assert session.status == SessionStatus.CHECKED_IN
    assert session.starts_at == today_at(10, 7)
    assert session.ends_at - session.starts_at == datetime.timedelta(minutes=30)
    assert session.patient == course.patient


def test_a_walk_in_near_closing_time_ends_with_the_practitioners_hours(course, practitioner):
    session = visit_walk_in(course=course, practitioner=practitioner, by=practitioner, now=today_at(17, 50))
    assert session.ends_at == today_at(18)


def test_a_walk_in_does_not_start_the_course_until_a_treatment_is_given(course, practitioner):
    visit_walk_in(course=course, practitioner=practitioner, by=practitioner, now=today_at(10))
    course.refresh_from_db()
    assert course.status == CourseStatus.PLANNED


@pytest.mark.parametrize(
    ("now", "rule"),
    [
        (today_at(3), "hours"),
        (today_at(19, 30), "hours"),
    ],
)
def test_a_walk_in_outside_working_hours_is_refused(course, practitioner, now, rule):
    with pytest.raises(VisitRefused) as caught:
        visit_walk_in(course=course, practitioner=practitioner, by=practitioner, now=now)
    assert caught.value.rules == {rule}
    assert not course.sessions.exists()


def test_a_walk_in_on_a_closed_day_is_refused(course, practitioner):
    Closure.objects.create(
        starts_on=timezone.localdate(), ends_on=timezone.localdate(), reason="Christmas Day"
    )
    with pytest.raises(VisitRefused, match="Christmas Day"):
        visit_walk_in(course=course, practitioner=practitioner, by=practitioner, now=today_at(10))


def test_a_walk_in_respects_the_diary(course, practitioner):
    TreatmentSessionFactory(practitioner=practitioner, starts_at=today_at(10), ends_at=today_at(10, 30))
    with pytest.raises(VisitRefused) as caught:
        visit_walk_in(course=course, practitioner=practitioner, by=practitioner, now=today_at(10, 15))
    assert caught.value.rules == {"double_booking"}
    assert not course.sessions.exists()


def test_a_walk_in_too_soon_after_the_last_treatment_needs_a_reason(course, practitioner):
    TreatmentSessionFactory(course=course, sequence=1, completed=True, starts_at=today_at(10, days=-7))
    with pytest.raises(VisitRefused, match="too close") as caught:
        visit_walk_in(course=course, practitioner=practitioner, by=practitioner, now=today_at(10))
    assert caught.value.rules == {"spacing"}
    session = visit_walk_in(
        course=course,
        practitioner=practitioner,
        by=practitioner,
        now=today_at(10),
        spacing_reason="Travelling",
    )
    assert session.spacing_override_reason == "Travelling"


def test_a_walk_in_before_the_course_starts_is_refused(practitioner, works_every_day):
    course = TreatmentCourseFactory(
        practitioner=practitioner, start_date=timezone.localdate() + datetime.timedelta(days=3)
    )
    with pytest.raises(VisitRefused) as caught:
        visit_walk_in(course=course, practitioner=practitioner, by=practitioner, now=today_at(10))
    assert caught.value.rules == {"before_course"}


def test_a_walk_in_needs_an_open_course_and_a_practitioner(practitioner, front_desk, works_every_day):
    closed = TreatmentCourseFactory(status=CourseStatus.STOPPED, stop_reason=StopReason.PATIENT_CHOICE)
    with pytest.raises(ValidationError):
        visit_walk_in(course=closed, practitioner=practitioner, by=practitioner, now=today_at(10))
    with pytest.raises(ValidationError):
        visit_walk_in(
            course=TreatmentCourseFactory(), practitioner=front_desk, by=practitioner, now=today_at(10)
        )


def test_a_walk_in_is_refused_while_a_visit_is_booked(course, practitioner):
    TreatmentSessionFactory(course=course, sequence=1, completed=True, starts_at=today_at(10, days=-14))
    TreatmentSessionFactory(course=course, sequence=2, starts_at=today_at(10, days=3))
    with pytest.raises(ValidationError, match="Treatment 2 is booked"):
        visit_walk_in(course=course, practitioner=practitioner, by=practitioner, now=today_at(10))
    assert course.sessions.count() == 2


# --- "The patient is here now" -----------------------------------------------------------------------


def _complete(session, by):
    return session_record(
        session=session,
        data={"pain_pre": 5, "complete": True},
        components=[],
        injections=[],
        side_effects=[],
        recorded_by=by,
        expected_version=session.version,
        confirmations={"screening": "Checked at the visit"},
    )


def test_a_visit_booked_for_a_later_day_cannot_be_completed_today(course, practitioner):
    booked = TreatmentSessionFactory(course=course, sequence=1, starts_at=today_at(10, days=22))
    with pytest.raises(ValidationError, match="here now") as caught:
        _complete(booked, practitioner)
    assert caught.value.code == "not_today"
    booked.refresh_from_db()
    assert booked.status == SessionStatus.SCHEDULED


def test_moving_a_future_visit_to_now_dates_it_today_and_judges_spacing_on_that_day(course, practitioner):
    TreatmentSessionFactory(course=course, sequence=1, completed=True, starts_at=today_at(10, days=-16))
    booked = TreatmentSessionFactory(course=course, sequence=2, starts_at=today_at(10, days=6))
    moved = visit_move_to_now(session=booked, by=practitioner, now=today_at(11, 3))
    assert moved.starts_at == today_at(11, 3)
    assert moved.status == SessionStatus.CHECKED_IN

    completed = _complete(moved, practitioner)
    completed.refresh_from_db()
    assert timezone.localtime(completed.starts_at).date() == timezone.localdate()
    assert completed.status == SessionStatus.COMPLETED
    # Sixteen days after treatment 1: inside the window, so no spacing reason was needed.
    assert completed.spacing_override_reason == ""


def test_moving_to_now_too_soon_after_the_last_treatment_needs_a_reason(course, practitioner):
    TreatmentSessionFactory(course=course, sequence=1, completed=True, starts_at=today_at(10, days=-6))
    booked = TreatmentSessionFactory(course=course, sequence=2, starts_at=today_at(10, days=8))
    with pytest.raises(VisitRefused, match="too close"):
        visit_move_to_now(session=booked, by=practitioner, now=today_at(11))
    moved = visit_move_to_now(
        session=booked, by=practitioner, now=today_at(11), spacing_reason="Flare, seen early"
    )
    assert moved.spacing_override_reason == "Flare, seen early"


def test_a_visit_moved_to_now_becomes_the_next_treatment(course, practitioner):
    TreatmentSessionFactory(course=course, sequence=1, completed=True, starts_at=today_at(10, days=-15))
    later = TreatmentSessionFactory(course=course, sequence=2, starts_at=today_at(10, days=14))
    after = TreatmentSessionFactory(course=course, sequence=3, starts_at=today_at(10, days=28))
    visit_move_to_now(session=after, by=practitioner, now=today_at(9), spacing_reason="Patient here")
    after.refresh_from_db()
    later.refresh_from_db()
    assert (after.sequence, later.sequence) == (2, 3)
