import datetime

import pytest
from django.urls import reverse

from courses.models import SessionStatus, TreatmentSession
from scheduling.diary import BookingRefused, course_book
from scheduling.models import Closure
from tests.factories import TreatmentCourseFactory, TreatmentSessionFactory
from tests.scheduling.conftest import at


def starts_every_fortnight(monday, count=6, hour=10):
    return [at(monday + datetime.timedelta(days=14 * n), hour) for n in range(count)]


def test_it_books_every_treatment_of_the_course(course, monday, front_desk):
    created = course_book(course=course, starts=starts_every_fortnight(monday), booked_by=front_desk)
    assert [s.sequence for s in created] == [1, 2, 3, 4, 5, 6]
    for session in created:
        session.refresh_from_db()
        assert session.patient == course.patient
        assert session.practitioner == course.practitioner
        assert session.ends_at - session.starts_at == datetime.timedelta(minutes=30)
        assert session.status == SessionStatus.SCHEDULED


def test_one_taken_slot_books_nothing_and_names_the_row(course, monday, front_desk):
    fourth = monday + datetime.timedelta(days=42)
    TreatmentSessionFactory(
        course=TreatmentCourseFactory(practitioner=course.practitioner),
        sequence=1,
        starts_at=at(fourth, 10, 15),
        ends_at=at(fourth, 10, 45),
    )
    with pytest.raises(BookingRefused) as caught:
        course_book(course=course, starts=starts_every_fortnight(monday), booked_by=front_desk)
    assert list(caught.value.rows) == [3]
    assert caught.value.sequence == 4
    assert caught.value.rows[3].rules == {"double_booking"}
    # The nearest valid slot is offered: the same day, just before the other appointment.
    assert caught.value.rows[3].nearest == at(fourth, 9, 30)
    assert not TreatmentSession.objects.filter(course=course).exists()


def test_the_patients_other_appointment_blocks_the_slot(course, monday, front_desk):
    TreatmentSessionFactory(
        course=TreatmentCourseFactory(patient=course.patient),
        sequence=1,
        starts_at=at(monday, 10),
        ends_at=at(monday, 10, 30),
    )
    with pytest.raises(BookingRefused, match="overlaps another appointment"):
        course_book(course=course, starts=[at(monday, 10)], booked_by=front_desk)


def test_it_numbers_the_bookings_after_the_treatments_given(course, monday, front_desk):
    TreatmentSessionFactory(
        course=course, sequence=1, completed=True, starts_at=at(monday - datetime.timedelta(days=14), 10)
    )
    created = course_book(course=course, starts=[at(monday, 10)], booked_by=front_desk)
    assert [s.sequence for s in created] == [2]


def test_it_refuses_more_rows_than_treatments_left(course, monday, front_desk):
    course.planned_sessions = 2
    course.save()
    with pytest.raises(Exception, match="2 treatments and only 2"):
        course_book(course=course, starts=starts_every_fortnight(monday, count=3), booked_by=front_desk)


def test_a_stopped_course_cannot_be_booked(course, monday, front_desk):
    course.status, course.stop_reason = "stopped", "goal_met"
    course.save()
    with pytest.raises(Exception, match="cannot be booked"):
        course_book(course=course, starts=[at(monday, 10)], booked_by=front_desk)


def test_the_booking_page_shows_the_proposal_with_reasons(course, monday, client_for, front_desk):
    url = reverse("scheduling:course-book", args=[course.pk])
    response = client_for(front_desk).get(
        url, {"first_date": (monday + datetime.timedelta(days=2)).isoformat(), "first_time": "10:00"}
    )
    assert response.status_code == 200
    assert "Dr Hale not working Wednesdays" in response.text
    assert response.text.count('type="date"') >= 6
    # Only dates, times and an optional reason travel through the browser: no hidden copy of the proposal.
    assert "note-" not in response.text
    assert 'name="rows-0-sequence"' not in response.text


def _rows(days, time="10:00", **extra):
    data = {"rows-TOTAL_FORMS": str(len(days)), "rows-INITIAL_FORMS": str(len(days))}
    for index, day in enumerate(days):
        data |= {f"rows-{index}-date": day.isoformat(), f"rows-{index}-time": time}
    return data | extra


def test_confirming_the_proposal_books_all_treatments(course, monday, client_for, front_desk):
    days = [monday + datetime.timedelta(days=14 * n) for n in range(6)]
    response = client_for(front_desk).post(reverse("scheduling:course-book", args=[course.pk]), _rows(days))
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
    response = client_for(front_desk).post(
        reverse("scheduling:course-book", args=[course.pk]), _rows([monday, second])
    )
    assert response.status_code == 200
    assert "overlaps another appointment" in response.text
    assert "Nearest free time" in response.text
    assert "table-danger" in response.text
    assert f'value="{second.isoformat()}"' in response.text  # what was typed is kept
    assert not course.sessions.exists()


def test_an_edited_row_on_a_sunday_13_days_later_is_refused(course, monday, client_for, front_desk):
    """The browser's copy of the proposal is never trusted: every edited row is checked again."""
    sunday = monday + datetime.timedelta(days=13)
    response = client_for(front_desk).post(
        reverse("scheduling:course-book", args=[course.pk]), _rows([monday, sunday], time="07:00")
    )
    assert response.status_code == 200
    assert "does not work on Sundays" in response.text
    assert "too close (at least 14)" in response.text
    assert not course.sessions.exists()


def test_a_closed_day_is_refused(course, monday, client_for, front_desk):
    Closure.objects.create(starts_on=monday, ends_on=monday, reason="Training day")
    response = client_for(front_desk).post(
        reverse("scheduling:course-book", args=[course.pk]), _rows([monday])
    )
    assert response.status_code == 200
    assert "closed on" in response.text and "Training day" in response.text
    assert not course.sessions.exists()


def test_a_past_time_is_refused_with_the_row_kept(course, client_for, front_desk):
    response = client_for(front_desk).post(
        reverse("scheduling:course-book", args=[course.pk]), _rows([datetime.date(2020, 1, 6)])
    )
    assert response.status_code == 200
    assert "already passed" in response.text
    assert 'value="2020-01-06"' in response.text
    assert not course.sessions.exists()


def test_a_reason_books_a_row_outside_the_spacing_window_as_a_deviation(
    course, monday, client_for, front_desk
):
    days = [monday, monday + datetime.timedelta(days=7)]
    url = reverse("scheduling:course-book", args=[course.pk])
    refused = client_for(front_desk).post(url, _rows(days))
    assert "too close" in refused.text and not course.sessions.exists()

    response = client_for(front_desk).post(url, _rows(days, **{"rows-1-spacing_reason": "Flying abroad"}))
    assert response.status_code == 302
    second = course.sessions.get(sequence=2)
    assert second.spacing_override_reason == "Flying abroad"
    assert second.is_spacing_deviation


def test_rows_out_of_date_order_are_refused(course, monday, client_for, front_desk):
    days = [monday + datetime.timedelta(days=14), monday]
    response = client_for(front_desk).post(reverse("scheduling:course-book", args=[course.pk]), _rows(days))
    assert response.status_code == 200
    assert "date order" in response.text
    assert not course.sessions.exists()


def test_practitioners_cannot_book(course, client_for, practitioner):
    response = client_for(practitioner).get(reverse("scheduling:course-book", args=[course.pk]))
    assert response.status_code == 403
