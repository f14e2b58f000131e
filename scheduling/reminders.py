"""Appointment reminders: the rule of which are due, and their message, put in the outbox (clinic.outbox)."""

import datetime
import logging

from django.conf import settings
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from clinic.outbox import message_send_once
from courses.models import ProtocolSettings, SessionStatus, TreatmentSession

logger = logging.getLogger(__name__)

REMINDER = "reminder"


def due_reminders(now, hours_before):
    """Scheduled sessions starting within the reminder window whose patient accepts email reminders."""
    return TreatmentSession.objects.filter(
        status=SessionStatus.SCHEDULED,
        reminder_sent_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + datetime.timedelta(hours=hours_before),
        patient__reminders_allowed=True,
        patient__archived=False,
    ).exclude(patient__email="")


def reminder_message(session):
    local = timezone.localtime(session.starts_at)
    context = {
        "given_name": session.patient.given_name,
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "day": local,
        "time": f"{local:%H:%M}",
    }
    subject = f"Appointment reminder: {settings.CLINIC_NAME}, {local:%-d %B} at {local:%H:%M}"
    return subject, render_to_string("scheduling/reminder_email.txt", context)


def reminder_key(session):
    """The outbox key of the reminder for this session as it stands: a moved visit gets its own reminder."""
    starts = session.starts_at.astimezone(datetime.UTC)
    return f"session:{session.pk}:{starts:%Y%m%dT%H%MZ}:v{session.version}"


def reminders_queue(now=None):
    """Put every due reminder in the outbox once; return how many were put there.

    Each session is locked, queued and stamped (`reminder_sent_at`, cleared by the diary when the visit
    moves) in its own transaction, and the outbox's (kind, key) constraint refuses a second message for the
    same visit and time, so concurrent runs, or a run after a crash, queue nothing twice. The worker sends.
    """
    now = now or timezone.now()
    hours_before = ProtocolSettings.load().reminder_hours_before
    skip_locked = connection.features.has_select_for_update_skip_locked
    queued = 0
    for pk in list(due_reminders(now, hours_before).values_list("pk", flat=True)):
        with transaction.atomic():
            session = (
                due_reminders(now, hours_before)
                .select_for_update(skip_locked=skip_locked, of=("self",))
                .select_related("patient")
                .filter(pk=pk)
                .first()
            )
            if session is None:
                continue  # another run holds it or has queued it
            subject, body = reminder_message(session)
            message = message_send_once(
                kind=REMINDER, key=reminder_key(session), to=session.patient.email, subject=subject, body=body
            )
            TreatmentSession.objects.filter(pk=pk).update(reminder_sent_at=now)
            queued += message is not None
    return queued
