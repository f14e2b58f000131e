import datetime
import random

from django.urls import reverse
from django.utils import timezone

from clinic.demo import seed_users
from courses.models import CourseStatus, TreatmentSession
from scheduling import demo
from scheduling.models import Closure, WorkingHours
from tests.factories import TreatmentCourseFactory, TreatmentSessionFactory
from tests.scheduling.conftest import at


def test_the_demo_diary_books_open_courses_through_the_rules_and_can_run_twice(db):
    users = seed_users()
    course = TreatmentCourseFactory(
        practitioner=users["dr.chen"], status=CourseStatus.ACTIVE, planned_sessions=4
    )
    TreatmentSessionFactory(
        course=course,
        sequence=1,
        completed=True,
        starts_at=at(timezone.localdate() - datetime.timedelta(days=20), 10),
        ends_at=at(timezone.localdate() - datetime.timedelta(days=20), 10, 30),
    )
    demo.seed(users=users, rng=random.Random(1))
    hours, closures = WorkingHours.objects.count(), Closure.objects.count()
    sessions = TreatmentSession.objects.count()
    assert not WorkingHours.objects.filter(practitioner=users["practitioner"], weekday=2).exists()
    # Public holidays from three years back (the demo's past visits keep to them) to next year.
    assert Closure.objects.filter(reason="Christmas Day").count() == 5
    assert course.sessions.filter(status="scheduled").count() == 3
    demo.seed(users=users, rng=random.Random(1))
    assert (WorkingHours.objects.count(), Closure.objects.count(), TreatmentSession.objects.count()) == (
        hours,
        closures,
        sessions,
    )


def test_easter_is_computed_for_any_year():
    assert demo.easter(2027) == datetime.date(2027, 3, 28)
    assert demo.easter(2030) == datetime.date(2030, 4, 21)


def test_front_desk_home_shows_todays_list(client_for, front_desk, practitioner):
    start = timezone.localtime().replace(hour=23, minute=0, second=0, microsecond=0)
    session = TreatmentSessionFactory(
        course=TreatmentCourseFactory(practitioner=practitioner),
        sequence=1,
        starts_at=start,
        ends_at=start + datetime.timedelta(minutes=30),
    )
    response = client_for(front_desk).get(reverse("home"))
    assert "Today&#x27;s list" in response.text or "Today's list" in response.text
    assert session.patient.full_name in response.text


def test_a_practitioners_home_shows_their_day(client_for, practitioner):
    response = client_for(practitioner).get(reverse("home"))
    assert "My day" in response.text
    assert "No appointments today." in response.text


def test_a_row_swapped_in_a_one_practitioner_table_keeps_its_columns(client_for, front_desk, practitioner):
    start = timezone.localtime().replace(hour=23, minute=0, second=0, microsecond=0)
    session = TreatmentSessionFactory(
        course=TreatmentCourseFactory(practitioner=practitioner),
        sequence=1,
        starts_at=start,
        ends_at=start + datetime.timedelta(minutes=30),
    )
    response = client_for(front_desk).post(
        reverse("scheduling:session-check-in", args=[session.pk]),
        {"one_practitioner": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert str(practitioner) not in response.text
    assert response.text.count("<td") == 5  # patient, course, session, status, actions


def test_the_menu_offers_the_calendar_and_work_lists_once(client_for, front_desk):
    text = client_for(front_desk).get(reverse("home")).text
    assert text.count('class="nav-link" href="/schedule/"') == 1
    assert text.count('class="nav-link" href="/schedule/work-lists/"') == 1
    assert text.count("Today&#x27;s list") + text.count("Today's list") == 1
