"""The outbox's rules (clinic.outbox), with the tests' immediate task backend; the real worker is in
test_outbox_worker.py."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from clinic.env import tasks_config
from clinic.models import MessageStatus, OutboundMessage
from clinic.outbox import (
    CLAIM_TIMEOUT,
    LOST_AFTER,
    MAX_ATTEMPTS,
    SEND_TIME_BODIES,
    message_deliver,
    message_send_once,
    messages_sweep,
    retry_delay,
)
from tests.factories import OutboundMessageFactory

# Also when tests/clinic runs alone, without the suite-wide skip of tests/scheduling/conftest.py.
needs_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block's after-commit work (the enqueue; the immediate backend then sends)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def send_once(**overrides):
    fields = {"kind": "reminder", "key": "session:1", "to": "ruth@mail.example", "subject": "S", "body": "B"}
    return message_send_once(**{**fields, **overrides})


def smtp_down(*args, **kwargs):
    raise ConnectionRefusedError("mail server unreachable")


def test_it_sends_a_message_after_the_transaction_commits(db, committed):
    with committed():
        message = send_once()
        assert mail.outbox == []  # nothing leaves before the write is committed
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 1)
    assert message.sent_at is not None
    assert [m.to for m in mail.outbox] == [["ruth@mail.example"]]


def test_a_rolled_back_write_sends_nothing(db, committed):
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        send_once()
        raise RuntimeError("the booking failed")
    assert mail.outbox == []
    assert not OutboundMessage.objects.exists()


def test_a_second_message_of_the_same_kind_and_key_is_not_queued(db, committed):
    with committed():
        assert send_once()
        assert send_once(subject="Another text") is None
        assert send_once(kind="questionnaire")  # another kind about the same thing is its own message
    assert OutboundMessage.objects.count() == 2
    assert len(mail.outbox) == 2


def test_the_database_itself_refuses_a_second_row_of_the_same_kind_and_key(db):
    first = OutboundMessageFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboundMessageFactory(kind=first.kind, key=first.key)


def test_it_refuses_a_message_to_an_address_that_is_not_an_email(db):
    with pytest.raises(ValidationError):
        send_once(to="not an address")
    assert not OutboundMessage.objects.exists()


def test_a_failure_is_tried_again_further_apart_then_marked_failed(db, monkeypatch):
    monkeypatch.setattr("clinic.outbox.send_mail", smtp_down)
    message = OutboundMessageFactory()
    delays = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert message_deliver.call(message.pk) == ("failed" if attempt == MAX_ATTEMPTS else "will retry")
        message.refresh_from_db()
        assert message.attempts == attempt
        if message.status == MessageStatus.QUEUED:
            delays.append(message.next_attempt_at - message.claimed_at)
            OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert delays == [retry_delay(n) for n in range(1, MAX_ATTEMPTS)]
    assert delays == [datetime.timedelta(minutes=m) for m in (1, 4, 16, 64)]
    assert message.status == MessageStatus.FAILED
    assert message.last_error == "ConnectionRefusedError: mail server unreachable"
    assert mail.outbox == []


def body_with_a_link(message):
    return message.body.replace("{link}", f"https://clinic.example/q/secret-for-{message.key}")


def test_a_kind_may_finish_its_text_when_sent_so_no_secret_rests_in_the_outbox(db, committed, monkeypatch):
    monkeypatch.setitem(SEND_TIME_BODIES, "questionnaire", "tests.clinic.test_outbox.body_with_a_link")
    with committed():
        message = send_once(kind="questionnaire", key="assignment:3", body="Answer here: {link}")
    message.refresh_from_db()
    assert message.body == "Answer here: {link}"
    assert mail.outbox[0].body == "Answer here: https://clinic.example/q/secret-for-assignment:3"


def test_a_message_not_yet_due_or_already_taken_is_not_sent(db):
    later = OutboundMessageFactory(next_attempt_at=timezone.now() + datetime.timedelta(minutes=5))
    taken = OutboundMessageFactory(status=MessageStatus.SENDING, claimed_at=timezone.now())
    sent = OutboundMessageFactory(status=MessageStatus.SENT, sent_at=timezone.now())
    assert [message_deliver.call(m.pk) for m in (later, taken, sent)] == ["not waiting"] * 3
    assert mail.outbox == []


def test_the_sweep_hands_over_a_message_whose_enqueue_never_happened(db):
    # Created in a transaction whose after-commit work never ran: no task was handed to the queue.
    message = send_once()
    assert messages_sweep() == {"abandoned": 0, "handed_over": 0}  # it may still be on its way
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=F("next_attempt_at") - LOST_AFTER)
    assert messages_sweep() == {"abandoned": 0, "handed_over": 1}
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(mail.outbox) == 1


def test_the_sweep_gives_up_on_a_message_whose_last_try_died_half_way(db):
    stuck = OutboundMessageFactory(
        status=MessageStatus.SENDING,
        attempts=MAX_ATTEMPTS,
        claimed_at=timezone.now() - CLAIM_TIMEOUT - datetime.timedelta(seconds=1),
        claim_token="abc",
    )
    assert messages_sweep() == {"abandoned": 1, "handed_over": 0}
    stuck.refresh_from_db()
    assert stuck.status == MessageStatus.FAILED
    assert "may have gone out" in stuck.last_error
    assert mail.outbox == []


def test_the_queue_messages_command_repeats_only_when_asked(db, capsys):
    from django.core.management import call_command

    call_command("queue_messages")
    assert "Messages queued: 0" in capsys.readouterr().out


def test_repeating_it_survives_a_failed_round(db, monkeypatch, capsys):
    from django.core.management import call_command

    class Stop(Exception):
        pass

    rounds = iter([RuntimeError("database restarting"), 0])

    def due(now=None):
        outcome = next(rounds)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise Stop

    monkeypatch.setattr("clinic.management.commands.queue_messages.messages_queue_due", due)
    monkeypatch.setattr("clinic.management.commands.queue_messages.time.sleep", sleep)
    # Between rounds it drops a stale connection; here that is the test's own transaction.
    monkeypatch.setattr("clinic.management.commands.queue_messages.close_old_connections", lambda: None)
    with pytest.raises(Stop):
        call_command("queue_messages", every=60)
    assert sleeps == [60, 60]
    assert capsys.readouterr().out.count("Messages queued: 0") == 1


# --- the clinic admins' messages page --------------------------------------------------------------


def test_clinic_admins_see_failed_messages_with_their_error(client, clinic_admin):
    failed = OutboundMessageFactory(failed=True, recipient="ruth@mail.example")
    OutboundMessageFactory(status=MessageStatus.SENT, sent_at=timezone.now(), recipient="sam@mail.example")
    client.force_login(clinic_admin)
    response = client.get(reverse("clinic:messages"))
    page = response.content.decode()
    assert response.status_code == 200
    assert failed.last_error in page and "ruth@mail.example" in page and "sam@mail.example" in page
    assert reverse("clinic:message-retry", args=[failed.pk]) in page


def test_a_clinic_admin_tries_a_failed_message_again(client, clinic_admin, committed):
    failed = OutboundMessageFactory(failed=True)
    client.force_login(clinic_admin)
    with committed():
        response = client.post(reverse("clinic:message-retry", args=[failed.pk]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (MessageStatus.SENT, 1)
    assert [m.to for m in mail.outbox] == [[failed.recipient]]


def test_retrying_a_message_that_is_not_failed_changes_nothing(client, clinic_admin):
    sent = OutboundMessageFactory(status=MessageStatus.SENT, sent_at=timezone.now())
    client.force_login(clinic_admin)
    response = client.post(reverse("clinic:message-retry", args=[sent.pk]), follow=True)
    assert "nothing to retry" in response.content.decode()
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT


def test_other_roles_cannot_retry(client, front_desk):
    failed = OutboundMessageFactory(failed=True)
    client.force_login(front_desk)
    assert client.post(reverse("clinic:message-retry", args=[failed.pk])).status_code == 403
    failed.refresh_from_db()
    assert failed.status == MessageStatus.FAILED


# --- which queue: the database by default, Redis on request ------------------------------------------


def test_the_database_queue_is_the_default():
    tasks, apps, rq_queues = tasks_config({})
    assert tasks["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert (apps, rq_queues) == (["django_tasks_db"], {})


def test_redis_is_chosen_by_environment_and_needs_its_address():
    tasks, apps, rq_queues = tasks_config({"TASKS_BACKEND": "redis", "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert tasks["default"]["BACKEND"] == "django_tasks_rq.RQBackend"
    assert apps == ["django_rq", "django_tasks_rq"]
    assert rq_queues == {"default": {"URL": "redis://127.0.0.1:6379/0"}}
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        tasks_config({"TASKS_BACKEND": "redis"})
    with pytest.raises(ImproperlyConfigured, match="TASKS_BACKEND"):
        tasks_config({"TASKS_BACKEND": "celery"})


@pytest.mark.postgres_only
@needs_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_processes_queueing_the_same_message_at_once_store_it_once():
    import threading

    from django.db import connections

    barrier = threading.Barrier(4)
    results = []

    def queue():
        try:
            barrier.wait()
            results.append(send_once(key="assignment:7"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=queue) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([r for r in results if r is not None]) == 1
    assert OutboundMessage.objects.filter(key="assignment:7").count() == 1
    assert len(mail.outbox) == 1
