"""The outbox: every e-mail to a patient is a row first, then sent by a worker of the task queue.

- `message_send_once` puts a message in the outbox at most once per (kind, key), the database's unique
  constraint deciding, and hands a `message_deliver` task to the queue when the transaction commits.
- `message_deliver` (run by the worker) takes the message with a conditional update (queued -> sending,
  with its own claim token), so a second worker or a duplicate task finds nothing to take; it sends, then
  marks it sent. A failure puts it back with a growing delay, up to MAX_ATTEMPTS, then marks it failed
  for the clinic admins' messages page, where they can try again.
- `messages_sweep` (run by `manage.py queue_messages` every minute) hands back messages whose worker
  died half-way (a claim older than CLAIM_TIMEOUT) and queued messages no task ever reached.

What remains at least once, not exactly once: a worker that dies after the mail server accepted the
message but before it marked the row sent leaves a claim the sweep will hand back, and the patient gets
that message twice. Nothing can close that window without the mail server's help; it is seconds wide.
"""

import datetime
import logging
import uuid

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task

from clinic.models import MessageStatus, OutboundMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A claim this old belongs to a worker that died: EMAIL_TIMEOUT (30 s) keeps a live send far shorter.
CLAIM_TIMEOUT = datetime.timedelta(minutes=10)
# A queued message due this long that no task has been handed for this long is handed to the queue again.
LOST_AFTER = datetime.timedelta(minutes=10)

# What `queue_messages` asks for due messages each round: callables taking `now`, returning how many
# messages they put in the outbox. Each calls message_send_once, so running them twice sends nothing twice.
DUE_MESSAGES = ("scheduling.reminders.reminders_queue", "questionnaires.messages.invitations_queue")


# Kinds whose text is finished when it is sent, so a secret in it (a questionnaire link's token) never rests
# in the outbox: {kind: dotted path of a callable(message) returning the body to send, not message.body}.
SEND_TIME_BODIES = {"questionnaire_invitation": "questionnaires.messages.invitation_body"}


def retry_delay(attempts):
    """1, 4, 16, then 64 minutes after the 1st, 2nd, 3rd and 4th failure."""
    return datetime.timedelta(minutes=4 ** (attempts - 1))


def message_send_once(*, kind, key, to, subject, body, now=None):
    """Put one message in the outbox, unless (kind, key) is there already; None when it was.

    The worker gets it once the surrounding transaction commits, so a rolled-back write sends nothing.
    """
    if OutboundMessage.objects.filter(kind=kind, key=key).exists():
        return None
    message = OutboundMessage(
        kind=kind, key=key, recipient=to, subject=subject, body=body, next_attempt_at=now or timezone.now()
    )
    # The unique constraint is checked by the database itself below, where a concurrent twin loses.
    message.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        if OutboundMessage.objects.filter(kind=kind, key=key).exists():
            return None
        raise
    # robust: a queue that cannot be reached now must not undo the write; the sweep hands it over later.
    transaction.on_commit(lambda: _enqueue(message.pk), robust=True)
    return message


def _enqueue(message_id, run_after=None):
    deliver = message_deliver
    if run_after is not None:
        if not deliver.get_backend().supports_defer:
            return  # the sweep hands it over once it is due
        deliver = deliver.using(run_after=run_after)
    OutboundMessage.objects.filter(pk=message_id).update(enqueued_at=timezone.now())
    deliver.enqueue(message_id)


@task()
def message_deliver(message_id):
    """Send one message of the outbox if it is waiting and due; what happened, in a word."""
    now = timezone.now()
    token = uuid.uuid4().hex
    taken = OutboundMessage.objects.filter(
        pk=message_id, status=MessageStatus.QUEUED, next_attempt_at__lte=now
    ).update(status=MessageStatus.SENDING, claimed_at=now, claim_token=token, attempts=F("attempts") + 1)
    if not taken:
        return "not waiting"  # sent, failed, not yet due, or another worker has it
    message = OutboundMessage.objects.get(pk=message_id)
    try:
        finish = SEND_TIME_BODIES.get(message.kind)
        body = import_string(finish)(message) if finish else message.body
        send_mail(message.subject, body, None, [message.recipient])
    except Exception as error:
        return _after_failure(message, token, error)
    OutboundMessage.objects.filter(pk=message_id, status=MessageStatus.SENDING, claim_token=token).update(
        status=MessageStatus.SENT, sent_at=timezone.now(), claim_token="", last_error=""
    )
    logger.info("Message %s (%s) sent", message_id, message.kind)
    return "sent"


def _after_failure(message, token, error):
    error_text = f"{type(error).__name__}: {error}"[:500]
    mine = OutboundMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING, claim_token=token)
    if message.attempts >= MAX_ATTEMPTS:
        mine.update(status=MessageStatus.FAILED, claim_token="", last_error=error_text)
        logger.error("Message %s (%s) failed for good: %s", message.pk, message.kind, error_text)
        return "failed"
    retry_at = message.claimed_at + retry_delay(message.attempts)
    mine.update(status=MessageStatus.QUEUED, claim_token="", next_attempt_at=retry_at, last_error=error_text)
    logger.warning("Message %s not sent, next try at %s: %s", message.pk, retry_at, error_text)
    _enqueue(message.pk, run_after=retry_at)
    return "will retry"


def messages_sweep(now=None):
    """Hand back what a dead worker left half-way and what no task reached; {what: how many}."""
    now = now or timezone.now()
    abandoned = 0
    for message in OutboundMessage.objects.filter(
        status=MessageStatus.SENDING, claimed_at__lte=now - CLAIM_TIMEOUT
    ):
        taken_at = timezone.localtime(message.claimed_at)
        note = f"A worker stopped while sending it (taken at {taken_at:%d %b %H:%M}); it may have gone out."
        still_theirs = OutboundMessage.objects.filter(
            pk=message.pk, status=MessageStatus.SENDING, claim_token=message.claim_token
        )
        if message.attempts >= MAX_ATTEMPTS:
            abandoned += still_theirs.update(status=MessageStatus.FAILED, claim_token="", last_error=note)
        elif still_theirs.update(
            status=MessageStatus.QUEUED, claim_token="", next_attempt_at=now, last_error=note
        ):
            abandoned += 1
            _enqueue(message.pk)
    # Due for a while and no task handed over for as long: the enqueue after commit never happened (the
    # process died in between, or the queue was unreachable), or the queue lost the task.
    stale = now - LOST_AFTER
    lost = OutboundMessage.objects.filter(status=MessageStatus.QUEUED, next_attempt_at__lte=now).filter(
        Q(enqueued_at__isnull=True, next_attempt_at__lte=stale) | Q(enqueued_at__lte=stale)
    )
    handed = 0
    for message_id in list(lost.values_list("pk", flat=True)):
        _enqueue(message_id)
        handed += 1
    return {"abandoned": abandoned, "handed_over": handed}


def messages_queue_due(now=None):
    """Ask each producer in DUE_MESSAGES for its due messages; how many were put in the outbox."""
    now = now or timezone.now()
    return sum(import_string(path)(now=now) for path in DUE_MESSAGES)


@transaction.atomic
def message_retry(*, message):
    """A clinic admin tries a failed message again, from a fresh series of attempts."""
    retried = OutboundMessage.objects.filter(pk=message.pk, status=MessageStatus.FAILED).update(
        status=MessageStatus.QUEUED, attempts=0, next_attempt_at=timezone.now(), enqueued_at=None
    )
    if retried:
        transaction.on_commit(lambda: _enqueue(message.pk), robust=True)
    return bool(retried)
