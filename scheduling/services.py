"""Writes to the diary's settings: practitioners' working hours, clinic closures, calendar feeds.

Writes that put a visit in the diary or move it are the diary service's (scheduling.diary).
"""

from django.db import transaction

from scheduling.models import CalendarFeed, WorkingHours

# --- Working hours, closures, feeds -------------------------------------------------------------------


@transaction.atomic
def working_hours_add(*, practitioner, weekday, starts_at, ends_at):
    hours = WorkingHours(practitioner=practitioner, weekday=weekday, starts_at=starts_at, ends_at=ends_at)
    hours.full_clean()
    hours.save()
    return hours


@transaction.atomic
def closure_save(*, closure):
    closure.full_clean()
    closure.save()
    return closure


@transaction.atomic
def calendar_feed_enable(*, practitioner):
    """Turn the feed on, or give it a new secret address (the old one stops working at once)."""
    _feed_revoke(practitioner)
    return CalendarFeed.objects.create(practitioner=practitioner)


@transaction.atomic
def calendar_feed_disable(*, practitioner):
    _feed_revoke(practitioner)


def _feed_revoke(practitioner):
    # Row by row, so the audit trail records who revoked a feed.
    for feed in CalendarFeed.objects.filter(practitioner=practitioner):
        feed.delete()
