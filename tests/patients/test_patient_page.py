import datetime
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courses.models import CourseStatus
from patients.selectors import patient_courses
from tests.factories import (
    ConsentFactory,
    OutcomeScoreFactory,
    PatientFactory,
    ScreeningFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)


def detail(patient):
    return reverse("patients:patient-detail", args=[patient.pk])


def at(days, hour=10):
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def course_with_sessions(patient, *, completed=3, upcoming=1, planned=6, hour=10, **kwargs):
    # A patient is in one place at a time: each course of the same patient gets its own hour.
    course = TreatmentCourseFactory(patient=patient, planned_sessions=planned, **kwargs)
    for number in range(1, completed + 1):
        start = at(-14 * (completed - number + 1), hour)
        TreatmentSessionFactory(
            course=course,
            sequence=number,
            starts_at=start,
            ends_at=start + datetime.timedelta(minutes=30),
            completed=True,
            pain_pre=8 - number,
        )
    for number in range(completed + 1, completed + upcoming + 1):
        start = at(7 * (number - completed), hour)
        TreatmentSessionFactory(
            course=course, sequence=number, starts_at=start, ends_at=start + datetime.timedelta(minutes=30)
        )
    return course


def test_the_page_shows_demographics(client_for, front_desk):
    patient = PatientFactory(
        given_name="Zoë", family_name="Ågren", phone="07700 900123", email="zoe@mail.example"
    )
    response = client_for(front_desk).get(detail(patient))
    assert response.status_code == 200
    assert "Zoë Ågren" in response.text
    assert patient.mrn in response.text
    assert "07700 900123" in response.text
    assert "zoe@mail.example" in response.text


def test_a_missing_patient_is_a_404(client_for, front_desk):
    assert client_for(front_desk).get(reverse("patients:patient-detail", args=[999999])).status_code == 404


def test_it_shows_course_progress_next_appointment_and_latest_pain(client_for, practitioner):
    patient = PatientFactory()
    course = course_with_sessions(patient, completed=3, upcoming=2, planned=6)
    page = client_for(practitioner).get(detail(patient)).text
    assert "session 3 of 6" in page
    assert reverse("courses:course-detail", args=[course.pk]) in page
    assert f"{reverse('courses:course-create')}?patient={patient.pk}" in page
    assert timezone.localtime(at(7)).strftime("%a %-d %b") in page
    assert "5/10" in page  # the third completed session: pain 8 - 3


def test_a_later_nrs_score_is_the_latest_pain(practitioner):
    patient = PatientFactory()
    course = course_with_sessions(patient, completed=2, upcoming=0)
    OutcomeScoreFactory(course=course, score=Decimal("2"), recorded_on=timezone.localdate())
    [summary] = patient_courses(patient)
    assert summary.latest_pain == 2
    assert summary.latest_pain_on == timezone.localdate()


def test_a_session_pain_later_than_the_last_score_is_the_latest_pain(practitioner):
    patient = PatientFactory()
    course = course_with_sessions(patient, completed=3, upcoming=0)
    OutcomeScoreFactory(
        course=course, score=Decimal("1"), recorded_on=timezone.localdate() - datetime.timedelta(60)
    )
    [summary] = patient_courses(patient)
    assert (summary.latest_pain, summary.latest_pain_on) == (5, timezone.localdate(at(-14)))


def test_next_session_skips_cancelled_and_past_bookings(practitioner):
    patient = PatientFactory()
    course = course_with_sessions(patient, completed=1, upcoming=0)
    TreatmentSessionFactory(
        course=course, sequence=2, starts_at=at(-1), ends_at=at(-1) + datetime.timedelta(minutes=30)
    )
    TreatmentSessionFactory(
        course=course,
        sequence=3,
        starts_at=at(3),
        ends_at=at(3) + datetime.timedelta(minutes=30),
        status="cancelled",
        cancel_reason="Patient unwell",
    )
    TreatmentSessionFactory(
        course=course, sequence=4, starts_at=at(9), ends_at=at(9) + datetime.timedelta(minutes=30)
    )
    [summary] = patient_courses(patient)
    assert summary.next_session_at == at(9)
    assert summary.completed_sessions == 1


def test_a_patient_without_courses_costs_one_query(db):
    patient = PatientFactory()
    with CaptureQueriesContext(connection) as queries:
        assert patient_courses(patient) == []
    assert len(queries) == 1


def test_courses_are_split_into_current_and_past(client_for, practitioner):
    patient = PatientFactory()
    course_with_sessions(patient, completed=1, upcoming=0)
    done = course_with_sessions(patient, completed=0, upcoming=0, hour=11, status=CourseStatus.COMPLETED)
    response = client_for(practitioner).get(detail(patient))
    assert [c.pk for c in response.context["past_courses"]] == [done.pk]
    assert len(response.context["current_courses"]) == 1


def test_front_desk_sees_the_schedule_but_not_pain_scores(client_for, front_desk):
    patient = PatientFactory()
    course_with_sessions(patient, completed=2, upcoming=1)
    page = client_for(front_desk).get(detail(patient)).text
    assert "session 2 of 6" in page
    assert "Latest pain" not in page
    assert "/10" not in page


def test_the_course_summary_takes_three_queries_however_many_courses(db):
    patient = PatientFactory()
    course_with_sessions(patient, completed=1, upcoming=1)
    with CaptureQueriesContext(connection) as one:
        patient_courses(patient)
    for hour in range(11, 15):
        course_with_sessions(patient, completed=3, upcoming=2, hour=hour)
    with CaptureQueriesContext(connection) as five:
        assert len(patient_courses(patient)) == 5
    assert len(one) == len(five) == 3  # courses, their sessions, their pain scores


def test_the_page_query_count_does_not_grow_with_the_record(client_for, clinic_admin):
    patient = PatientFactory()
    course_with_sessions(patient, completed=1, upcoming=0)
    client = client_for(clinic_admin)
    client.get(detail(patient))
    with CaptureQueriesContext(connection) as small:
        client.get(detail(patient))
    for hour in range(11, 14):
        course_with_sessions(patient, completed=2, upcoming=1, hour=hour)
        ScreeningFactory(patient=patient)
        ConsentFactory(patient=patient)
    with CaptureQueriesContext(connection) as full:
        assert client.get(detail(patient)).status_code == 200
    assert len(full) == len(small)
