"""The diary service: every write that puts a visit in the diary or moves it.

Booking a course (the confirmation validates every row again), rescheduling and shifting the later visits,
walk-ins, moving a booked visit to now, check-in, cancelling, no-shows and their undo, rebooking a missed
treatment, and the treatment numbers these change. Pages, htmx actions, the course services, the demo
seeders and any API call these functions; nothing else writes a visit's time or status in the diary.

Every placement is judged by one set of guards (scheduling.rules, with courses.timeline for spacing): not
in the past, not beyond the booking horizon, not before the course starts, not on a closure, inside the
practitioner's working hours, no double booking, and spacing outside the window only with a recorded
reason (the visit is then flagged as a deviation). A refusal names each rule it breaks and offers the
nearest valid slot; nothing is written.

Locks, always in this order so two writes cannot deadlock: the course row, then the practitioner's and the
patient's rows (which queue every write to either diary on PostgreSQL; SQLite's IMMEDIATE transactions
serialise writers anyway), then the visits. PostgreSQL's exclusion constraints (scheduling/migrations/0003)
are the last line against an overlap.
"""

import copy
import datetime
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from clinic import constraints
from clinic.changes import Change, announce
from clinic.models import User
from courses import timeline
from courses.models import (
    LIVE_SESSION_STATUSES,
    OPEN_SESSION_STATUSES,
    NoShowFollowUp,
    ProtocolSettings,
    SessionStatus,
    TreatmentCourse,
    TreatmentSession,
)
from patients.models import Patient
from scheduling import rules
from scheduling.rules import Refusal, long_moment, minute

# Exclusion constraints added on PostgreSQL by scheduling/migrations/0003_no_double_booking.py.
OVERLAP_CONSTRAINTS = ("session_no_practitioner_overlap", "session_no_patient_overlap")
# How far either side of a refused time the nearest valid slot is looked for, when no spacing window
# narrows the search.
NEAREST_SEARCH_DAYS = 14


class VisitRefused(ValidationError):
    """A diary write refused by one or more guards; nothing was written.

    `refusals` are the rules broken (scheduling.rules.Refusal), `nearest` the nearest valid start (or None),
    `sequence` the treatment number of the visit that could not be placed, `row` its index in a booking.
    """

    def __init__(self, refusals, *, nearest=None, tz=None, sequence=None, row=None):
        self.refusals = list(refusals)
        self.nearest = nearest
        self.sequence = sequence
        self.row = row
        words = " ".join(refusal.message for refusal in self.refusals)
        if nearest is not None:
            words += f" Nearest free time: {long_moment(nearest, tz or timezone.get_current_timezone())}."
        super().__init__(words, code=self.refusals[0].rule)

    @property
    def rules(self):
        return {refusal.rule for refusal in self.refusals}


class SlotTaken(VisitRefused):
    """The time overlaps another live appointment of the practitioner or the patient."""

    def __init__(self, message, **kwargs):
        super().__init__([Refusal(rules.DOUBLE_BOOKING, message)], **kwargs)


class BookingRefused(ValidationError):
    """Some rows of a course booking were refused: `rows` maps each row's index to its VisitRefused."""

    def __init__(self, rows):
        self.rows = rows
        first = min(rows)
        super().__init__(
            f"Nothing was booked: treatment row {first + 1} — {rows[first].messages[0]}",
            code="booking_refused",
        )

    @property
    def sequence(self):
        return self.rows[min(self.rows)].sequence


def practitioner_label(user):
    return f"Dr {user.last_name}" if user.last_name else user.username


def slot_length(protocol):
    return datetime.timedelta(minutes=protocol.slot_minutes)


def availability_for(*, practitioner, patient, first_day, last_day, protocol, exclude_pks=()):
    """The practitioner's hours, the clinic's closures and both diaries' live appointments over the days."""
    from scheduling.models import Closure, WorkingHours

    tz = timezone.get_current_timezone()
    first = datetime.datetime.combine(first_day, datetime.time.min, tzinfo=tz)
    last = datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    busy = TreatmentSession.objects.filter(
        Q(practitioner_id=practitioner.pk) | Q(patient_id=patient.pk),
        status__in=LIVE_SESSION_STATUSES,
        starts_at__lt=last,
        ends_at__gt=first,
    )
    excluded = set(exclude_pks)
    hours = {}
    for row in WorkingHours.objects.filter(practitioner=practitioner).order_by("weekday", "starts_at"):
        hours.setdefault(row.weekday, []).append((row.starts_at, row.ends_at))
    closures = Closure.objects.overlapping(first_day, last_day).values_list("starts_on", "ends_on", "reason")
    return rules.Availability(
        practitioner_name=practitioner_label(practitioner),
        hours=hours,
        closures=tuple(closures),
        busy=tuple(
            (start, end)
            for pk, start, end in busy.values_list("pk", "starts_at", "ends_at")
            if pk not in excluded
        ),
        slot=slot_length(protocol),
        tz=tz,
    )


# --- Locks and the placement check -------------------------------------------------------------------


def visit_problems(course, sessions=None, protocol=None):
    """[(visit, [Refusal])] for each visit of `course` holding a place in the diary (booked, checked in or
    given) that breaks a guard, judged as when it was booked: every guard but the past and the horizon,
    and spacing from the treatment before it (a deviation's reason is recorded on the later visit).

    For checking records made in bulk (the demo and scale seeders, imports) with the rules the diary
    service applies to each write.
    """
    sessions = _course_sessions(course) if sessions is None else list(sessions)
    protocol = protocol or ProtocolSettings.load()
    live = [s for s in sessions if s.status in LIVE_SESSION_STATUSES]
    if not live:
        return []
    window = timeline.spacing_window(course, protocol)
    first_allowed = timeline.first_allowed_day(course)
    days = [timeline.local_day(s.starts_at) for s in live]
    ours = {s.pk for s in live}
    loaded = {}
    problems = []
    for visit in live:
        practitioner = visit.practitioner
        if practitioner.pk not in loaded:
            loaded[practitioner.pk] = availability_for(
                practitioner=practitioner,
                patient=course.patient,
                first_day=min(days),
                last_day=max(days),
                protocol=protocol,
                exclude_pks=ours,
            )
        base = loaded[practitioner.pk]
        others = [(s.starts_at, s.ends_at) for s in live if s.pk != visit.pk]
        available = base.with_busy([*base.busy, *others])
        refusals = rules.slot_refusals(
            visit.starts_at,
            visit.ends_at,
            availability=available,
            now=visit.starts_at,
            first_day=first_allowed,
        )
        if timeline.is_treatment(visit) or timeline.is_open_visit(visit):
            previous, _ = timeline.neighbours(sessions, visit.starts_at, exclude=(visit.pk,))
            spacing = rules.spacing_refusal(
                window,
                timeline.local_day(visit.starts_at),
                previous_day=timeline.local_day(previous.starts_at) if previous else None,
            )
            if spacing is not None and not visit.spacing_override_reason.strip():
                refusals.append(spacing)
        if refusals:
            problems.append((visit, refusals))
    return problems


def _lock_course(course):
    return (
        TreatmentCourse.objects.select_for_update()
        .select_related("patient", "practitioner")
        .get(pk=course.pk)
    )


def _lock_diaries(practitioner, patient):
    User.objects.select_for_update().filter(pk=practitioner.pk).exists()
    Patient.objects.select_for_update().filter(pk=patient.pk).exists()


def _lock_visit(session):
    return (
        TreatmentSession.objects.select_for_update()
        .select_related("course", "practitioner")
        .get(pk=session.pk)
    )


def _course_sessions(course):
    return list(TreatmentSession.objects.filter(course_id=course.pk).order_by("starts_at", "pk"))


@contextmanager
def overlap_guard(*, sequence=None):
    """Turn the database's own refusal of an overlap (the race the guards cannot see) into SlotTaken."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        if constraints.constraint_name(error) not in OVERLAP_CONSTRAINTS:
            # Another constraint (two writers numbering the same treatment): its own sentence.
            raise constraints.as_validation_error(error) from error
        raise SlotTaken(
            "Slot taken: another appointment was booked in this time a moment ago.", sequence=sequence
        ) from error


class _Placement:
    """Judges where visits of one course may go, from one load of the diary."""

    def __init__(self, *, course, practitioner, sessions, protocol, now, first_day, last_day, exclude=()):
        self.course = course
        self.practitioner = practitioner
        self.sessions = sessions
        self.now = now
        self.window = timeline.spacing_window(course, protocol)
        self.first_allowed = timeline.first_allowed_day(course)
        margin = datetime.timedelta(days=max(self.window.high, NEAREST_SEARCH_DAYS))
        self.availability = availability_for(
            practitioner=practitioner,
            patient=course.patient,
            first_day=first_day - margin,
            last_day=last_day + margin,
            protocol=protocol,
            exclude_pks=exclude,
        )

    def end_of(self, starts_at):
        return starts_at + self.availability.slot

    def refusals(self, starts_at, ends_at, *, sessions, exclude=(), spacing_reason=""):
        """(refusals, spacing deviation?) for a visit at [starts_at, ends_at) among `sessions`."""
        refusals = rules.slot_refusals(
            starts_at, ends_at, availability=self.availability, now=self.now, first_day=self.first_allowed
        )
        previous, following = timeline.neighbours(sessions, starts_at, exclude=exclude)
        spacing = rules.spacing_refusal(
            self.window,
            timeline.local_day(starts_at),
            previous_day=timeline.local_day(previous.starts_at) if previous else None,
            following_day=timeline.local_day(following.starts_at) if following else None,
        )
        if spacing is not None and not spacing_reason.strip():
            refusals.append(spacing)
        return refusals, spacing is not None

    def nearest(self, starts_at, *, sessions, exclude=()):
        """The valid slot nearest `starts_at`: inside the spacing window of the visits around it when
        there are any, else within two weeks either side."""
        previous, following = timeline.neighbours(sessions, starts_at, exclude=exclude)
        day = timeline.local_day(starts_at)
        if previous is not None:
            base = timeline.local_day(previous.starts_at)
            days = [base + datetime.timedelta(days=n) for n in range(self.window.low, self.window.high + 1)]
        else:
            days = [
                day + datetime.timedelta(days=n) for n in range(-NEAREST_SEARCH_DAYS, NEAREST_SEARCH_DAYS)
            ]
        if following is not None:
            after = timeline.local_day(following.starts_at)
            days = [d for d in days if self.window.fits((after - d).days)]
        return rules.nearest_slot(
            self.availability, around=starts_at, now=self.now, first_day=self.first_allowed, days=days
        )

    def refuse(self, refusals, starts_at, *, sessions, exclude=(), sequence=None, row=None):
        nearest = None
        if any(r.rule != rules.HORIZON for r in refusals):
            nearest = self.nearest(starts_at, sessions=sessions, exclude=exclude)
        return VisitRefused(refusals, nearest=nearest, tz=self.availability.tz, sequence=sequence, row=row)


def _within_reach(starts_at, now, *, sequence=None, row=None):
    """Refuse at once a time no guard could accept (scheduling.rules.out_of_reach)."""
    refusal = rules.out_of_reach(starts_at, now=now)
    if refusal is not None:
        raise VisitRefused([refusal], sequence=sequence, row=row)


def _moved(session, starts_at, ends_at):
    """A copy of `session` at another time, for judging spacing among the course's visits."""
    copied = copy.copy(session)
    copied.starts_at, copied.ends_at = starts_at, ends_at
    return copied


def _open_course(course, action):
    if not course.is_open:
        raise ValidationError(f"This course is {course.get_status_display().lower()}; {action}.")


# --- Treatment numbers -------------------------------------------------------------------------------


def visits_renumber(course, sessions=None):
    """Store each visit's treatment number (courses.timeline.treatment_numbers) after a diary change.

    `sessions`: every visit of the course as it now stands, when the caller has them (else they are read).
    Row by row, so the audit trail records each change. A visit whose new number another visit still holds
    waits for it to move; a cycle (two visits swapping places) goes through a spare number above them all.
    """
    sessions = _course_sessions(course) if sessions is None else sessions
    numbers = timeline.treatment_numbers(sessions)
    changes = {s.pk: number for s, number in timeline.numbering_changes(sessions)}
    if not changes:
        return numbers
    by_pk = {s.pk: s for s in sessions}
    holder = {
        s.sequence: s.pk for s in sessions if s.status in LIVE_SESSION_STATUSES and not s.assessment_only
    }
    spare = max([*holder, *changes.values()]) + 1

    def put(pk, number):
        session = by_pk[pk]
        if holder.get(session.sequence) == pk:
            del holder[session.sequence]
        session.sequence = number
        holder[number] = pk
        session.save(update_fields=["sequence", "updated_at"])

    while changes:
        # Each number is the target of one visit only, so every ready visit can move in this round.
        ready = [pk for pk, number in changes.items() if holder.get(number) in (None, pk)]
        for pk in ready:
            put(pk, changes.pop(pk))
        if not ready:
            put(next(iter(changes)), spare)
            spare += 1
    return numbers


def _renumber(course, *visits):
    """visits_renumber(), and the new numbers on the `visits` the caller returns."""
    numbers = visits_renumber(course)
    for visit in visits:
        visit.sequence = numbers.get(visit.pk, visit.sequence)


# --- Booking a course --------------------------------------------------------------------------------


@transaction.atomic
def course_book(*, course, starts, booked_by, spacing_reasons=None, now=None):
    """Book the course's next treatments at `starts` (aware datetimes, in order), all of them or none.

    The server decides which treatment numbers they take and validates every row against every guard;
    `spacing_reasons` ({row index: reason}) lets a row sit outside the spacing window as a recorded
    deviation. Raises BookingRefused (with each refused row's VisitRefused) or ValidationError; either way
    nothing is created.
    """
    now = now or timezone.now()
    spacing_reasons = spacing_reasons or {}
    course = _lock_course(course)
    _open_course(course, "it cannot be booked")
    if not starts:
        raise ValidationError("Choose at least one treatment to book.")
    sessions = _course_sessions(course)
    numbers = timeline.numbers_to_book(course, sessions)
    if len(starts) > len(numbers):
        left = (
            f"only {len(numbers)} treatment{'s' if len(numbers) != 1 else ''}" if numbers else "no treatment"
        )
        raise ValidationError(
            f"The course plans {course.planned_sessions} treatments and {left} remain to book."
        )
    far = {}
    for index, (number, starts_at) in enumerate(zip(numbers, starts, strict=False)):
        refusal = rules.out_of_reach(starts_at, now=now)
        if refusal is not None:
            far[index] = VisitRefused([refusal], sequence=number, row=index)
    if far:
        raise BookingRefused(far)
    practitioner, patient = course.practitioner, course.patient
    _lock_diaries(practitioner, patient)
    protocol = ProtocolSettings.load()
    days = [timezone.localdate(start) for start in starts]
    placement = _Placement(
        course=course,
        practitioner=practitioner,
        sessions=sessions,
        protocol=protocol,
        now=now,
        first_day=min(days),
        last_day=max(days),
    )
    planned, refused, busy = list(sessions), {}, list(placement.availability.busy)
    new = []
    for index, (number, starts_at) in enumerate(zip(numbers, starts, strict=False)):
        ends_at = placement.end_of(starts_at)
        placement.availability = placement.availability.with_busy(busy)
        reason = (spacing_reasons.get(index) or "").strip()
        problems, deviates = placement.refusals(starts_at, ends_at, sessions=planned, spacing_reason=reason)
        if new and starts_at <= new[-1].starts_at:
            problems.append(Refusal(rules.SPACING, "Each treatment must come after the one before it."))
        if problems:
            refused[index] = placement.refuse(
                problems, starts_at, sessions=planned, sequence=number, row=index
            )
        session = TreatmentSession(
            course=course,
            patient=patient,
            practitioner=practitioner,
            sequence=number,
            starts_at=starts_at,
            ends_at=ends_at,
            status=SessionStatus.SCHEDULED,
            spacing_override_reason=reason[:300] if deviates else "",
            created_by=booked_by,
        )
        new.append(session)
        planned.append(session)
        busy.append((starts_at, ends_at))
    if refused:
        raise BookingRefused(refused)
    for session in new:
        with overlap_guard(sequence=session.sequence):
            session.full_clean()
            session.save()
    _renumber(course, *new)
    announce(Change.DIARY, courses=[course])
    return new


# --- Moving visits -----------------------------------------------------------------------------------


def later_visits(session):
    """The course's booked visits after this one, which 'shift the later visits' moves along."""
    return list(
        TreatmentSession.objects.filter(
            course_id=session.course_id, status=SessionStatus.SCHEDULED, starts_at__gt=session.starts_at
        )
        .exclude(pk=session.pk)
        .order_by("starts_at", "pk")
    )


def _move(*, course, moving, delta, now, by, spacing_reason="", joining=()):
    """Move `moving` (locked visits of `course`) by `delta`, each through every guard; all or none.

    `joining`: visits about to be added to the course (not saved yet), judged with the others for spacing.
    """
    _lock_diaries(moving[0].practitioner, course.patient)
    sessions = _course_sessions(course)
    moving_pks = {s.pk for s in moving}
    protocol = ProtocolSettings.load()
    targets = [(s, s.starts_at + delta, s.ends_at + delta) for s in moving]
    placement = _Placement(
        course=course,
        practitioner=moving[0].practitioner,
        sessions=sessions,
        protocol=protocol,
        now=now,
        first_day=min(timezone.localdate(start) for _, start, _ in targets),
        last_day=max(timezone.localdate(start) for _, start, _ in targets),
        exclude=moving_pks,
    )
    after = [s for s in sessions if s.pk not in moving_pks] + [_moved(s, a, b) for s, a, b in targets]
    after += list(joining)
    deviating = set()
    for session, starts_at, ends_at in targets:
        problems, deviates = placement.refusals(
            starts_at, ends_at, sessions=after, exclude=(session.pk,), spacing_reason=spacing_reason
        )
        if problems:
            raise placement.refuse(
                problems, starts_at, sessions=after, exclude=(session.pk,), sequence=session.sequence
            )
        if deviates:
            deviating.add(session.pk)
    # Moving later, the last visit goes first (and earlier, the first), so no intermediate state overlaps
    # a visit that has not moved yet.
    for session, starts_at, ends_at in sorted(targets, key=lambda t: t[1], reverse=delta.total_seconds() > 0):
        with overlap_guard(sequence=session.sequence):
            session.starts_at, session.ends_at = starts_at, ends_at
            # A reminder for the old time says nothing about the new one.
            session.reminder_sent_at = None
            if session.pk in deviating:
                session.spacing_override_reason = spacing_reason.strip()[:300]
            elif session.status == SessionStatus.SCHEDULED:
                session.spacing_override_reason = ""
            session.version += 1
            session.full_clean()
            session.save()
    return [s for s, _, _ in targets]


@transaction.atomic
def visit_reschedule(*, session, starts_at, by, shift_later=False, spacing_reason="", now=None):
    """Move a booked visit (and, if asked, every later booked visit of its course by the same amount)."""
    now = now or timezone.now()
    course = _lock_course(session.course)
    session = _lock_visit(session)
    if session.status != SessionStatus.SCHEDULED:
        status = session.get_status_display().lower()
        raise ValidationError(f"Only a booked appointment can be moved (this one is {status}).")
    _within_reach(starts_at, now, sequence=session.sequence)
    delta = starts_at - session.starts_at
    if not delta:
        raise ValidationError({"starts_at": "That is the appointment's current time."})
    moving = [session, *(_lock_visit(s) for s in later_visits(session))] if shift_later else [session]
    moved = _move(course=course, moving=moving, delta=delta, now=now, by=by, spacing_reason=spacing_reason)
    _renumber(course, *moved)
    announce(Change.DIARY, courses=[course])
    return sorted(moved, key=lambda s: s.starts_at)


def _visit_now(*, course, practitioner, sessions, now, spacing_reason, sequence, moving=None):
    """(starts_at, ends_at, deviates) of a visit starting now, judged by every guard, or VisitRefused.

    One slot, cut short at the end of the practitioner's hours; `moving` is the booked visit being moved to
    now (left out of the diary and of the spacing it is judged by).
    """
    exclude = {moving.pk} if moving is not None else set()
    _lock_diaries(practitioner, course.patient)
    placement = _Placement(
        course=course,
        practitioner=practitioner,
        sessions=sessions,
        protocol=ProtocolSettings.load(),
        now=now,
        first_day=timezone.localdate(now),
        last_day=timezone.localdate(now),
        exclude=exclude,
    )
    starts_at = minute(now)
    ends_at = placement.end_of(starts_at)
    found = rules.working_range(starts_at, placement.availability)
    if found is not None and found[1] < ends_at:
        ends_at = max(found[1], starts_at + datetime.timedelta(minutes=5))
    others = [s for s in sessions if s.pk not in exclude]
    problems, deviates = placement.refusals(
        starts_at, ends_at, sessions=others, spacing_reason=spacing_reason
    )
    if problems:
        raise VisitRefused(problems, sequence=sequence)
    return starts_at, ends_at, deviates


@transaction.atomic
def visit_walk_in(*, course, practitioner, by, spacing_reason="", now=None):
    """A treatment now, when nothing was booked: a checked-in visit ready to be logged."""
    now = now or timezone.now()
    course = _lock_course(course)
    _open_course(course, "no new visits")
    if not practitioner.is_practitioner:
        raise ValidationError({"practitioner": "Treatments are given by a practitioner."})
    sessions = _course_sessions(course)
    booked = next((s for s in sessions if timeline.is_open_visit(s)), None)
    if booked is not None:
        # A walk-in beside a booked visit would leave two visits for one treatment.
        when = timezone.localtime(booked.starts_at)
        raise ValidationError(
            f"Treatment {booked.sequence} is booked for {when:%d %b %Y %H:%M}: log that one, or move it to "
            "now (“The patient is here now”), instead of starting another visit."
        )
    numbers = timeline.numbers_to_book(course, sessions)
    if not numbers:
        raise ValidationError(
            f"All {course.planned_sessions} planned treatments are given: extend the course to add one."
        )
    starts_at, ends_at, deviates = _visit_now(
        course=course,
        practitioner=practitioner,
        sessions=sessions,
        now=now,
        spacing_reason=spacing_reason,
        sequence=numbers[0],
    )
    session = TreatmentSession(
        course=course,
        patient=course.patient,
        sequence=numbers[0],
        starts_at=starts_at,
        ends_at=ends_at,
        practitioner=practitioner,
        status=SessionStatus.CHECKED_IN,
        checked_in_at=now,
        spacing_override_reason=spacing_reason.strip()[:300] if deviates else "",
        created_by=by,
    )
    with overlap_guard(sequence=session.sequence):
        session.full_clean()
        session.save()
    _renumber(course, session)
    announce(Change.DIARY, courses=[course])
    return session


@transaction.atomic
def visit_move_to_now(*, session, by, practitioner=None, spacing_reason="", now=None):
    """The patient is here now: move their booked visit to now and check them in.

    A visit happens when it happens: a visit booked for another day is given (and its spacing judged) on
    the day it is actually given.
    """
    now = now or timezone.now()
    course = _lock_course(session.course)
    session = _lock_visit(session)
    _open_course(course, "no visit can be moved to now")
    if session.status not in OPEN_SESSION_STATUSES:
        raise ValidationError(f"A {session.get_status_display().lower()} visit cannot be moved to now.")
    practitioner = practitioner or session.practitioner
    if not practitioner.is_practitioner:
        raise ValidationError({"practitioner": "Treatments are given by a practitioner."})
    sessions = _course_sessions(course)
    starts_at, ends_at, deviates = _visit_now(
        course=course,
        practitioner=practitioner,
        sessions=sessions,
        now=now,
        spacing_reason=spacing_reason,
        sequence=session.sequence,
        moving=session,
    )
    with overlap_guard(sequence=session.sequence):
        session.starts_at, session.ends_at = starts_at, ends_at
        session.practitioner = practitioner
        session.status = SessionStatus.CHECKED_IN
        session.checked_in_at = session.checked_in_at or now
        session.reminder_sent_at = None
        session.spacing_override_reason = spacing_reason.strip()[:300] if deviates else ""
        session.version += 1
        session.full_clean()
        session.save()
    _renumber(course, session)
    announce(Change.DIARY, courses=[course])
    return session


# --- Check-in, cancellation, no-shows ----------------------------------------------------------------


def _only_scheduled(session, action):
    if session.status != SessionStatus.SCHEDULED:
        status = session.get_status_display().lower()
        raise ValidationError(f"Only a booked appointment can be {action} (this one is {status}).")


@transaction.atomic
def visit_check_in(*, session, by, now=None):
    now = now or timezone.now()
    session = _lock_visit(session)
    _only_scheduled(session, "checked in")
    if timezone.localdate(session.starts_at) != timezone.localdate(now):
        raise ValidationError(
            "Patients are checked in on the day of their appointment; if the patient is here today, move "
            "the visit to now."
        )
    session.status = SessionStatus.CHECKED_IN
    session.checked_in_at = now
    session.version += 1
    session.full_clean()
    session.save()
    announce(Change.DIARY, courses=[session.course_id])
    return session


def _cancel(session, reason, now):
    session.status = SessionStatus.CANCELLED
    session.cancel_reason = reason[:200]
    session.cancelled_at = now
    session.version += 1
    session.full_clean()
    session.save()


@transaction.atomic
def visit_cancel(*, session, reason, by, now=None):
    now = now or timezone.now()
    course = _lock_course(session.course)
    session = _lock_visit(session)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"cancel_reason": "Say why the appointment is cancelled."})
    if session.status not in OPEN_SESSION_STATUSES:
        raise ValidationError(f"A {session.get_status_display().lower()} appointment cannot be cancelled.")
    _cancel(session, reason, now)
    _renumber(course, session)
    announce(Change.DIARY, courses=[course])
    return session


def course_visits_cancel(*, course, reason, by, now=None):
    """Cancel every booked or checked-in visit of a course being closed (inside the caller's transaction,
    with the course already locked). Returns how many; without a reason, refuses when there are any."""
    now = now or timezone.now()
    visits = list(
        TreatmentSession.objects.select_for_update()
        .filter(course_id=course.pk, status__in=OPEN_SESSION_STATUSES)
        .order_by("starts_at")
    )
    if not visits:
        return 0
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {
                "cancel_reason": (
                    f"{len(visits)} visit(s) are still booked. Give a reason to cancel them with the course, "
                    "or log or cancel them first."
                )
            }
        )
    for session in visits:
        _cancel(session, reason, now)
    visits_renumber(course)
    announce(Change.DIARY, courses=[course])
    return len(visits)


def course_no_shows_close(*, course, outcome, by, now=None):
    """Record what became of the course's no-shows still to follow up (e.g. the course was stopped)."""
    now = now or timezone.now()
    for session in TreatmentSession.objects.select_for_update().filter(
        course_id=course.pk, status=SessionStatus.NO_SHOW, no_show_follow_up=""
    ):
        _follow_up(session, outcome, "", by, now)


@transaction.atomic
def visit_no_show(*, session, by, now=None):
    now = now or timezone.now()
    course = _lock_course(session.course)
    session = _lock_visit(session)
    if session.status not in OPEN_SESSION_STATUSES:
        status = session.get_status_display().lower()
        raise ValidationError(f"Only a booked appointment can be marked as a no-show (this one is {status}).")
    if session.starts_at > now:
        raise ValidationError("An appointment can be marked as a no-show once its time has come.")
    session.status = SessionStatus.NO_SHOW
    session.no_show_at = now
    session.version += 1
    session.full_clean()
    session.save()
    _renumber(course, session)
    announce(Change.DIARY, courses=[course])
    return session


@transaction.atomic
def visit_no_show_undo(*, session, by, now=None):
    """Take back a no-show marked in error, on the day it was marked: the visit is booked again."""
    now = now or timezone.now()
    course = _lock_course(session.course)
    session = _lock_visit(session)
    if session.status != SessionStatus.NO_SHOW:
        raise ValidationError("Only a no-show can be undone.")
    marked = session.no_show_at or session.starts_at
    if timezone.localdate(marked) != timezone.localdate(now):
        raise ValidationError(
            f"A no-show can be undone only on the day it was marked ({timezone.localdate(marked):%d %b %Y}); "
            "rebook the treatment instead."
        )
    _open_course(course, "its visits cannot change")
    sessions = _course_sessions(course)
    if not timeline.numbers_to_book(course, sessions):
        raise ValidationError(
            f"All {course.planned_sessions} planned treatments are booked or given since: cancel one first."
        )
    _lock_diaries(session.practitioner, course.patient)
    placement = _Placement(
        course=course,
        practitioner=session.practitioner,
        sessions=sessions,
        protocol=ProtocolSettings.load(),
        now=now,
        first_day=timezone.localdate(session.starts_at),
        last_day=timezone.localdate(session.starts_at),
        exclude={session.pk},
    )
    if not rules.is_free(session.starts_at, session.ends_at, placement.availability):
        raise SlotTaken(
            "Another appointment has been booked in this visit's time since: rebook the treatment instead."
        )
    spare = (
        TreatmentSession.objects.filter(course_id=course.pk).aggregate(top=Max("sequence"))["top"] or 0
    ) + 1
    with overlap_guard(sequence=session.sequence):
        session.status = SessionStatus.SCHEDULED
        session.sequence = spare
        session.no_show_at = None
        session.no_show_follow_up, session.no_show_follow_up_note = "", ""
        session.no_show_follow_up_at = session.no_show_follow_up_by = None
        session.version += 1
        session.full_clean()
        session.save()
    _renumber(course, session)
    announce(Change.DIARY, courses=[course])
    return session


def _follow_up(session, outcome, note, by, now):
    session.no_show_follow_up = outcome
    session.no_show_follow_up_note = (note or "").strip()[:200]
    session.no_show_follow_up_at = now
    session.no_show_follow_up_by = by
    session.full_clean()
    session.save(
        update_fields=[
            "no_show_follow_up",
            "no_show_follow_up_note",
            "no_show_follow_up_at",
            "no_show_follow_up_by",
            "updated_at",
        ]
    )


@transaction.atomic
def no_show_follow_up_record(*, session, outcome, note="", by, now=None):
    """What happened after a no-show (called, rebooked, course stopped): it leaves the call-back list."""
    session = _lock_visit(session)
    if session.status != SessionStatus.NO_SHOW:
        raise ValidationError("Only a no-show is followed up.")
    if outcome not in NoShowFollowUp.values:
        raise ValidationError({"outcome": "Choose what happened."})
    if outcome == NoShowFollowUp.OTHER and not (note or "").strip():
        raise ValidationError({"note": "Say what happened."})
    _follow_up(session, outcome, note, by, now or timezone.now())
    announce(Change.DIARY, courses=[session.course_id])
    return session


@transaction.atomic
def visit_rebook(*, missed, starts_at, by, shift_later=False, spacing_reason="", now=None):
    """Book again the treatment a no-show or a cancellation missed, and (if asked) shift the course's later
    booked visits by as much as the treatment moved, under the same guards as any booking."""
    now = now or timezone.now()
    course = _lock_course(missed.course)
    missed = _lock_visit(missed)
    if missed.status not in (SessionStatus.NO_SHOW, SessionStatus.CANCELLED):
        raise ValidationError("Only a missed or cancelled visit is rebooked.")
    _open_course(course, "it cannot be booked")
    sessions = _course_sessions(course)
    numbers = timeline.numbers_to_book(course, sessions)
    if not numbers:
        raise ValidationError(
            f"All {course.planned_sessions} planned treatments are booked or given: cancel one or extend "
            "the course first."
        )
    _within_reach(starts_at, now, sequence=numbers[0])
    later = [_lock_visit(s) for s in later_visits(missed)] if shift_later else []
    delta = starts_at - missed.starts_at
    practitioner = missed.practitioner if missed.practitioner.is_active else course.practitioner
    if later:
        # The later visits move first, judged beside the rebooked visit to come; then the rebooked one is
        # judged among them at their new times. Any refusal undoes the whole rebooking.
        rebooked = TreatmentSession(
            course=course,
            starts_at=starts_at,
            ends_at=starts_at + slot_length(ProtocolSettings.load()),
            status=SessionStatus.SCHEDULED,
            sequence=numbers[0],
        )
        _move(
            course=course,
            moving=later,
            delta=delta,
            now=now,
            by=by,
            spacing_reason=spacing_reason,
            joining=[rebooked],
        )
        sessions = _course_sessions(course)
    _lock_diaries(practitioner, course.patient)
    day = timezone.localdate(starts_at)
    placement = _Placement(
        course=course,
        practitioner=practitioner,
        sessions=sessions,
        protocol=ProtocolSettings.load(),
        now=now,
        first_day=day,
        last_day=day,
    )
    ends_at = placement.end_of(starts_at)
    problems, deviates = placement.refusals(
        starts_at, ends_at, sessions=sessions, spacing_reason=spacing_reason
    )
    if problems:
        raise placement.refuse(problems, starts_at, sessions=sessions, sequence=numbers[0])
    session = TreatmentSession(
        course=course,
        patient=course.patient,
        practitioner=practitioner,
        sequence=numbers[0],
        starts_at=starts_at,
        ends_at=ends_at,
        status=SessionStatus.SCHEDULED,
        spacing_override_reason=spacing_reason.strip()[:300] if deviates else "",
        created_by=by,
    )
    with overlap_guard(sequence=session.sequence):
        session.full_clean()
        session.save()
    if missed.status == SessionStatus.NO_SHOW and not missed.no_show_follow_up:
        _follow_up(
            missed,
            NoShowFollowUp.REBOOKED,
            f"Rebooked for {long_moment(starts_at, placement.availability.tz)}.",
            by,
            now,
        )
    _renumber(course, session)
    announce(Change.DIARY, courses=[course])
    return session
