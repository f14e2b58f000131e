"""The private iCalendar feed: what a practitioner's phone calendar may know (initials and times)."""

import datetime

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from courses.models import LIVE_SESSION_STATUSES, TreatmentSession

FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 180


def practitioner_calendar(practitioner, now=None):
    now = now or timezone.now()
    sessions = (
        TreatmentSession.objects.filter(
            practitioner=practitioner,
            status__in=LIVE_SESSION_STATUSES,
            starts_at__gte=now - datetime.timedelta(days=FEED_PAST_DAYS),
            starts_at__lt=now + datetime.timedelta(days=FEED_FUTURE_DAYS),
        )
        .select_related("patient")
        .order_by("starts_at")
    )
    calendar = Calendar()
    calendar.add("prodid", "-//ProloTrack//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{settings.CLINIC_NAME} appointments")
    for session in sessions:
        event = Event()
        event.add("uid", f"session-{session.pk}@prolotrack")
        # Initials only: a phone calendar is not a safe place for names or conditions.
        event.add("summary", f"{session.patient.initials} · Appointment")
        event.add("dtstart", session.starts_at)
        event.add("dtend", session.ends_at)
        event.add("dtstamp", session.updated_at or now)
        event.add("sequence", session.version)
        calendar.add_component(event)
    return calendar.to_ical()
