"""The invitation message and who is due one. Nothing clinical leaves the clinic in it: no condition, no
instrument name, no score; only the clinic's name and phone number, the link and the closing date.

Invitations go through the clinic's outbox (clinic.outbox), once per questionnaire: `invitations_queue`
(one of the outbox's due-message producers, run by `manage.py queue_messages`) puts each due one there with
its text but without its link; the worker finishes the text when it sends it (`invitation_body`), giving
the questionnaire a new link at that moment, so the link's secret never rests in the outbox.
"""

from django.conf import settings
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clinic.outbox import message_send_once
from outcomes.versions import report_data_changed
from questionnaires.models import Assignment, AssignmentStatus

INVITATION = "questionnaire_invitation"
# Stored in the outbox in place of the link, replaced by the worker when it sends the message.
LINK_PLACEHOLDER = "(the link is added when this message is sent)"


def invitation_message(assignment, link):
    """(subject, body) of the invitation to answer `assignment` at `link`."""
    context = {
        "given_name": assignment.course.patient.given_name,
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "link": link,
        # The last moment the link works, in the clinic's time zone.
        "closes": timezone.localtime(assignment.closes_at),
    }
    subject = f"{settings.CLINIC_NAME}: a few questions for you"
    return subject, render_to_string("questionnaires/invitation_email.txt", context)


def invitations_due(now):
    """Questionnaires whose window is open and which have not been sent, for patients with an e-mail."""
    return (
        Assignment.objects.filter(
            status=AssignmentStatus.SCHEDULED,
            opens_at__lte=now,
            closes_at__gt=now,
            course__patient__archived=False,
        )
        .exclude(course__patient__email="")
        .select_related("course__patient")
        .order_by("opens_at", "pk")
    )


def invitation_key(assignment):
    return f"assignment:{assignment.pk}"


def invitations_queue(now=None):
    """Mark closed windows expired, then put every due invitation in the outbox once; how many were put.

    Each questionnaire is locked, queued and marked sent in its own transaction, and the outbox's (kind, key)
    constraint refuses a second message for the same questionnaire, so concurrent runs queue nothing twice.
    """
    from questionnaires.services import assignments_expire

    now = now or timezone.now()
    assignments_expire(now=now)
    skip_locked = connection.features.has_select_for_update_skip_locked
    queued = 0
    for pk in list(invitations_due(now).values_list("pk", flat=True)):
        with transaction.atomic():
            assignment = (
                invitations_due(now)
                .select_for_update(skip_locked=skip_locked, of=("self",))
                .filter(pk=pk)
                .first()
            )
            if assignment is None:
                continue  # another run holds it or has queued it
            subject, body = invitation_message(assignment, LINK_PLACEHOLDER)
            message = message_send_once(
                kind=INVITATION,
                key=invitation_key(assignment),
                to=assignment.course.patient.email,
                subject=subject,
                body=body,
                now=now,
            )
            assignment.status = AssignmentStatus.SENT
            assignment.invited_at = now
            assignment.save(update_fields=["status", "invited_at", "updated_at"])
            report_data_changed()  # the dashboard's response rates count what was sent
            queued += message is not None
    return queued


def invitation_body(message):
    """The invitation's text at the moment the worker sends it, with a new link to the questionnaire.

    Raises ValidationError when the questionnaire can no longer be answered (cancelled, expired, done):
    the outbox records why and does not send it.
    """
    from questionnaires.services import assignment_invite

    # "assignment:<id>", or "assignment:<id>:resend:<n>" for an invitation sent again by the staff.
    pk = int(message.key.split(":")[1])
    assignment = Assignment.objects.select_related("course__patient").get(pk=pk)
    token = assignment_invite(assignment=assignment)
    link = settings.SITE_URL + reverse("answer:start", args=[token])
    return invitation_message(assignment, link)[1]
