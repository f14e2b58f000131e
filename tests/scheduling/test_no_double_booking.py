import datetime
import threading

import pytest
from django.db import connection, connections
from django.db.utils import IntegrityError

from courses.models import TreatmentSession
from scheduling.diary import BookingRefused, SlotTaken, course_book, visit_reschedule
from scheduling.models import Weekday
from tests.factories import TreatmentCourseFactory, TreatmentSessionFactory, WorkingHoursFactory
from tests.scheduling.conftest import at


def works_every_day(practitioner):
    for weekday in Weekday.values:
        WorkingHoursFactory(
            practitioner=practitioner, weekday=weekday, starts_at=datetime.time(8), ends_at=datetime.time(18)
        )


ATTEMPTS = 6


def book_in_threads(courses, starts_at, booked_by):
    """Each course books the same slot from its own thread and connection, all released at once."""
    barrier = threading.Barrier(len(courses))
    outcomes = []

    def attempt(course):
        try:
            barrier.wait()
            course_book(course=course, starts=[starts_at], booked_by=booked_by)
            outcomes.append("booked")
        except (SlotTaken, BookingRefused) as error:
            outcomes.append(" ".join(error.messages))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(course,)) for course in courses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_of_simultaneous_bookings_of_one_practitioners_slot_exactly_one_succeeds(
    role_groups, practitioner, front_desk, monday
):
    works_every_day(practitioner)
    courses = [TreatmentCourseFactory(practitioner=practitioner) for _ in range(ATTEMPTS)]
    outcomes = book_in_threads(courses, at(monday, 10), front_desk)
    assert outcomes.count("booked") == 1
    assert len(outcomes) == ATTEMPTS
    assert all("overlaps another appointment" in o for o in outcomes if o != "booked")
    assert TreatmentSession.objects.filter(practitioner=practitioner).count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_of_simultaneous_bookings_of_one_patient_exactly_one_succeeds(role_groups, front_desk, monday):
    first = TreatmentCourseFactory()
    courses = [first, *(TreatmentCourseFactory(patient=first.patient) for _ in range(ATTEMPTS - 1))]
    for course in courses:
        works_every_day(course.practitioner)
    outcomes = book_in_threads(courses, at(monday, 11), front_desk)
    assert outcomes.count("booked") == 1
    assert TreatmentSession.objects.filter(patient=first.patient).count() == 1


@pytest.mark.postgres_only
def test_the_database_refuses_an_overlap_that_bypasses_the_diary(db, monday):
    booked = TreatmentSessionFactory(starts_at=at(monday, 10), ends_at=at(monday, 10, 30))
    other = TreatmentCourseFactory(practitioner=booked.practitioner)
    with pytest.raises(IntegrityError, match="session_no_practitioner_overlap"):
        TreatmentSessionFactory(
            course=other, sequence=1, starts_at=at(monday, 10, 15), ends_at=at(monday, 10, 45)
        )


@pytest.mark.postgres_only
def test_cancelled_sessions_do_not_hold_the_slot_in_the_database(db, monday):
    booked = TreatmentSessionFactory(
        starts_at=at(monday, 10), ends_at=at(monday, 10, 30), status="cancelled", cancel_reason="Unwell"
    )
    other = TreatmentCourseFactory(practitioner=booked.practitioner)
    TreatmentSessionFactory(course=other, sequence=1, starts_at=at(monday, 10), ends_at=at(monday, 10, 30))


@pytest.mark.postgres_only
def test_a_constraint_violation_reaches_the_user_as_slot_taken(monday, front_desk, monkeypatch):
    booked = TreatmentSessionFactory(starts_at=at(monday, 10), ends_at=at(monday, 10, 30))
    course = TreatmentCourseFactory(practitioner=booked.practitioner)
    works_every_day(booked.practitioner)
    # The race the guards cannot see: another transaction commits between their read and our insert.
    monkeypatch.setattr("scheduling.rules.is_free", lambda *args: True)
    with pytest.raises(SlotTaken, match="Slot taken") as caught:
        course_book(course=course, starts=[at(monday, 10)], booked_by=front_desk)
    assert caught.value.sequence == 1
    assert not course.sessions.exists()


def test_on_any_database_the_second_of_two_bookings_for_one_slot_is_refused(practitioner, front_desk, monday):
    works_every_day(practitioner)
    first, second = (
        TreatmentCourseFactory(practitioner=practitioner),
        TreatmentCourseFactory(practitioner=practitioner),
    )
    course_book(course=first, starts=[at(monday, 10)], booked_by=front_desk)
    with pytest.raises(BookingRefused, match="overlaps another appointment"):
        course_book(course=second, starts=[at(monday, 10, 15)], booked_by=front_desk)
    assert TreatmentSession.objects.filter(practitioner=practitioner).count() == 1


def test_shifting_a_whole_course_later_moves_every_session_without_tripping_over_itself(
    course, monday, front_desk
):
    starts = [at(monday + datetime.timedelta(days=14 * n), 10) for n in range(4)]
    sessions = course_book(course=course, starts=starts, booked_by=front_desk)
    # Exactly one interval later: each visit lands where the next one was.
    visit_reschedule(session=sessions[0], starts_at=starts[1], shift_later=True, by=front_desk)
    moved = list(course.sessions.order_by("sequence").values_list("starts_at", flat=True))
    assert moved == [starts[1], starts[2], starts[3], starts[3] + datetime.timedelta(days=14)]
    assert connection.vendor in ("sqlite", "postgresql")
