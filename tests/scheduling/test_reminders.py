import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from courses.models import SessionStatus
from scheduling.reminders import reminders_send
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
def due(db):
    return in_hours(20, given_name="Ruth", email="ruth@mail.example")


def test_running_twice_sends_each_due_reminder_once(due, settings):
    settings.CLINIC_NAME, settings.CLINIC_PHONE = "Harbour Clinic", "01632 960123"
    call_command("send_reminders")
    call_command("send_reminders")
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


def test_the_message_holds_no_clinical_detail(due):
    reminders_send()
    text = (mail.outbox[0].subject + mail.outbox[0].body).lower()
    assert not [word for word in CLINICAL_WORDS if word.lower() in text]


def test_patients_who_opted_out_or_have_no_email_get_nothing(db):
    in_hours(5, reminders_allowed=False)
    in_hours(5, email="")
    assert reminders_send() == 0
    assert mail.outbox == []


def test_cancelled_and_far_off_sessions_get_nothing(db):
    cancelled = in_hours(5)
    cancelled.status, cancelled.cancel_reason = SessionStatus.CANCELLED, "Unwell"
    cancelled.save()
    in_hours(48)
    in_hours(-2)
    assert reminders_send() == 0


def test_a_failure_half_way_keeps_what_was_sent_and_leaves_the_rest_for_next_time(db, monkeypatch):
    first, second = in_hours(3), in_hours(4)
    real_send = __import__("scheduling.reminders", fromlist=["send_mail"]).send_mail
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise ConnectionError("SMTP down")
        return real_send(*args, **kwargs)

    monkeypatch.setattr("scheduling.reminders.send_mail", flaky)
    with pytest.raises(ConnectionError):
        reminders_send()
    sent = [s for s in (first, second) if (s.refresh_from_db() or s.reminder_sent_at)]
    assert len(sent) == 1 and len(mail.outbox) == 1
    monkeypatch.setattr("scheduling.reminders.send_mail", real_send)
    assert reminders_send() == 1
    assert len(mail.outbox) == 2
    assert {m.to[0] for m in mail.outbox} == {first.patient.email, second.patient.email}


def test_the_reminder_window_comes_from_the_protocol(db):
    from courses.models import ProtocolSettings

    protocol = ProtocolSettings.load()
    protocol.reminder_hours_before = 72
    protocol.save()
    in_hours(60)
    assert reminders_send() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_the_same_moment_send_each_reminder_once(role_groups):
    import threading

    from django.db import connections

    sessions = [in_hours(2 + n) for n in range(8)]
    barrier = threading.Barrier(3)
    counts = []

    def run():
        try:
            barrier.wait()
            counts.append(reminders_send())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == len(sessions)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(s.patient.email for s in sessions)
