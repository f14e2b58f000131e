import datetime

import pytest
from django.urls import reverse

from courses.diary import SlotTaken
from courses.models import SessionStatus, TreatmentSession
from scheduling.services import course_book
from tests.factories import TreatmentCourseFactory, TreatmentSessionFactory
from tests.scheduling.conftest import at


def starts_every_fortnight(monday, count=6, hour=10):
    return {n: at(monday + datetime.timedelta(days=14 * (n - 1)), hour) for n in range(1, count + 1)}


def test_it_books_every_session_of_the_course(course, monday, front_desk):
    created = course_book(course=course, starts=starts_every_fortnight(monday), booked_by=front_desk)
    assert [s.sequence for s in created] == [1, 2, 3, 4, 5, 6]
    for session in created:
        session.refresh_from_db()
        assert session.patient == course.patient
        assert session.practitioner == course.practitioner
        assert session.ends_at - session.starts_at == datetime.timedelta(minutes=30)
        assert session.status == SessionStatus.SCHEDULED


def test_one_taken_slot_books_nothing(course, monday, front_desk):
    fourth = monday + datetime.timedelta(days=42)
    TreatmentSessionFactory(
        course=TreatmentCourseFactory(practitioner=course.practitioner),
        sequence=1,
        starts_at=at(fourth, 10, 15),
        ends_at=at(fourth, 10, 45),
    )
    with pytest.raises(SlotTaken) as caught:
        course_book(course=course, starts=starts_every_fortnight(monday), booked_by=front_desk)
    assert caught.value.sequence == 4
    assert not TreatmentSession.objects.filter(course=course).exists()


def test_the_patients_other_appointment_blocks_the_slot(course, monday, front_desk):
    TreatmentSessionFactory(
        course=TreatmentCourseFactory(patient=course.patient),
        sequence=1,
        starts_at=at(monday, 10),
        ends_at=at(monday, 10, 30),
    )
    with pytest.raises(SlotTaken, match="the patient already has"):
        course_book(course=course, starts={1: at(monday, 10)}, booked_by=front_desk)


def test_it_refuses_a_sequence_already_booked(course, monday, front_desk):
    TreatmentSessionFactory(course=course, sequence=1)
    with pytest.raises(Exception, match="already booked"):
        course_book(course=course, starts={1: at(monday, 10)}, booked_by=front_desk)


def test_a_stopped_course_cannot_be_booked(course, monday, front_desk):
    course.status, course.stop_reason = "stopped", "goal_met"
    course.save()
    with pytest.raises(Exception, match="cannot be booked"):
        course_book(course=course, starts={1: at(monday, 10)}, booked_by=front_desk)


def test_the_booking_page_shows_the_proposal_with_reasons(course, monday, client_for, front_desk):
    url = reverse("scheduling:course-book", args=[course.pk])
    response = client_for(front_desk).get(
        url, {"first_date": (monday + datetime.timedelta(days=2)).isoformat(), "first_time": "10:00"}
    )
    assert response.status_code == 200
    assert "Dr Hale not working Wednesdays" in response.text
    assert response.text.count('type="date"') >= 6


def test_confirming_the_proposal_books_all_sessions(course, monday, client_for, front_desk):
    data = {"rows-TOTAL_FORMS": "6", "rows-INITIAL_FORMS": "6"}
    for index, (sequence, start) in enumerate(starts_every_fortnight(monday).items()):
        data |= {
            f"rows-{index}-sequence": sequence,
            f"rows-{index}-date": start.date().isoformat(),
            f"rows-{index}-time": "10:00",
        }
    response = client_for(front_desk).post(reverse("scheduling:course-book", args=[course.pk]), data)
    assert response.status_code == 302
    assert reverse("scheduling:week") in response["Location"]
    assert course.sessions.filter(status=SessionStatus.SCHEDULED).count() == 6


def test_a_clash_re_shows_the_form_with_the_row_marked_and_books_nothing(
    course, monday, client_for, front_desk
):
    second = monday + datetime.timedelta(days=14)
    TreatmentSessionFactory(
        course=TreatmentCourseFactory(practitioner=course.practitioner),
        sequence=1,
        starts_at=at(second, 10),
        ends_at=at(second, 10, 30),
    )
    data = {"rows-TOTAL_FORMS": "2", "rows-INITIAL_FORMS": "2", "note-2": "10:00 taken"}
    for index, sequence in enumerate((1, 2)):
        day = monday + datetime.timedelta(days=14 * index)
        data |= {
            f"rows-{index}-sequence": sequence,
            f"rows-{index}-date": day.isoformat(),
            f"rows-{index}-time": "10:00",
        }
    response = client_for(front_desk).post(reverse("scheduling:course-book", args=[course.pk]), data)
    assert response.status_code == 200
    assert "Slot taken" in response.text
    assert "table-danger" in response.text
    assert f'value="{second.isoformat()}"' in response.text  # what was typed is kept
    assert not course.sessions.exists()


def test_a_past_time_is_refused_with_the_row_kept(course, client_for, front_desk):
    data = {
        "rows-TOTAL_FORMS": "1",
        "rows-INITIAL_FORMS": "1",
        "rows-0-sequence": "1",
        "rows-0-date": "2020-01-06",
        "rows-0-time": "10:00",
    }
    response = client_for(front_desk).post(reverse("scheduling:course-book", args=[course.pk]), data)
    assert response.status_code == 200
    assert "already passed" in response.text
    assert not course.sessions.exists()


def test_practitioners_cannot_book(course, client_for, practitioner):
    response = client_for(practitioner).get(reverse("scheduling:course-book", args=[course.pk]))
    assert response.status_code == 403
