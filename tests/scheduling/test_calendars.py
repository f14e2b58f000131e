import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic import roles
from courses.models import SessionStatus
from tests.factories import TreatmentCourseFactory, TreatmentSessionFactory, UserFactory
from tests.scheduling.conftest import at


def today_at(hour, minute=0):
    return at(timezone.localdate(), hour, minute)


@pytest.fixture
def todays(practitioner):
    """A session today that has not started yet, so the test works at any hour."""
    now = timezone.localtime()
    start = min(now + datetime.timedelta(minutes=5), today_at(23, 0))
    course = TreatmentCourseFactory(practitioner=practitioner)
    return TreatmentSessionFactory(
        course=course, sequence=2, starts_at=start, ends_at=start + datetime.timedelta(minutes=30)
    )


@pytest.fixture
def started(practitioner):
    start = today_at(0, 5)
    course = TreatmentCourseFactory(practitioner=practitioner)
    return TreatmentSessionFactory(
        course=course, sequence=1, starts_at=start, ends_at=start + datetime.timedelta(minutes=30)
    )


def day_url(day=None, practitioner="all"):
    day = day or timezone.localdate()
    return f"{reverse('scheduling:day')}?date={day:%Y-%m-%d}&practitioner={practitioner}"


def test_the_day_view_shows_patient_course_sequence_and_status(todays, client_for, front_desk):
    response = client_for(front_desk).get(day_url())
    assert response.status_code == 200
    assert todays.patient.full_name in response.text
    assert "treatment 2 of 6" in response.text
    assert "Scheduled" in response.text
    assert "Check in" in response.text


def test_a_practitioner_sees_their_own_day_by_default_without_actions(todays, client_for, practitioner):
    other = TreatmentSessionFactory(
        course=TreatmentCourseFactory(), sequence=1, starts_at=todays.starts_at, ends_at=todays.ends_at
    )
    response = client_for(practitioner).get(reverse("scheduling:day"))
    assert todays.patient.full_name in response.text
    assert other.patient.full_name not in response.text
    assert "Check in" not in response.text


def test_a_practitioner_can_see_the_whole_clinic(todays, client_for, practitioner):
    other = TreatmentSessionFactory(
        course=TreatmentCourseFactory(), sequence=1, starts_at=todays.starts_at, ends_at=todays.ends_at
    )
    response = client_for(practitioner).get(day_url())
    assert other.patient.full_name in response.text


def test_a_bad_date_falls_back_to_today(client_for, front_desk):
    response = client_for(front_desk).get(reverse("scheduling:day") + "?date=31-02-2026&practitioner=x")
    assert response.status_code == 200


def test_the_week_view_lists_each_day(course, monday, client_for, front_desk):
    TreatmentSessionFactory(
        course=course,
        sequence=3,
        starts_at=at(monday + datetime.timedelta(days=3), 11),
        ends_at=at(monday + datetime.timedelta(days=3), 11, 30),
    )
    response = client_for(front_desk).get(
        f"{reverse('scheduling:week')}?date={monday + datetime.timedelta(days=5):%Y-%m-%d}&practitioner=all"
    )
    assert response.status_code == 200
    assert f"Week of {monday.day}" in response.text
    assert course.patient.full_name in response.text
    assert "treatment 3 of 6" in response.text


def fill_clinic(day, practitioners, per_practitioner):
    for index, person in enumerate(practitioners):
        for slot in range(per_practitioner):
            start = at(day, 8) + datetime.timedelta(minutes=30 * slot + index % 2)
            TreatmentSessionFactory(
                course=TreatmentCourseFactory(practitioner=person),
                sequence=1,
                starts_at=start,
                ends_at=start + datetime.timedelta(minutes=25),
            )


def test_the_clinic_day_view_runs_a_fixed_number_of_queries_as_appointments_grow(
    client_for, front_desk, monday, django_assert_max_num_queries
):
    team = [UserFactory(role=roles.PRACTITIONER) for _ in range(20)]
    client = client_for(front_desk)
    fill_clinic(monday, team, 1)
    with django_assert_max_num_queries(12) as small:
        assert client.get(day_url(monday)).status_code == 200
    fill_clinic(monday + datetime.timedelta(days=7), team, 4)
    with django_assert_max_num_queries(12) as large:
        response = client.get(day_url(monday + datetime.timedelta(days=7)))
    # A page of the day at a time: the first 25 of the 80, and links to the rest.
    assert response.text.count("treatment 1 of 6") == 25
    assert "Appointments 1–25 of 80" in response.text
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_clinic_day_is_paged_keeping_the_day_and_practitioner(client_for, front_desk, monday):
    team = [UserFactory(role=roles.PRACTITIONER) for _ in range(10)]
    fill_clinic(monday, team, 3)
    client = client_for(front_desk)
    first = client.get(day_url(monday))
    assert f"?date={monday:%Y-%m-%d}&amp;practitioner=all&amp;page=2" in first.text
    second = client.get(day_url(monday) + "&page=2")
    assert second.text.count("treatment 1 of 6") == 5
    assert "Appointments 26–30 of 30" in second.text
    # The two pages hold different appointments (times run on across pages).
    assert "08:00–08:25" in first.text and "08:00–08:25" not in second.text


def test_today_opens_at_the_page_with_the_next_appointment(client_for, front_desk, practitioner):
    """Front desk lands on what is coming up, not on the morning's finished list."""
    now = timezone.localtime()
    if now < today_at(0, 10) or now > today_at(23, 30):
        pytest.skip("needs a finished appointment and one still to come today")
    for _ in range(30):
        TreatmentSessionFactory(
            course=TreatmentCourseFactory(), sequence=1, starts_at=today_at(0, 0), ends_at=today_at(0, 5)
        )
    coming = now + datetime.timedelta(minutes=5)
    later = TreatmentSessionFactory(
        course=TreatmentCourseFactory(practitioner=practitioner),
        sequence=4,
        starts_at=coming,
        ends_at=coming + datetime.timedelta(minutes=30),
    )
    response = client_for(front_desk).get(f"{reverse('scheduling:day')}?practitioner=all")
    assert later.patient.full_name in response.text
    assert "Appointments 26–31 of 31" in response.text


def test_the_day_rows_share_one_form_for_quick_actions(todays, client_for, front_desk):
    response = client_for(front_desk).get(day_url())
    assert response.text.count('id="appointment-actions"') == 1
    check_in = reverse("scheduling:session-check-in", args=[todays.pk])
    assert f'form="appointment-actions" formaction="{check_in}" hx-post="{check_in}"' in response.text
    assert reverse("patients:patient-detail", args=[todays.patient_id]) in response.text
    assert reverse("courses:course-detail", args=[todays.course_id]) in response.text


def test_the_clinic_week_has_a_row_per_booked_practitioner_a_page_at_a_time(client_for, front_desk, monday):
    team = [UserFactory(role=roles.PRACTITIONER, last_name=f"Zed{n:02d}") for n in range(10)]
    UserFactory(role=roles.PRACTITIONER, last_name="Idle")
    fill_clinic(monday, team, 2)
    client = client_for(front_desk)
    url = f"{reverse('scheduling:week')}?date={monday:%Y-%m-%d}&practitioner=all"
    first = client.get(url)
    assert first.text.count("treatment 1 of 6") == 16
    assert str(team[0]) in first.text and str(team[8]) not in first.text.split("<tbody>")[1]
    assert "Idle" not in first.text.split("<tbody>")[1]
    assert "Practitioners with appointments this week: 1–8 of 10" in first.text
    second = client.get(url + "&page=2")
    assert second.text.count("treatment 1 of 6") == 4
    assert str(team[9]) in second.text.split("<tbody>")[1]


def test_the_week_view_runs_a_fixed_number_of_queries(
    client_for, front_desk, monday, django_assert_max_num_queries
):
    team = [UserFactory(role=roles.PRACTITIONER) for _ in range(5)]
    fill_clinic(monday, team, 3)
    fill_clinic(monday + datetime.timedelta(days=1), team, 3)
    client = client_for(front_desk)
    with django_assert_max_num_queries(10):
        response = client.get(f"{reverse('scheduling:week')}?date={monday:%Y-%m-%d}&practitioner=all")
    assert response.text.count("treatment 1 of 6") == 30


# --- quick actions ---------------------------------------------------------------------------------


def test_check_in_by_htmx_swaps_the_row(todays, client_for, front_desk):
    response = client_for(front_desk).post(
        reverse("scheduling:session-check-in", args=[todays.pk]), {"next": day_url()}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith("<tr") or f'id="appointment-{todays.pk}"' in response.text
    assert "Checked in" in response.text
    assert "<html" not in response.text
    todays.refresh_from_db()
    assert todays.status == SessionStatus.CHECKED_IN
    assert todays.checked_in_at is not None
    assert todays.version == 2


def test_check_in_without_javascript_redirects_back(todays, client_for, front_desk):
    response = client_for(front_desk).post(
        reverse("scheduling:session-check-in", args=[todays.pk]), {"next": day_url()}
    )
    assert response.status_code == 302
    assert response["Location"] == day_url()
    todays.refresh_from_db()
    assert todays.status == SessionStatus.CHECKED_IN


def test_an_unsafe_next_address_is_ignored(todays, client_for, front_desk):
    response = client_for(front_desk).post(
        reverse("scheduling:session-check-in", args=[todays.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"].startswith(reverse("scheduling:day"))


def test_a_future_day_cannot_be_checked_in(course, monday, client_for, front_desk):
    session = TreatmentSessionFactory(
        course=course, sequence=1, starts_at=at(monday, 10), ends_at=at(monday, 10, 30)
    )
    response = client_for(front_desk).post(
        reverse("scheduling:session-check-in", args=[session.pk]), HTTP_HX_REQUEST="true"
    )
    assert "day of their appointment" in response.text
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


def test_no_show_needs_the_appointment_to_have_started(todays, started, client_for, front_desk):
    client = client_for(front_desk)
    client.post(reverse("scheduling:session-no-show", args=[todays.pk]), HTTP_HX_REQUEST="true")
    client.post(reverse("scheduling:session-no-show", args=[started.pk]), HTTP_HX_REQUEST="true")
    todays.refresh_from_db()
    started.refresh_from_db()
    assert todays.status == SessionStatus.SCHEDULED
    assert started.status == SessionStatus.NO_SHOW


def test_cancel_needs_a_reason(todays, client_for, front_desk):
    client = client_for(front_desk)
    response = client.post(
        reverse("scheduling:session-cancel", args=[todays.pk]), {"reason": " "}, HTTP_HX_REQUEST="true"
    )
    assert "Say why" in response.text
    todays.refresh_from_db()
    assert todays.status == SessionStatus.SCHEDULED
    client.post(reverse("scheduling:session-cancel", args=[todays.pk]), {"reason": "Patient has flu"})
    todays.refresh_from_db()
    assert todays.status == SessionStatus.CANCELLED
    assert todays.cancel_reason == "Patient has flu"
    assert todays.cancelled_at is not None


def test_actions_are_post_only(todays, client_for, front_desk):
    client = client_for(front_desk)
    for name in ("session-check-in", "session-no-show", "session-cancel"):
        assert client.get(reverse(f"scheduling:{name}", args=[todays.pk])).status_code == 405


def test_practitioners_cannot_run_front_desk_actions(todays, client_for, practitioner):
    response = client_for(practitioner).post(reverse("scheduling:session-check-in", args=[todays.pk]))
    assert response.status_code == 403
    todays.refresh_from_db()
    assert todays.status == SessionStatus.SCHEDULED
