"""The patient's journey through a questionnaire link: no account, a date-of-birth check, answers saved
as they go, one submission, and the score in the course's score history."""

import datetime
import hashlib

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from courses.models import OutcomeScore
from outcomes.models import CourseOutcome
from questionnaires.models import Answer, Assignment, AssignmentStatus, LinkLock
from questionnaires.services import assignment_invite
from tests.factories import AssignmentFactory, PatientFactory, TreatmentCourseFactory, TreatmentSessionFactory

pytestmark = pytest.mark.django_db

DOB = datetime.date(1970, 3, 2)


@pytest.fixture
def assignment():
    patient = PatientFactory(date_of_birth=DOB, given_name="Ada", email="ada@mail.example")
    course = TreatmentCourseFactory(patient=patient, status="completed", baseline_pain=8)
    TreatmentSessionFactory(
        course=course, sequence=1, completed=True, starts_at=timezone.now() - datetime.timedelta(days=84)
    )
    return AssignmentFactory(course=course)


@pytest.fixture
def link(assignment):
    return reverse("answer:start", args=[assignment_invite(assignment=assignment)])


def confirm(client, link, day=DOB):
    return client.post(link, {"day": day.day, "month": day.month, "year": day.year})


def test_only_the_digest_of_the_links_secret_is_stored_and_the_link_carries_nothing_else(assignment):
    token = assignment_invite(assignment=assignment)
    assignment.refresh_from_db()
    assert assignment.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Assignment.objects.filter(pk=assignment.pk).values().get())
    assert reverse("answer:start", args=[token]) == f"/q/{token}/"
    assert assignment.status == AssignmentStatus.SENT


def test_opening_the_link_shows_the_clinic_and_changes_nothing(client, assignment, link):
    page = client.get(link)
    assert page.status_code == 200
    html = page.content.decode()
    assert "ProloTrack Demo Clinic" in html and "01632 960000" in html
    assert "Ada" not in html and "Knee" not in html  # nothing about the patient before the check
    assert "/patients/" not in html and "Sign out" not in html  # nothing of the staff site
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SENT


def test_the_right_date_of_birth_opens_the_first_question(client, assignment, link):
    response = confirm(client, link)
    assert response.status_code == 302
    assert response["Location"].endswith("/questions/1/")
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.OPENED


def test_the_questions_need_the_date_of_birth_first(client, link):
    response = client.get(link + "questions/1/")
    assert response.status_code == 302 and response["Location"] == link


def test_a_wrong_date_of_birth_is_refused_and_counted(client, assignment, link):
    response = confirm(client, link, datetime.date(1971, 3, 2))
    assert response.status_code == 400
    assert "does not match" in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.failed_checks == 1 and assignment.status == AssignmentStatus.SENT


def test_five_wrong_dates_of_birth_lock_the_link_for_an_hour_and_tell_the_clinic(
    client, assignment, link, settings
):
    settings.CLINIC_EMAIL = "clinic@clinic.example"
    for _ in range(4):
        assert confirm(client, link, datetime.date(1980, 1, 1)).status_code == 400
    response = confirm(client, link, datetime.date(1980, 1, 1))
    assert response.status_code == 429
    assert "locked" in response.content.decode()
    assert LinkLock.objects.filter(assignment=assignment).exists()
    # Even the right date of birth is refused while locked.
    assert confirm(client, link).status_code == 429
    assert client.get(link).status_code == 429


def test_the_clinic_is_emailed_when_a_link_locks(assignment, settings, django_capture_on_commit_callbacks):
    from questionnaires.services import identity_confirm

    settings.CLINIC_EMAIL = "clinic@clinic.example"
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            identity_confirm(assignment=assignment, date_of_birth=datetime.date(1980, 1, 1))
    (message,) = mail.outbox
    assert message.to == ["clinic@clinic.example"]
    assert f"course {assignment.course_id}" in message.body
    assert assignment.course.patient.family_name not in message.body


def test_the_lock_lifts_after_an_hour(assignment):
    from questionnaires.services import identity_confirm

    now = timezone.now()
    for _ in range(5):
        identity_confirm(assignment=assignment, date_of_birth=datetime.date(1980, 1, 1), now=now)
    assert identity_confirm(
        assignment=assignment, date_of_birth=DOB, now=now + datetime.timedelta(minutes=61)
    )


def test_answers_are_saved_as_they_go_and_resume_where_the_patient_left(assignment, link):
    patient = Client()
    confirm(patient, link)
    item = assignment.questionnaire.items.get()
    response = patient.post(link + "questions/1/", {"answer": "3"})
    assert response["Location"] == link + "review/"
    assert Answer.objects.get(assignment=assignment, item=item).value_integer == 3
    # Coming back later with the same link: straight to what is left (here, the review).
    assert patient.get(link)["Location"] == link + "review/"
    page = patient.get(link + "questions/1/")
    assert 'value="3" checked' in page.content.decode()


def test_an_answer_the_item_does_not_offer_is_refused_and_nothing_is_saved(client, assignment, link):
    confirm(client, link)
    response = client.post(link + "questions/1/", {"answer": "11"})
    assert response.status_code == 400
    assert not Answer.objects.exists()


def test_submitting_scores_on_the_server_and_records_a_patient_score(client, assignment, link):
    confirm(client, link)
    client.post(link + "questions/1/", {"answer": "3"})
    response = client.post(link + "review/")
    assert response["Location"] == reverse("answer:done")
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.COMPLETED
    assert assignment.score == 3
    score = OutcomeScore.objects.get(course=assignment.course)
    assert assignment.outcome_score == score
    assert (score.source, score.timepoint, score.score, score.instrument.code) == ("patient", "w12", 3, "NRS")
    # The outcome summary follows in the same transaction.
    assert CourseOutcome.objects.get(course=assignment.course).latest_pain == 3


def test_a_used_link_is_refused_like_an_unknown_one(client, assignment, link):
    confirm(client, link)
    client.post(link + "questions/1/", {"answer": "3"})
    client.post(link + "review/")
    used = client.get(link)
    unknown = client.get(reverse("answer:start", args=["A" * 43]))
    assert used.status_code == unknown.status_code == 404
    assert used.content == unknown.content
    assert client.post(link + "review/").status_code == 404
    assert OutcomeScore.objects.count() == 1


def test_submitting_without_the_required_answers_is_refused(client, assignment, link):
    confirm(client, link)
    response = client.post(link + "review/")
    assert response.status_code == 400
    assert "Please answer question 1" in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.OPENED


def test_an_expired_link_is_refused_clearly(client, assignment, link):
    Assignment.objects.filter(pk=assignment.pk).update(
        closes_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    response = client.get(link)
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_the_pages_keep_csrf_protection(assignment, link):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(link, {"day": 2, "month": 3, "year": 1970}).status_code == 403


def test_invitations_go_through_the_outbox_with_the_link_and_nothing_clinical(
    assignment, settings, django_capture_on_commit_callbacks
):
    from clinic.models import OutboundMessage

    settings.SITE_URL = "https://prolo.example.org"
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_invitations", stdout=open("/dev/null", "w"))  # noqa: SIM115
    (message,) = mail.outbox
    assert message.to == ["ada@mail.example"]
    body = message.body + message.subject
    assert "https://prolo.example.org/q/" in body
    assert "01632 960000" in body
    for clinical in ("pain", "Pain", "NRS", "Knee", "osteoarthritis", "score"):
        assert clinical not in body
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SENT and assignment.token_hash
    # The link's secret was made when the worker sent it: it never rested in the outbox.
    stored = OutboundMessage.objects.get(kind="questionnaire_invitation")
    assert stored.status == "sent" and "/q/" not in stored.body
    # Once per questionnaire: another round queues nothing.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("queue_messages", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert len(mail.outbox) == 1


def test_the_course_page_lists_the_questionnaires_and_a_locked_link(client_for, practitioner, assignment):
    from questionnaires.services import identity_confirm

    for _ in range(5):
        identity_confirm(assignment=assignment, date_of_birth=datetime.date(1980, 1, 1))
    page = client_for(practitioner).get(reverse("courses:course-detail", args=[assignment.course_id]))
    html = page.content.decode()
    assert "Patient questionnaires" in html and "Pain numeric rating scale" in html
    assert "locked" in html


def test_front_desk_sees_the_status_but_no_score(client_for, front_desk, assignment):
    Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.COMPLETED, score=7)
    html = (
        client_for(front_desk)
        .get(reverse("courses:course-detail", args=[assignment.course_id]))
        .content.decode()
    )
    assert "Completed" in html and "Score</th>" not in html


def test_a_window_that_closed_unanswered_reads_as_expired_before_the_next_run(assignment):
    Assignment.objects.filter(pk=assignment.pk).update(
        closes_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SCHEDULED
    assert assignment.shown_status == AssignmentStatus.EXPIRED and assignment.status_badge == "warning"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ({"day": "31", "month": "2", "year": "1970"}, "not a real date"),
        ({"day": "", "month": "3", "year": "1970"}, "Enter the day"),
        ({"day": "2", "month": "13", "year": "1970"}, "Check the month"),
        ({"day": "2", "month": "3", "year": "3000"}, "Check the year"),
    ],
)
def test_a_date_that_cannot_be_a_birth_date_is_refused_without_counting(
    client, assignment, link, typed, message
):
    response = client.post(link, typed)
    assert response.status_code == 400 and message in response.content.decode()
    assert 'value="3"' in response.content.decode() or typed["month"] != "3"  # what was typed is kept
    assignment.refresh_from_db()
    assert assignment.failed_checks == 0
