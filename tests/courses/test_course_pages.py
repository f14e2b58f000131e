from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.models import CourseStatus, TreatmentCourse
from tests.factories import (
    ConditionFactory,
    ConsentFactory,
    InjectionFactory,
    OutcomeScoreFactory,
    PatientFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)

pytestmark = pytest.mark.django_db


def plan(practitioner, **overrides):
    data = {
        "condition": ConditionFactory().pk,
        "body_region": "knee",
        "laterality": "right",
        "practitioner": practitioner.pk,
        "start_date": timezone.localdate().isoformat(),
        "planned_sessions": 6,
        "interval_days": 14,
        "baseline_pain": 7,
        "goals": "Walk the dog for 30 minutes",
        "deviation_reason": "",
    }
    data.update(overrides)
    return data


def test_the_create_form_starts_from_the_clinic_protocol(client_for, practitioner):
    patient = PatientFactory()
    response = client_for(practitioner).get(reverse("courses:course-create") + f"?patient={patient.pk}")
    assert response.status_code == 200
    assert response.context["form"].initial["planned_sessions"] == 6
    assert response.context["form"].initial["interval_days"] == 14
    assert "protocol deviation" in response.text


def test_it_plans_a_course_for_a_patient(client_for, practitioner):
    patient = PatientFactory()
    consent = ConsentFactory(patient=patient)
    response = client_for(practitioner).post(
        reverse("courses:course-create") + f"?patient={patient.pk}", plan(practitioner, consent=consent.pk)
    )
    course = TreatmentCourse.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("courses:course-detail", args=[course.pk])
    assert course.status == CourseStatus.PLANNED
    assert course.consent == consent
    assert course.created_by == practitioner
    assert not course.is_protocol_deviation


def test_a_plan_outside_the_protocol_comes_back_asking_for_a_reason_and_keeps_the_input(
    client_for, practitioner
):
    patient = PatientFactory()
    response = client_for(practitioner).post(
        reverse("courses:course-create") + f"?patient={patient.pk}",
        plan(practitioner, planned_sessions=10, goals="Typed goals"),
    )
    assert response.status_code == 200
    assert "deviation_reason" in response.context["form"].errors
    assert "Typed goals" in response.text
    assert not TreatmentCourse.objects.exists()


def test_a_plan_outside_the_protocol_is_saved_and_flagged_with_its_reason(client_for, practitioner):
    patient = PatientFactory()
    client_for(practitioner).post(
        reverse("courses:course-create") + f"?patient={patient.pk}",
        plan(practitioner, interval_days=7, deviation_reason="Weekly, as in Klein 1993"),
    )
    course = TreatmentCourse.objects.get(patient=patient)
    assert course.is_protocol_deviation
    assert course.deviation_reason == "Weekly, as in Klein 1993"


def test_the_course_page_shows_the_plan_timeline_and_responder_status(client_for, practitioner):
    course = TreatmentCourseFactory(baseline_pain=8)
    session = TreatmentSessionFactory(course=course, sequence=1, completed=True, pain_pre=8)
    InjectionFactory(session=session, volume_ml=Decimal("2.5"))
    OutcomeScoreFactory(course=course, score=Decimal("3"))
    response = client_for(practitioner).get(reverse("courses:course-detail", args=[course.pk]))
    assert response.status_code == 200
    assert "1 of 6 sessions" in response.text
    assert "MCL femoral" in response.text
    assert "Responder" in response.text


def test_the_home_page_lists_the_practitioners_open_courses(client_for, practitioner):
    mine = TreatmentCourseFactory(practitioner=practitioner)
    other = TreatmentCourseFactory()
    response = client_for(practitioner).get(reverse("home"))
    assert reverse("courses:course-detail", args=[mine.pk]) in response.text
    assert reverse("courses:course-detail", args=[other.pk]) not in response.text
