"""The course page's questionnaire actions: sending an invitation again through the outbox, and handing the
clinic tablet to the patient without leaving the staff session on it."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from clinic.models import OutboundMessage
from clinic.outbox import message_deliver
from questionnaires.models import AssignmentStatus, StaffAction
from questionnaires.services import RESENDS_ALLOWED, assignment_resend
from tests.factories import AssignmentFactory, PatientFactory, TreatmentCourseFactory, UserFactory

pytestmark = pytest.mark.django_db

DOB = datetime.date(1970, 3, 2)


@pytest.fixture
def assignment():
    patient = PatientFactory(date_of_birth=DOB, given_name="Ada", email="ada@mail.example")
    return AssignmentFactory(course=TreatmentCourseFactory(patient=patient, status="completed"))


def send_again(client, assignment):
    return client.post(reverse("questionnaires:assignment-send-again", args=[assignment.pk]), follow=True)


def tablet(client, assignment):
    return client.post(reverse("questionnaires:assignment-tablet", args=[assignment.pk]))


def test_the_course_page_offers_both_actions_to_front_desk(client, front_desk, assignment):
    client.force_login(front_desk)
    html = client.get(reverse("courses:course-detail", args=[assignment.course_id])).content.decode()
    assert reverse("questionnaires:assignment-send-again", args=[assignment.pk]) in html
    assert reverse("questionnaires:assignment-tablet", args=[assignment.pk]) in html


def test_clinic_admins_see_the_status_but_not_the_actions(client, clinic_admin, assignment):
    client.force_login(clinic_admin)
    html = client.get(reverse("courses:course-detail", args=[assignment.course_id])).content.decode()
    assert "Patient questionnaires" in html
    assert "send-again" not in html and "tablet" not in html


def test_the_button_says_send_now_until_the_first_invitation_and_send_again_after(
    client, front_desk, assignment
):
    client.force_login(front_desk)
    course_page = reverse("courses:course-detail", args=[assignment.course_id])
    assert "Send now" in client.get(course_page).content.decode()
    assignment.invited_at = timezone.now() - datetime.timedelta(hours=1)
    assignment.save()
    html = client.get(course_page).content.decode()
    assert "Send again" in html and "Send now" not in html
    assert (
        "will be e-mailed again to ada@mail.example with a new link"
        in send_again(client, assignment).content.decode()
    )


def test_sending_again_queues_a_new_invitation_whose_link_is_made_when_sent(
    client, front_desk, assignment, django_capture_on_commit_callbacks
):
    client.force_login(front_desk)
    with django_capture_on_commit_callbacks(execute=True):
        page = send_again(client, assignment)
    assert "will be e-mailed to ada@mail.example now." in page.content.decode()  # never sent before
    message = OutboundMessage.objects.get(key=f"assignment:{assignment.pk}:resend:1")
    assert message.kind == "questionnaire_invitation" and message.recipient == "ada@mail.example"
    assert "/q/" not in message.body
    assert mail.outbox and "/q/" in mail.outbox[-1].body
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SENT and assignment.token_hash
    action = StaffAction.objects.get()
    assert (action.kind, action.by) == ("resend", front_desk)


def test_the_worker_does_not_send_a_resend_of_a_questionnaire_answered_meanwhile(assignment):

    assignment_resend(assignment=assignment, by=UserFactory())
    message = OutboundMessage.objects.get(key__endswith=":resend:1")
    assignment.status, assignment.completed_at = AssignmentStatus.COMPLETED, timezone.now()
    assignment.save()
    message_deliver.call(message.pk)
    assert not mail.outbox


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"closes_at": timezone.now() - datetime.timedelta(minutes=1)}, "window has closed"),
        ({"status": "completed"}, "is completed"),
        ({"opens_at": timezone.now() + datetime.timedelta(days=1)}, "opens on"),
    ],
)
def test_sending_again_is_refused_clearly_and_changes_nothing(client, front_desk, change, words):
    values = {"opens_at": timezone.now() - datetime.timedelta(days=30), **change}
    if "closes_at" not in values:
        values["closes_at"] = timezone.now() + datetime.timedelta(days=5)
    assignment = AssignmentFactory(course__patient__email="ada@mail.example", **values)
    client.force_login(front_desk)
    page = send_again(client, assignment)
    assert words in page.content.decode()
    assert not OutboundMessage.objects.exists() and not StaffAction.objects.exists()


def test_sending_again_to_a_patient_without_an_email_is_refused(client, practitioner):
    assignment = AssignmentFactory(course__patient__email="")
    client.force_login(practitioner)
    assert "has no e-mail address" in send_again(client, assignment).content.decode()
    assert not OutboundMessage.objects.exists()


def test_sending_again_is_rate_limited(client, front_desk, assignment):
    client.force_login(front_desk)
    send_again(client, assignment)
    assert "less than 15 minutes ago" in send_again(client, assignment).content.decode()
    StaffAction.objects.update(at=timezone.now() - datetime.timedelta(hours=1))
    for _ in range(RESENDS_ALLOWED - 1):
        send_again(client, assignment)
        StaffAction.objects.update(at=timezone.now() - datetime.timedelta(hours=1))
    assert "consider calling the patient" in send_again(client, assignment).content.decode()
    assert OutboundMessage.objects.count() == RESENDS_ALLOWED


def test_the_tablet_signs_the_staff_out_and_opens_the_patients_page(client, front_desk, assignment):
    client.force_login(front_desk)
    old_session = client.session.session_key
    response = tablet(client, assignment)
    assert response.status_code == 302 and response["Location"].startswith("/q/")
    assert client.session.session_key != old_session
    assert "_auth_user_id" not in client.session
    # The staff site is closed to whoever holds the tablet now.
    assert client.get(reverse("courses:course-detail", args=[assignment.course_id])).status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200 and "date of birth" in page.content.decode().lower()
    confirmed = client.post(response["Location"], {"day": DOB.day, "month": DOB.month, "year": DOB.year})
    assert confirmed.status_code == 302 and "/1/" in confirmed["Location"]
    action = StaffAction.objects.get()
    assert (action.kind, action.by) == ("tablet", front_desk)


def test_the_tablet_is_refused_when_the_window_has_closed_and_the_staff_stay_signed_in(client, practitioner):
    assignment = AssignmentFactory(
        opens_at=timezone.now() - datetime.timedelta(days=30),
        closes_at=timezone.now() - datetime.timedelta(days=1),
    )
    client.force_login(practitioner)
    page = client.post(reverse("questionnaires:assignment-tablet", args=[assignment.pk]), follow=True)
    assert "cannot be filled in now" in page.content.decode()
    assert "_auth_user_id" in client.session
    assert not StaffAction.objects.exists()


def test_a_get_changes_nothing(client, front_desk, assignment):
    client.force_login(front_desk)
    assert client.get(reverse("questionnaires:assignment-tablet", args=[assignment.pk])).status_code == 405
    assert "_auth_user_id" in client.session
