"""Writes to the appointment book. Every write that puts a session in the diary calls slot_claim()."""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from courses.diary import SlotTaken, slot_claim
from courses.models import SessionStatus, TreatmentSession
from scheduling.models import CalendarFeed, WorkingHours
from scheduling.selectors import open_sequences, slot_length

# Exclusion constraints added on PostgreSQL by scheduling/migrations/0003_no_double_booking.py.
OVERLAP_CONSTRAINTS = ("session_no_practitioner_overlap", "session_no_patient_overlap")


@contextmanager
def overlap_guard(*, sequence=None):
    """Turn the database's own refusal of an overlap (the race slot_claim cannot see) into SlotTaken."""
    try:
        with transaction.atomic():
            yield
    except SlotTaken as error:
        error.sequence = sequence
        raise
    except IntegrityError as error:
        if not any(name in str(error) for name in OVERLAP_CONSTRAINTS):
            raise
        taken = SlotTaken(
            "Slot taken: another appointment was booked in this time a moment ago.", code="slot_taken"
        )
        taken.sequence = sequence
        raise taken from error


def _only_scheduled(session, action):
    if session.status != SessionStatus.SCHEDULED:
        status = session.get_status_display().lower()
        raise ValidationError(f"Only a scheduled appointment can be {action} (this one is {status}).")


def _bump(session):
    session.version += 1


@transaction.atomic
def course_book(*, course, starts, booked_by):
    """Create the course's sessions at `starts` ({sequence: aware start}), all of them or none.

    Raises SlotTaken (with `.sequence` naming the row) when any slot is taken, ValidationError for
    anything else; either way nothing is created.
    """
    if not course.is_open:
        raise ValidationError(f"This course is {course.get_status_display().lower()}; it cannot be booked.")
    if not starts:
        raise ValidationError("Choose at least one session to book.")
    free = set(open_sequences(course))
    unknown = sorted(set(starts) - free)
    if unknown:
        raise ValidationError(f"Session {unknown[0]} is already booked or beyond the planned count.")
    now = timezone.now()
    slot = slot_length()
    created = []
    for sequence, starts_at in sorted(starts.items()):
        if starts_at < now:
            error = ValidationError(f"Session {sequence}: the time has already passed.")
            error.sequence = sequence
            raise error
        with overlap_guard(sequence=sequence):
            slot_claim(
                starts_at=starts_at,
                ends_at=starts_at + slot,
                practitioner=course.practitioner,
                patient=course.patient,
            )
            session = TreatmentSession(
                course=course,
                patient=course.patient,
                practitioner=course.practitioner,
                sequence=sequence,
                starts_at=starts_at,
                ends_at=starts_at + slot,
                status=SessionStatus.SCHEDULED,
                created_by=booked_by,
            )
            session.full_clean()
            session.save()
        created.append(session)
    return created


def _locked(session):
    return TreatmentSession.objects.select_for_update().get(pk=session.pk)


@transaction.atomic
def session_check_in(*, session, by):
    session = _locked(session)
    _only_scheduled(session, "checked in")
    if timezone.localdate(session.starts_at) != timezone.localdate():
        raise ValidationError("Patients are checked in on the day of their appointment.")
    session.status = SessionStatus.CHECKED_IN
    session.checked_in_at = timezone.now()
    _bump(session)
    session.full_clean()
    session.save()
    return session


@transaction.atomic
def session_mark_no_show(*, session, by):
    session = _locked(session)
    _only_scheduled(session, "marked as a no-show")
    if session.starts_at > timezone.now():
        raise ValidationError("An appointment can be marked as a no-show once its time has come.")
    session.status = SessionStatus.NO_SHOW
    _bump(session)
    session.full_clean()
    session.save()
    return session


@transaction.atomic
def session_cancel(*, session, reason, by):
    session = _locked(session)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"cancel_reason": "Say why the appointment is cancelled."})
    if session.status not in (SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN):
        raise ValidationError(f"A {session.get_status_display().lower()} appointment cannot be cancelled.")
    session.status = SessionStatus.CANCELLED
    session.cancel_reason = reason
    session.cancelled_at = timezone.now()
    _bump(session)
    session.full_clean()
    session.save()
    return session


def sessions_to_shift(session):
    """The later scheduled sessions of the course, which 'shift later sessions' moves along."""
    return list(
        session.course.sessions.filter(
            status=SessionStatus.SCHEDULED, sequence__gt=session.sequence
        ).order_by("sequence")
    )


@transaction.atomic
def session_reschedule(*, session, starts_at, shift_later=False, by):
    """Move the session (and, if asked, every later scheduled session of its course by the same amount).

    All moves happen or none: each one goes through slot_claim, and any clash raises SlotTaken with
    `.sequence` naming the session that could not move.
    """
    session = _locked(session)
    _only_scheduled(session, "moved")
    if starts_at < timezone.now():
        raise ValidationError({"starts_at": "Choose a time in the future."})
    delta = starts_at - session.starts_at
    if not delta:
        raise ValidationError({"starts_at": "That is the appointment's current time."})
    moving = [session, *(_locked(s) for s in sessions_to_shift(session))] if shift_later else [session]
    moving_pks = [s.pk for s in moving]
    # Moving later, the last session goes first (and earlier, the first), so no intermediate state
    # overlaps a session that has not moved yet.
    moving.sort(key=lambda s: s.starts_at, reverse=delta.total_seconds() > 0)
    for moved in moving:
        with overlap_guard(sequence=moved.sequence):
            new_start, new_end = moved.starts_at + delta, moved.ends_at + delta
            slot_claim(
                starts_at=new_start,
                ends_at=new_end,
                practitioner=moved.practitioner,
                patient=moved.patient,
                exclude_pks=moving_pks,
            )
            moved.starts_at, moved.ends_at = new_start, new_end
            # A reminder for the old time says nothing about the new one.
            moved.reminder_sent_at = None
            _bump(moved)
            moved.full_clean()
            moved.save()
    return sorted(moving, key=lambda s: s.sequence)


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
