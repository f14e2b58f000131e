"""The day and week calendars at clinic scale: a fixed, small number of queries, and the same page as before.

The rows, page links and cards are written in Python (scheduling_tags) and the day's total comes with its
page in one query; these tests pin both the query budget and what the rows show.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic import roles
from courses.models import SessionStatus
from scheduling.models import Closure, Weekday
from tests.factories import (
    PatientFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
    WorkingHoursFactory,
)
from tests.html import assert_in_html
from tests.scheduling.conftest import at

# Beyond what every signed-in page costs (session, user, roles and permissions, the menu): the day runs
# the practitioners, its page with the total, closures and working hours; the whole-clinic week the
# practitioners, its page of practitioners with their total, the cards and closures.
DAY_QUERIES = 4
WEEK_QUERIES = 4


@pytest.fixture
def frame(client_for, front_desk):
    """The number of queries of a bare signed-in page, which the calendars add theirs to."""
    client = client_for(front_desk)
    client.get(reverse("password_change_done"))
    with CaptureQueriesContext(connection) as bare:
        client.get(reverse("password_change_done"))
    return len(bare.captured_queries)


def fill(day, team, per_practitioner):
    for index, person in enumerate(team):
        WorkingHoursFactory(
            practitioner=person,
            weekday=day.weekday(),
            starts_at=datetime.time(8),
            ends_at=datetime.time(18),
        )
        for slot in range(per_practitioner):
            start = at(day, 8) + datetime.timedelta(minutes=30 * slot + index % 2)
            TreatmentSessionFactory(
                course=TreatmentCourseFactory(practitioner=person),
                sequence=1,
                starts_at=start,
                ends_at=start + datetime.timedelta(minutes=25),
            )


def day_url(day, practitioner="all", page=None):
    url = f"{reverse('scheduling:day')}?date={day:%Y-%m-%d}&practitioner={practitioner}"
    return url if page is None else f"{url}&page={page}"


def week_url(day, practitioner="all", page=None):
    url = f"{reverse('scheduling:week')}?date={day:%Y-%m-%d}&practitioner={practitioner}"
    return url if page is None else f"{url}&page={page}"


def test_the_day_view_counts_and_loads_its_page_in_one_query_whatever_the_day_holds(
    client_for, front_desk, monday, frame, django_assert_num_queries
):
    client = client_for(front_desk)
    team = [UserFactory(role=roles.PRACTITIONER) for _ in range(6)]
    fill(monday, team, 1)
    with django_assert_num_queries(frame + DAY_QUERIES):
        client.get(day_url(monday))
    later = monday + datetime.timedelta(days=7)
    fill(later, team, 10)
    with django_assert_num_queries(frame + DAY_QUERIES):
        response = client.get(day_url(later, page=2))
    assert "Appointments 26–50 of 60" in response.text
    assert response.text.count("treatment 1 of 6") == 25


def test_a_day_page_past_the_end_shows_the_last_page_and_a_bad_page_the_first(client_for, front_desk, monday):
    fill(monday, [UserFactory(role=roles.PRACTITIONER) for _ in range(3)], 10)
    client = client_for(front_desk)
    for page in ("9", "0", "-1"):
        assert "Appointments 26–30 of 30" in client.get(day_url(monday, page=page)).text
    assert "Appointments 1–25 of 30" in client.get(day_url(monday, page="two")).text


def test_an_empty_day_says_so_without_page_links(client_for, front_desk, monday):
    response = client_for(front_desk).get(day_url(monday))
    assert "No appointments on this day." in response.text
    assert "pagination" not in response.text


def test_a_day_row_shows_its_patient_course_status_and_actions(client_for, front_desk, monday, course):
    patient = PatientFactory(given_name="Zoë", family_name="O'Brien <Jr>")
    course.patient = patient
    course.save()
    session = TreatmentSessionFactory(
        course=course, sequence=2, starts_at=at(monday, 9), ends_at=at(monday, 9, 30)
    )
    response = client_for(front_desk).get(day_url(monday))
    row = response.text.split(f'<tr id="appointment-{session.pk}">')[1].split("</tr>")[0]
    assert '<th scope="row" class="text-nowrap">09:00–09:30</th>' in row
    assert "<td>Morgan Hale</td>" in row
    assert (
        f'href="{reverse("patients:patient-detail", args=[patient.pk])}">Zoë O&#x27;Brien &lt;Jr&gt;</a>'
        in row
    )
    assert "treatment 2 of 6" in row
    assert '<span class="badge text-bg-secondary">Scheduled</span>' in row
    assert row.count('form="appointment-actions"') == 2
    assert f"{reverse('scheduling:session-reschedule', args=[session.pk])}?next=" in row
    # The cancel form carries its own CSRF token and the page to return to.
    assert 'name="csrfmiddlewaretoken"' in row
    assert f'name="next" value="{day_url(monday)}"'.replace("&", "&amp;") in row
    # No template comment leaks into the table.
    assert "{#" not in response.text


def test_a_cancelled_day_row_shows_its_reason_and_no_actions(client_for, front_desk, monday, course):
    session = TreatmentSessionFactory(
        course=course,
        sequence=1,
        starts_at=at(monday, 9),
        ends_at=at(monday, 9, 30),
        status=SessionStatus.CANCELLED,
        cancel_reason="Flu & fever",
    )
    response = client_for(front_desk).get(day_url(monday))
    row = response.text.split(f'<tr id="appointment-{session.pk}"')[1].split("</tr>")[0]
    assert row.startswith(' class="text-body-secondary">')
    assert '<div class="small">Flu &amp; fever</div>' in row
    assert "Check in" not in row and "Cancel…" not in row


def test_the_day_lists_who_works_that_day(client_for, front_desk, monday, course):
    response = client_for(front_desk).get(day_url(monday))
    assert "Working today:\n  Morgan Hale 09:00–13:00; Morgan Hale 14:00–17:00</p>" in response.text
    wednesday = monday + datetime.timedelta(days=Weekday.WEDNESDAY)
    assert "Working today" not in client_for(front_desk).get(day_url(wednesday)).text


def test_the_whole_clinic_week_runs_the_same_queries_with_ten_times_the_appointments(
    client_for, front_desk, monday, frame, django_assert_num_queries
):
    client = client_for(front_desk)
    team = [UserFactory(role=roles.PRACTITIONER) for _ in range(10)]
    fill(monday, team, 1)
    with django_assert_num_queries(frame + WEEK_QUERIES):
        client.get(week_url(monday))
    later = monday + datetime.timedelta(days=7)
    for day in range(3):
        fill(later + datetime.timedelta(days=day), team, 4)
    with django_assert_num_queries(frame + WEEK_QUERIES):
        response = client.get(week_url(later))
    assert response.text.count("treatment 1 of 6") == 8 * 3 * 4
    assert "Practitioners with appointments this week: 1–8 of 10" in response.text
    assert f"?date={later:%Y-%m-%d}&amp;practitioner=all&amp;page=2" in response.text


def test_a_week_card_shows_time_patient_course_and_status(client_for, front_desk, monday, course):
    course.patient = PatientFactory(given_name="Ana", family_name="Lee & Co")
    course.save()
    TreatmentSessionFactory(
        course=course,
        sequence=3,
        starts_at=at(monday, 11),
        ends_at=at(monday, 11, 30),
        status=SessionStatus.CANCELLED,
        cancel_reason="Away",
    )
    Closure.objects.create(starts_on=monday, ends_on=monday, reason="Training day")
    response = client_for(front_desk).get(week_url(monday))
    patient_url = reverse("patients:patient-detail", args=[course.patient_id])
    assert_in_html(
        '<div class="border rounded p-1 mb-1 text-body-secondary"><strong>11:00</strong>'
        f'<div><a href="{patient_url}">Ana Lee &amp; Co</a></div>'
        f'<div class="text-body-secondary">{course} · treatment 3 of 6</div>'
        '<span class="badge text-bg-light">Cancelled</span></div>',
        response.text,
    )
    assert response.text.count("Closed: Training day") == 1


def test_the_practitioner_filter_marks_the_chosen_one(client_for, front_desk, monday, practitioner):
    response = client_for(front_desk).get(week_url(monday, practitioner=practitioner.pk))
    assert f'<option value="{practitioner.pk}" selected>Morgan Hale</option>' in response.text
    assert '<option value="all">Whole clinic</option>' in response.text
