"""The outbox with the real task queue: django-tasks' database backend and its `db_worker` command.

In this process (both databases), with the crash as an exception no handler catches; and, on PostgreSQL, as
worker processes of their own, one of which dies mid-send (os._exit) as a killed server process would.
"""

import datetime
import signal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from clinic.models import MessageStatus, OutboundMessage
from clinic.outbox import CLAIM_TIMEOUT, message_deliver, message_send_once, messages_sweep

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

pytestmark = [
    # The worker commits as it goes, as in production; the database is put back after each test.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("database_queue"),
]

# Also when tests/clinic runs alone, without the suite-wide skip of tests/scheduling/conftest.py.
needs_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


class WorkerKilled(BaseException):
    """The worker process dying (power cut, OOM kill) after it took a message and before it sent it."""


@pytest.fixture
def database_queue():
    with override_settings(TASKS=DATABASE_QUEUE):
        yield


def run_worker():
    """One run of the real worker: every task that is due, then it stops (`db_worker --batch`)."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    finally:
        for sig, handler in handlers.items():  # the worker installs its own; give pytest its own back
            signal.signal(sig, handler)


def queue_three():
    return [
        message_send_once(
            kind="reminder",
            key=f"session:{n}",
            to=f"p{n}@mail.example",
            subject=f"Reminder {n}",
            body="Hello",
        )
        for n in range(3)
    ]


def test_each_message_is_sent_once_across_two_runs_and_a_crash_between_them(monkeypatch):
    first, second, third = queue_three()
    assert DBTaskResult.objects.count() == 3  # handed to the database queue at commit
    real_send = __import__("clinic.outbox", fromlist=["send_mail"]).send_mail

    def dies_on_the_second(subject, body, sender, to):
        if to == [second.recipient]:
            raise WorkerKilled
        return real_send(subject, body, sender, to)

    monkeypatch.setattr("clinic.outbox.send_mail", dies_on_the_second)
    run_worker()
    assert sorted(m.to[0] for m in mail.outbox) == [first.recipient, third.recipient]
    second.refresh_from_db()
    assert second.status == MessageStatus.SENDING  # claimed, never marked: its worker "died"

    # The worker is back; the claim is still fresh, so neither the sweep nor a duplicate task touches it.
    monkeypatch.setattr("clinic.outbox.send_mail", real_send)
    message_deliver.enqueue(second.pk)
    assert messages_sweep() == {"abandoned": 0, "handed_over": 0}
    run_worker()
    assert len(mail.outbox) == 2
    second.refresh_from_db()
    assert second.status == MessageStatus.SENDING

    # Past the claim timeout the sweep hands it back, and the second run sends it: once.
    OutboundMessage.objects.filter(pk=second.pk).update(claimed_at=F("claimed_at") - CLAIM_TIMEOUT)
    assert messages_sweep() == {"abandoned": 1, "handed_over": 0}
    second.refresh_from_db()
    assert "worker stopped while sending" in second.last_error
    run_worker()
    run_worker()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.recipient for m in (first, second, third))
    second.refresh_from_db()
    assert (second.status, second.attempts) == (MessageStatus.SENT, 2)
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}


def test_a_failed_send_is_retried_later_through_the_queue(monkeypatch):
    def smtp_down(*args, **kwargs):
        raise ConnectionRefusedError("mail server unreachable")

    monkeypatch.setattr("clinic.outbox.send_mail", smtp_down)
    message = message_send_once(kind="reminder", key="session:1", to="p@mail.example", subject="S", body="B")
    run_worker()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 1)
    assert message.last_error == "ConnectionRefusedError: mail server unreachable"
    # The next try is a task deferred to the back-off time (1 minute after the first failure).
    assert not DBTaskResult.objects.ready().exists()
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.run_after == message.next_attempt_at
    assert message.next_attempt_at - message.claimed_at == datetime.timedelta(minutes=1)

    # When it is due, the worker sends it.
    monkeypatch.undo()
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=F("next_attempt_at") - CLAIM_TIMEOUT)
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=F("run_after") - CLAIM_TIMEOUT)
    run_worker()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert [m.to for m in mail.outbox] == [["p@mail.example"]]


def test_a_message_queued_twice_is_stored_and_sent_once():
    assert message_send_once(kind="reminder", key="session:9", to="p@mail.example", subject="S", body="B")
    assert (
        message_send_once(kind="reminder", key="session:9", to="p@mail.example", subject="S", body="B")
        is None
    )
    run_worker()
    run_worker()
    assert OutboundMessage.objects.count() == 1
    assert len(mail.outbox) == 1


def worker_process(mail_dir, crash_sending_to=""):
    """`manage.py db_worker --batch` in its own process, on the test database; its exit code."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.db import connection

    db = connection.settings_dict
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{host}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tests.clinic.worker_settings",
        "TEST_EMAIL_DIR": str(mail_dir),
        "CRASH_SENDING_TO": crash_sending_to,
    }
    command = [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload", "--no-startup-delay"]
    base = Path(__file__).resolve().parents[2]
    return subprocess.run(command, cwd=base, env=env, capture_output=True, check=False).returncode  # noqa: S603


def recipients_in(mail_dir):
    return sorted(
        line.removeprefix("To: ")
        for path in mail_dir.iterdir()
        for line in path.read_text().splitlines()
        if line.startswith("To: ")
    )


@pytest.mark.postgres_only
@needs_postgresql
def test_a_worker_process_killed_half_way_leaves_nothing_sent_twice(tmp_path):
    first, second, third = queue_three()

    # Run 1: the worker process dies while sending the second message (after taking it).
    assert worker_process(tmp_path, crash_sending_to=second.recipient) == 137
    assert recipients_in(tmp_path) == [first.recipient]
    statuses = dict(OutboundMessage.objects.values_list("pk", "status"))
    assert [statuses[m.pk] for m in (first, second, third)] == ["sent", "sending", "queued"]

    # Run 2, a new worker: it sends what was left, and leaves alone the message the dead one had taken.
    assert worker_process(tmp_path) == 0
    assert recipients_in(tmp_path) == sorted([first.recipient, third.recipient])

    # The claim times out; the sweep hands it back and the next run sends it, once.
    OutboundMessage.objects.filter(pk=second.pk).update(claimed_at=F("claimed_at") - CLAIM_TIMEOUT)
    assert messages_sweep() == {"abandoned": 1, "handed_over": 0}
    assert worker_process(tmp_path) == 0
    assert worker_process(tmp_path) == 0
    assert recipients_in(tmp_path) == sorted(m.recipient for m in (first, second, third))
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
