"""Read paths of the appointment book: availability, calendars, spacing checks and work lists."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.utils import timezone

from clinic.models import User
from courses.models import (
    FOLLOW_UP_WEEKS,
    LIVE_SESSION_STATUSES,
    CourseStatus,
    OutcomeScore,
    ProtocolSettings,
    SessionStatus,
    TreatmentCourse,
    TreatmentSession,
)
from scheduling.models import Closure, WorkingHours
from scheduling.proposals import Availability, propose_sessions


def practitioner_label(user):
    return f"Dr {user.last_name}" if user.last_name else user.username


def day_bounds(day):
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=1)


def slot_length(protocol=None):
    return datetime.timedelta(minutes=(protocol or ProtocolSettings.load()).slot_minutes)


def spacing_window(course, protocol):
    """(min, max) days allowed between two sessions: the protocol's, or the course's own interval."""
    if protocol.interval_in_protocol(course.interval_days):
        return protocol.min_interval_days, protocol.max_interval_days
    return course.interval_days, course.interval_days


def hours_by_weekday(practitioner):
    hours = defaultdict(list)
    for row in WorkingHours.objects.filter(practitioner=practitioner).order_by("weekday", "starts_at"):
        hours[row.weekday].append((row.starts_at, row.ends_at))
    return dict(hours)


def availability_for(*, practitioner, patient, first_day, last_day, protocol, exclude_pks=()):
    first, _ = day_bounds(first_day)
    _, last = day_bounds(last_day)
    busy = (
        TreatmentSession.objects.filter(
            Q(practitioner=practitioner) | Q(patient=patient),
            status__in=LIVE_SESSION_STATUSES,
            starts_at__lt=last,
            ends_at__gt=first,
        )
        .exclude(pk__in=exclude_pks)
        .values_list("starts_at", "ends_at")
    )
    closures = Closure.objects.overlapping(first_day, last_day).values_list("starts_on", "ends_on", "reason")
    return Availability(
        practitioner_name=practitioner_label(practitioner),
        hours=hours_by_weekday(practitioner),
        closures=tuple(closures),
        busy=tuple(busy),
        slot=slot_length(protocol),
        tz=timezone.get_current_timezone(),
    )


def open_sequences(course):
    """Sequence numbers of the course not held by a live session, in order."""
    held = set(course.sessions.filter(status__in=LIVE_SESSION_STATUSES).values_list("sequence", flat=True))
    return [n for n in range(1, course.planned_sessions + 1) if n not in held]


def last_live_session(course):
    return course.sessions.filter(status__in=LIVE_SESSION_STATUSES).order_by("-starts_at").first()


def suggested_first_day(course, protocol):
    last = last_live_session(course)
    today = timezone.localdate()
    if last is None:
        return max(course.start_date, today + datetime.timedelta(days=1))
    day = timezone.localdate(last.starts_at) + datetime.timedelta(days=course.interval_days)
    return max(day, today + datetime.timedelta(days=1))


def course_proposal(*, course, first_start, now=None):
    """The proposal table for the course's open sequence numbers, starting at `first_start`."""
    protocol = ProtocolSettings.load()
    sequences = open_sequences(course)
    window = spacing_window(course, protocol)
    first_day = timezone.localdate(first_start)
    last_day = first_day + datetime.timedelta(days=window[1] * max(len(sequences), 1))
    availability = availability_for(
        practitioner=course.practitioner,
        patient=course.patient,
        first_day=first_day,
        last_day=last_day,
        protocol=protocol,
    )
    return propose_sessions(
        first_start=first_start,
        sequences=sequences,
        interval_days=course.interval_days,
        window=window,
        availability=availability,
        now=now or timezone.now(),
    )


# --- Calendars ---------------------------------------------------------------------------------------


def appointments_between(start, end, practitioner=None):
    """Sessions in [start, end) with what a calendar row shows, in one query whatever the count."""
    sessions = TreatmentSession.objects.filter(starts_at__gte=start, starts_at__lt=end).select_related(
        "patient", "practitioner", "course__condition"
    )
    if practitioner is not None:
        sessions = sessions.filter(practitioner=practitioner)
    return sessions.order_by("starts_at", "practitioner__last_name", "pk")


def appointment(pk):
    return TreatmentSession.objects.select_related("patient", "practitioner", "course__condition").get(pk=pk)


@dataclass
class SpacingCheck:
    label: str
    days: int | None
    fits: bool
    message: str


def spacing_message(days, window):
    low, high = window
    if days < low:
        return False, f"{days} days: too close (at least {low})"
    if days > high:
        return False, f"{days} days: too far apart (at most {high})"
    return True, f"{days} days: fits the {low}–{high}-day window"


def reschedule_checks(*, session, new_start, shift_later):
    """Spacing with the live sessions before and after, if the session moved to `new_start`."""
    protocol = ProtocolSettings.load()
    window = spacing_window(session.course, protocol)
    siblings = list(
        session.course.sessions.filter(status__in=LIVE_SESSION_STATUSES)
        .exclude(pk=session.pk)
        .order_by("starts_at")
    )
    before = [s for s in siblings if s.sequence < session.sequence]
    after = [s for s in siblings if s.sequence > session.sequence]
    new_day = timezone.localdate(new_start)
    checks = []
    if before:
        previous = before[-1]
        days = (new_day - timezone.localdate(previous.starts_at)).days
        fits, message = spacing_message(days, window)
        checks.append(SpacingCheck(f"After session {previous.sequence}", days, fits, message))
    if after and not shift_later:
        following = after[0]
        days = (timezone.localdate(following.starts_at) - new_day).days
        fits, message = spacing_message(days, window)
        checks.append(SpacingCheck(f"Before session {following.sequence}", days, fits, message))
    elif after:
        checks.append(
            SpacingCheck(
                f"Sessions {', '.join(str(s.sequence) for s in after)}",
                None,
                True,
                "move by the same amount, so their spacing is unchanged",
            )
        )
    return checks


# --- Work lists --------------------------------------------------------------------------------------

WORKLIST_CAP = 50


def courses_to_book(now=None):
    """Open courses with sessions still to plan and nothing booked ahead."""
    now = now or timezone.now()
    live = Q(sessions__status__in=LIVE_SESSION_STATUSES)
    return (
        TreatmentCourse.objects.filter(status__in=[CourseStatus.PLANNED, CourseStatus.ACTIVE])
        .annotate(
            live_count=Count("sessions", filter=live),
            ahead=Count("sessions", filter=live & Q(sessions__starts_at__gte=now)),
            last_session_at=Max("sessions__starts_at", filter=live),
        )
        .filter(ahead=0, live_count__lt=F("planned_sessions"))
        .select_related("patient", "practitioner", "condition")
        .order_by("last_session_at", "start_date", "pk")
    )


def overdue_sessions(now=None):
    """Booked sessions whose day has passed without being completed, cancelled or marked no-show."""
    start_of_today, _ = day_bounds(timezone.localdate(now))
    return (
        TreatmentSession.objects.filter(
            status__in=[SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN], starts_at__lt=start_of_today
        )
        .select_related("patient", "practitioner", "course__condition")
        .order_by("starts_at", "pk")
    )


NO_SHOW_CALL_BACK_DAYS = 30


def no_shows_to_call(now=None):
    """Recent no-shows with nothing booked since for the same course."""
    now = now or timezone.now()
    later = TreatmentSession.objects.filter(
        course=OuterRef("course"), status__in=LIVE_SESSION_STATUSES, starts_at__gt=OuterRef("starts_at")
    )
    return (
        TreatmentSession.objects.filter(
            status=SessionStatus.NO_SHOW,
            starts_at__gte=now - datetime.timedelta(days=NO_SHOW_CALL_BACK_DAYS),
        )
        .filter(~Exists(later))
        .select_related("patient", "practitioner", "course__condition")
        .order_by("-starts_at", "pk")
    )


@dataclass
class FollowUpDue:
    course: TreatmentCourse
    last_session_on: datetime.date
    due: list  # [(timepoint label, due date)]


def follow_ups_due(today=None):
    """Completed courses with a 6/12/26/52-week score whose date has come and that is not recorded.

    One query: the last completed session and one EXISTS per timepoint are annotated on the course.
    Courses whose 52-week point is more than 8 weeks past drop off the list (lost to follow-up).
    """
    today = today or timezone.localdate()
    oldest = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(weeks=60), datetime.time.min)
    )
    newest = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(weeks=6), datetime.time.max)
    )
    scored = {
        f"has_{tp}": Exists(OutcomeScore.objects.filter(course=OuterRef("pk"), timepoint=tp, voided_at=None))
        for tp in FOLLOW_UP_WEEKS
    }
    rows = (
        TreatmentCourse.objects.filter(status=CourseStatus.COMPLETED)
        .annotate(
            last_session_at=Max("sessions__starts_at", filter=Q(sessions__status=SessionStatus.COMPLETED)),
            **scored,
        )
        .filter(last_session_at__gte=oldest, last_session_at__lte=newest)
        .select_related("patient", "practitioner", "condition")
        .order_by("last_session_at", "pk")
    )
    found = []
    for course in rows:
        last_day = timezone.localdate(course.last_session_at)
        due = [
            (tp.label, last_day + datetime.timedelta(weeks=weeks))
            for tp, weeks in FOLLOW_UP_WEEKS.items()
            if last_day + datetime.timedelta(weeks=weeks) <= today and not getattr(course, f"has_{tp}")
        ]
        if due:
            found.append(FollowUpDue(course=course, last_session_on=last_day, due=due))
    return found


def practitioners():
    return User.objects.practitioners()
