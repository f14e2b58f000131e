import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from clinic.models import MessageStatus, OutboundMessage
from clinic.outbox import messages_sweep
from courses.models import SessionStatus
from scheduling.diary import visit_reschedule
from scheduling.reminders import reminder_key, reminders_queue
from tests.factories import PatientFactory, TreatmentCourseFactory, TreatmentSessionFactory

CLINICAL_WORDS = (
    "knee",
    "osteoarthritis",
    "dextrose",
    "injection",
    "prolotherapy",
    "pain",
    "session",
    "Hale",
)


def in_hours(hours, **patient_fields):
    start = timezone.now() + datetime.timedelta(hours=hours)
    course = TreatmentCourseFactory(patient=PatientFactory(**patient_fields))
    return TreatmentSessionFactory(
        course=course, sequence=1, starts_at=start, ends_at=start + datetime.timedelta(minutes=30)
    )


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Queue the due reminders and let the worker (the tests' immediate backend) send them at commit."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return reminders_queue(**kwargs)

    return run


@pytest.fixture
def due(db):
    return in_hours(20, given_name="Ruth", email="ruth@mail.example")


def test_running_twice_sends_each_due_reminder_once(due, settings, django_capture_on_commit_callbacks):
    settings.CLINIC_NAME, settings.CLINIC_PHONE = "Harbour Clinic", "01632 960123"
    with django_capture_on_commit_callbacks(execute=True):
        call_command("queue_messages")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("queue_messages")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ruth@mail.example"]
    local = timezone.localtime(due.starts_at)
    assert "Harbour Clinic" in message.body
    assert f"{local:%H:%M}" in message.body
    assert local.strftime("%B") in message.body
    assert "01632 960123" in message.body
    due.refresh_from_db()
    assert due.reminder_sent_at is not None
    outbox = OutboundMessage.objects.get()
    assert (outbox.kind, outbox.key, outbox.status) == ("reminder", reminder_key(due), MessageStatus.SENT)


def test_the_old_command_name_still_queues_reminders(due, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders")
    assert len(mail.outbox) == 1


def test_the_message_holds_no_clinical_detail(due, send):
    send()
    text = (mail.outbox[0].subject + mail.outbox[0].body).lower()
    assert not [word for word in CLINICAL_WORDS if word.lower() in text]
    assert "ruth" in text


def test_patients_who_opted_out_or_have_no_email_or_are_archived_get_nothing(db, send):
    in_hours(5, reminders_allowed=False)
    in_hours(5, email="")
    in_hours(5, archived=True, archived_reason="Moved away", archived_at=timezone.now())
    assert send() == 0
    assert mail.outbox == []
    assert not OutboundMessage.objects.exists()


def test_cancelled_and_far_off_sessions_get_nothing(db, send):
    cancelled = in_hours(5)
    cancelled.status, cancelled.cancel_reason = SessionStatus.CANCELLED, "Unwell"
    cancelled.save()
    in_hours(48)
    in_hours(-2)
    assert send() == 0


def test_a_mail_server_failure_keeps_the_reminder_queued_for_a_later_try(db, send, monkeypatch):
    first, second = in_hours(3), in_hours(4)
    real_send = __import__("clinic.outbox", fromlist=["send_mail"]).send_mail
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise ConnectionError("SMTP down")
        return real_send(*args, **kwargs)

    monkeypatch.setattr("clinic.outbox.send_mail", flaky)
    assert send() == 2
    assert len(mail.outbox) == 1
    waiting = OutboundMessage.objects.get(status=MessageStatus.QUEUED)
    assert waiting.last_error == "ConnectionError: SMTP down" and waiting.attempts == 1
    # The next run queues nothing new: the reminder is in the outbox, and the sweep hands it back when due.
    assert send() == 0
    later = waiting.next_attempt_at + datetime.timedelta(minutes=11)
    monkeypatch.setattr("clinic.outbox.timezone.now", lambda: later)
    messages_sweep(now=later)
    assert len(mail.outbox) == 2
    assert {m.to[0] for m in mail.outbox} == {first.patient.email, second.patient.email}
    assert OutboundMessage.objects.filter(status=MessageStatus.SENT).count() == 2


def test_the_reminder_window_comes_from_the_protocol(db, send):
    from courses.models import ProtocolSettings

    protocol = ProtocolSettings.load()
    protocol.reminder_hours_before = 72
    protocol.save()
    in_hours(60)
    assert send() == 1


def test_a_moved_visit_gets_a_reminder_for_its_new_time(db, send, front_desk, practitioner, works_every_day):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(tomorrow, datetime.time(10), tzinfo=zone)
    now = datetime.datetime.combine(tomorrow, datetime.time(0, 30), tzinfo=zone)
    session = TreatmentSessionFactory(
        course=TreatmentCourseFactory(
            practitioner=practitioner, patient=PatientFactory(email="ruth@mail.example")
        ),
        practitioner=practitioner,
        sequence=1,
        starts_at=start,
        ends_at=start + datetime.timedelta(minutes=30),
    )
    assert send(now=now) == 1
    visit_reschedule(session=session, starts_at=start + datetime.timedelta(hours=3), by=front_desk)
    assert send(now=now) == 1
    assert [m.body.count("13:00") > 0 for m in mail.outbox] == [False, True]
    assert "10:00" in mail.outbox[0].body
    assert OutboundMessage.objects.filter(kind="reminder", status=MessageStatus.SENT).count() == 2


def test_a_second_queueing_of_the_same_visit_is_refused_by_the_outbox(due, send):
    send()
    # As if the stamp had been lost (a crash between the outbox row and the stamp): the key still holds.
    type(due).objects.filter(pk=due.pk).update(reminder_sent_at=None)
    assert send() == 0
    assert len(mail.outbox) == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_the_same_moment_queue_each_reminder_once(role_groups):
    import threading

    from django.db import connections

    sessions = [in_hours(2 + n) for n in range(8)]
    barrier = threading.Barrier(3)
    counts = []

    def run():
        try:
            barrier.wait()
            counts.append(reminders_queue())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == len(sessions)
    assert OutboundMessage.objects.filter(kind="reminder").count() == len(sessions)
    # The immediate backend sent each at its run's commit.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(s.patient.email for s in sessions)
