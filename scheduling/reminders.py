"""Appointment reminders: claimed row by row so that no reminder is ever sent twice."""

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from courses.models import ProtocolSettings, SessionStatus, TreatmentSession

logger = logging.getLogger(__name__)


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


def reminders_send(now=None):
    """Send every due reminder once; return how many were sent.

    Each session is locked, sent and marked in its own transaction: a crash leaves what was sent
    marked, and the rest to the next run. A second runner skips locked rows (PostgreSQL) and then
    sees them marked, so cron can start this while a previous run is still going.
    """
    now = now or timezone.now()
    hours_before = ProtocolSettings.load().reminder_hours_before
    skip_locked = connection.features.has_select_for_update_skip_locked
    sent = 0
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
                continue  # another run holds it or has sent it
            subject, body = reminder_message(session)
            send_mail(subject, body, None, [session.patient.email])
            TreatmentSession.objects.filter(pk=pk).update(reminder_sent_at=timezone.now())
            sent += 1
    return sent
