"""Dates and numbers outside any sane range, and formset management data that lies, on the scheduling
pages: a field error or today's page, never a 500 (clinic.inputs)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.models import TreatmentSession
from scheduling.diary import course_book
from tests.scheduling.conftest import at

HUGE = "99999999999999999999"


@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01", "1899-12-31"])
@pytest.mark.parametrize("url_name", ["scheduling:day", "scheduling:week"])
def test_a_calendar_date_out_of_range_shows_today_and_says_why(date, url_name, client_for, front_desk):
    response = client_for(front_desk).get(reverse(url_name), {"date": date, "practitioner": "all"})
    assert response.status_code == 200
    assert response.context["day"] == timezone.localdate()
    assert "check the year" in response.content.decode()


@pytest.mark.parametrize("url_name", ["scheduling:day", "scheduling:week", "scheduling:worklists"])
def test_a_huge_page_number_is_clamped(url_name, client_for, front_desk):
    response = client_for(front_desk).get(reverse(url_name), {"page": HUGE, "practitioner": "all"})
    assert response.status_code == 200


def test_a_booking_proposal_for_year_9999_is_a_field_error(course, client_for, front_desk):
    response = client_for(front_desk).get(
        reverse("scheduling:course-book", args=[course.pk]),
        {"first_date": "9999-01-01", "first_time": "10:00"},
    )
    assert response.status_code == 200
    assert "check the year" in response.content.decode()


def _confirmation(date, total="1", rows=1):
    data = {"rows-TOTAL_FORMS": total, "rows-INITIAL_FORMS": total}
    for index in range(rows):
        data[f"rows-{index}-date"] = date
        data[f"rows-{index}-time"] = "10:00"
    return data


def test_a_booking_confirmation_for_year_9999_is_a_field_error(course, client_for, front_desk):
    response = client_for(front_desk).post(
        reverse("scheduling:course-book", args=[course.pk]), _confirmation("9999-12-17")
    )
    assert response.status_code == 200
    assert "check the year" in response.content.decode()
    assert not TreatmentSession.objects.filter(course=course).exists()


def test_a_booking_confirmation_claiming_more_rows_than_sent_is_refused(
    course, monday, client_for, front_desk
):
    response = client_for(front_desk).post(
        reverse("scheduling:course-book", args=[course.pk]), _confirmation(monday.isoformat(), total="3")
    )
    assert response.status_code == 200
    assert "rows but 2 of them were not sent" in response.content.decode()
    assert not TreatmentSession.objects.filter(course=course).exists()


def test_a_booking_confirmation_with_junk_management_data_is_a_clear_error(course, client_for, front_desk):
    response = client_for(front_desk).post(
        reverse("scheduling:course-book", args=[course.pk]), _confirmation("2031-01-01", total=HUGE)
    )
    assert response.status_code == 200
    assert not TreatmentSession.objects.filter(course=course).exists()


def test_a_reschedule_to_year_9999_is_refused_and_the_booking_page_still_works(
    course, monday, client_for, front_desk
):
    [session] = course_book(course=course, starts=[at(monday, 10)], booked_by=front_desk)
    client = client_for(front_desk)
    response = client.post(
        reverse("scheduling:session-reschedule", args=[session.pk]),
        {"date": "9999-12-17", "time": "10:00", "action": "move"},
    )
    assert response.status_code == 200
    assert "check the year" in response.content.decode()
    session.refresh_from_db()
    assert session.starts_at == at(monday, 10)
    assert client.get(reverse("scheduling:course-book", args=[course.pk])).status_code == 200


def test_a_reschedule_to_a_date_in_range_past_the_horizon_is_refused_by_the_diary(
    course, monday, client_for, front_desk
):
    [session] = course_book(course=course, starts=[at(monday, 10)], booked_by=front_desk)
    far = timezone.localdate() + datetime.timedelta(days=365 * 5)
    response = client_for(front_desk).post(
        reverse("scheduling:session-reschedule", args=[session.pk]),
        {"date": far.isoformat(), "time": "10:00", "action": "move"},
    )
    assert response.status_code == 200
    assert "years ahead" in response.content.decode()
