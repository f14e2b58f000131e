"""A check-in reporting a fever or a hot swollen joint alerts the course's practitioner the same day: a row
the staff see until acknowledged, and an e-mail through the outbox with nothing clinical in it."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clinic.models import OutboundMessage
from questionnaires.alerts import alert_acknowledge
from questionnaires.models import AssignmentStatus, UrgentAlert
from questionnaires.services import answer_save, assignment_invite, identity_confirm, response_submit
from tests.factories import (
    AssignmentFactory,
    PatientFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    shipped_questionnaire,
)

pytestmark = pytest.mark.django_db

DOB = datetime.date(1970, 3, 2)


@pytest.fixture
def check_in(practitioner):
    patient = PatientFactory(date_of_birth=DOB, email="ada@mail.example")
    course = TreatmentCourseFactory(patient=patient, practitioner=practitioner, status="active")
    session = TreatmentSessionFactory(
        course=course, completed=True, starts_at=timezone.now() - datetime.timedelta(hours=30)
    )
    assignment = AssignmentFactory(
        course=course,
        questionnaire=shipped_questionnaire("check-in"),
        anchor="after",
        session=session,
        timepoint=None,
    )
    assignment_invite(assignment=assignment)
    identity_confirm(assignment=assignment, date_of_birth=DOB)
    assignment.refresh_from_db()
    return assignment


def answer_all(assignment, fever="none"):
    for item in assignment.questionnaire.items.prefetch_related("choices"):
        if item.link_id == "pain-now":
            raw = "4"
        elif item.answer_type == "choice" and item.required:
            code = fever if item.link_id == "fever" else "mild"
            raw = str(item.choices.get(code=code).pk)
        else:
            raw = ""
        answer_save(assignment=assignment, item=item, raw=raw)


def test_a_fever_raises_an_alert_and_emails_the_practitioner_nothing_clinical(
    check_in, practitioner, django_capture_on_commit_callbacks
):
    practitioner.email = "hale@clinic.example"
    practitioner.save()
    answer_all(check_in, fever="moderate")
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(assignment=check_in)
    alert = UrgentAlert.objects.get()
    assert (alert.course, alert.practitioner, alert.acknowledged_at) == (check_in.course, practitioner, None)
    assert "Fever" in alert.reason and "moderate" in alert.reason
    sent = mail.outbox[-1]
    assert sent.to == ["hale@clinic.example"]
    assert "needs your attention" in sent.body
    assert f"/courses/{check_in.course_id}/" in sent.body
    for clinical in ("ever", "swollen", "moderate", check_in.course.patient.family_name):
        assert clinical not in sent.body and clinical not in sent.subject


def test_a_check_in_without_fever_raises_nothing(check_in):
    answer_all(check_in, fever="none")
    response_submit(assignment=check_in)
    assert not UrgentAlert.objects.exists()
    assert not OutboundMessage.objects.filter(kind="urgent_check_in").exists()


def test_a_refused_submission_raises_nothing(check_in):
    check_in.status = AssignmentStatus.SENT
    check_in.save()
    with pytest.raises(ValidationError):
        response_submit(assignment=check_in)
    assert not UrgentAlert.objects.exists()


def test_the_practitioner_sees_and_acknowledges_the_alert_with_who_and_when(client, check_in, practitioner):
    answer_all(check_in, fever="severe")
    response_submit(assignment=check_in)
    alert = UrgentAlert.objects.get()
    client.force_login(practitioner)
    course_page = reverse("courses:course-detail", args=[check_in.course_id])
    assert "Urgent check-ins" in client.get(course_page).content.decode()
    listing = client.get(reverse("questionnaires:urgent-alerts")).content.decode()
    assert course_page in listing
    page = client.post(reverse("questionnaires:urgent-alert-acknowledge", args=[alert.pk]), follow=True)
    assert "Acknowledged" in page.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_by == practitioner and alert.acknowledged_at is not None
    assert "acknowledged by" in page.content.decode()
    assert course_page not in client.get(reverse("questionnaires:urgent-alerts")).content.decode()
    with pytest.raises(ValidationError, match="acknowledged it"):
        alert_acknowledge(alert=alert, by=practitioner)


def test_front_desk_does_not_see_the_alert(client, check_in, front_desk):
    answer_all(check_in, fever="mild")
    response_submit(assignment=check_in)
    client.force_login(front_desk)
    html = client.get(reverse("courses:course-detail", args=[check_in.course_id])).content.decode()
    assert "Urgent check-ins" not in html
