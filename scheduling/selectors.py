"""Read paths of the appointment book: availability, calendars, spacing checks and work lists."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from clinic.models import User
from courses.models import (
    FOLLOW_UP_WEEKS,
    LIVE_SESSION_STATUSES,
    SESSION_STATUS_BADGES,
    CourseStatus,
    ProtocolSettings,
    SessionStatus,
    TreatmentCourse,
    TreatmentSession,
    course_label,
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


# Statuses whose appointment can still be checked in, logged or cancelled.
OPEN_STATUSES = (SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN)


# The columns a calendar shows: a busy week loads hundreds of rows over four joined tables, and building
# model instances with every column of each costs more than rendering them.
CALENDAR_FIELDS = (
    "course_id",
    "patient_id",
    "practitioner_id",
    "sequence",
    "starts_at",
    "ends_at",
    "status",
    "cancel_reason",
    "patient__given_name",
    "patient__family_name",
    "patient__mrn",
    "practitioner__first_name",
    "practitioner__last_name",
    "practitioner__username",
    "course__planned_sessions",
    "course__laterality",
    "course__condition__name",
)


def appointments_between(start, end, practitioner=None, *, practitioners=None, with_practitioner=True):
    """Sessions in [start, end) with what a calendar row shows, in one query whatever the count.

    `with_practitioner=False` leaves the practitioner unloaded, for pages that group by practitioner.
    """
    related = ["patient", "course__condition"] + (["practitioner"] if with_practitioner else [])
    fields = [f for f in CALENDAR_FIELDS if with_practitioner or not f.startswith("practitioner__")]
    sessions = (
        TreatmentSession.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .select_related(*related)
        .only(*fields)
    )
    if practitioner is not None:
        sessions = sessions.filter(practitioner=practitioner)
    if practitioners is not None:
        sessions = sessions.filter(practitioner__in=[p.pk for p in practitioners])
    return sessions.order_by("starts_at", "practitioner__last_name", "pk")


@dataclass(frozen=True)
class WeekCard:
    """One appointment card of the week view, loaded as plain values (a week has hundreds)."""

    time: str
    patient_url: str
    patient_name: str
    course: str
    sequence: int
    planned_sessions: int
    status: str

    @property
    def status_badge(self):
        return SESSION_STATUS_BADGES[self.status]

    @property
    def status_label(self):
        return SessionStatus(self.status).label


def week_cards_by_cell(start, end, practitioners):
    """{(practitioner id, local day): [WeekCard, ...]} of the sessions in [start, end), in time order.

    One query over the session, patient, course and condition columns the cards show, without
    building model instances (a whole-clinic week page holds a few hundred cards).
    """
    rows = (
        TreatmentSession.objects.filter(
            starts_at__gte=start, starts_at__lt=end, practitioner__in=[p.pk for p in practitioners]
        )
        .order_by("starts_at", "pk")
        .values_list(
            "practitioner_id",
            "starts_at",
            "patient_id",
            "patient__given_name",
            "patient__family_name",
            "course__laterality",
            "course__condition__name",
            "sequence",
            "course__planned_sessions",
            "status",
        )
    )
    patient_url = url_for_pk("patients:patient-detail")
    zone = timezone.get_current_timezone()
    cells = defaultdict(list)
    for practitioner_id, starts_at, patient_id, given, family, side, condition, *rest in rows:
        local = starts_at.astimezone(zone)
        cells[(practitioner_id, local.date())].append(
            WeekCard(
                f"{local:%H:%M}",
                patient_url(patient_id),
                f"{given} {family}",
                course_label(side, condition),
                *rest,
            )
        )
    return cells


def practitioners_booked_between(start, end):
    """Everyone with an appointment in [start, end), in name order (including former practitioners)."""
    booked = TreatmentSession.objects.filter(starts_at__gte=start, starts_at__lt=end).values(
        "practitioner_id"
    )
    return User.objects.filter(pk__in=booked).order_by("last_name", "first_name", "username")


def working_hours_text(weekday, practitioner=None):
    """'Dr A Chen 08:00–16:00; ...': who works on the weekday, for the day view's one line."""
    hours = WorkingHours.objects.filter(weekday=weekday).select_related("practitioner")
    if practitioner is not None:
        hours = hours.filter(practitioner=practitioner)
    hours = hours.only(
        "starts_at",
        "ends_at",
        "practitioner__first_name",
        "practitioner__last_name",
        "practitioner__username",
    )
    return "; ".join(f"{h.practitioner} {h.starts_at:%H:%M}–{h.ends_at:%H:%M}" for h in hours)


def url_for_pk(route):
    """A function pk -> reverse(route, args=[pk]), reversing once: calendars link every row."""
    marker = 2_147_480_000
    template = reverse(route, args=[marker])
    head, _, tail = template.rpartition(str(marker))
    return lambda pk: f"{head}{pk}{tail}"


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


def _courses_to_book_rows(now):
    # Per-course subqueries over the (course, status, sequence) index: a join and GROUP BY made PostgreSQL
    # read every session of the clinic to find the few thousand open courses' ones.
    live = TreatmentSession.objects.filter(course=OuterRef("pk"), status__in=LIVE_SESSION_STATUSES)
    return (
        TreatmentCourse.objects.filter(status__in=[CourseStatus.PLANNED, CourseStatus.ACTIVE])
        .filter(~Exists(live.filter(starts_at__gte=now)))
        .annotate(
            live_count=Coalesce(
                Subquery(live.order_by().values("course").annotate(n=Count("pk")).values("n")), 0
            ),
            last_session_at=Subquery(live.order_by("-starts_at").values("starts_at")[:1]),
        )
        .filter(live_count__lt=F("planned_sessions"))
        .order_by("last_session_at", "start_date", "pk")
    )


def courses_to_book(now=None):
    """Open courses with sessions still to plan and nothing booked ahead."""
    return _courses_to_book_rows(now or timezone.now()).select_related("patient", "practitioner", "condition")


def courses_to_book_first(limit, now=None):
    """(the first `limit` courses to book, how many there are), in two queries.

    The grouping runs over course ids only; grouping the joined patient, practitioner and condition rows as
    well made PostgreSQL sort thousands of wide rows on disk.
    """
    found = list(
        _courses_to_book_rows(now or timezone.now()).values_list("pk", "live_count", "last_session_at")
    )
    first = found[:limit]
    courses = TreatmentCourse.objects.select_related("patient", "practitioner", "condition").in_bulk(
        [pk for pk, _, _ in first]
    )
    rows = []
    for pk, live_count, last_session_at in first:
        course = courses[pk]
        course.live_count, course.last_session_at = live_count, last_session_at
        rows.append(course)
    return rows, len(found)


def overdue_sessions(now=None):
    """Booked sessions whose day has passed without being completed, cancelled or marked no-show."""
    start_of_today, _ = day_bounds(timezone.localdate(now))
    return (
        TreatmentSession.objects.filter(status__in=OPEN_STATUSES, starts_at__lt=start_of_today)
        .select_related("patient", "practitioner", "course__condition")
        .order_by("starts_at", "pk")
    )


def overdue_sessions_first(limit, now=None):
    """The oldest `limit` overdue sessions: one index range per status, merged here.

    With `status IN (...) ORDER BY starts_at` PostgreSQL walks the time index through every past session.
    """
    sessions = overdue_sessions(now)
    found = [row for status in OPEN_STATUSES for row in sessions.filter(status=status)[:limit]]
    return sorted(found, key=lambda row: (row.starts_at, row.pk))[:limit]


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


def _follow_up_rows(today):
    """Completed courses with at least one follow-up score due and not recorded, as (pk, last session day,
    has_<timepoint> flags...), oldest last session day first.

    The last completed session's day comes from the course's outcome summary (outcomes.CourseOutcome,
    kept current in the same transaction as every session write), so the window and due dates are checked
    on one row per course instead of grouping the sessions of the last 60 weeks. Courses whose 52-week
    point is more than 8 weeks past drop off the list (lost to follow-up).
    """
    # Each timepoint's current scores counted in one join and GROUP BY over the courses in the window:
    # EXISTS per timepoint made PostgreSQL hash every score of the clinic once per timepoint and use.
    scored = {
        f"has_{tp}": Count("scores", filter=Q(scores__timepoint=tp, scores__voided_at=None))
        for tp in FOLLOW_UP_WEEKS
    }
    due = Q()
    for tp, weeks in FOLLOW_UP_WEEKS.items():
        # Due once the day `weeks` after the last session's (local) day has come.
        due |= Q(last_on__lte=today - datetime.timedelta(weeks=weeks), **{f"has_{tp}": 0})
    return (
        TreatmentCourse.objects.filter(
            status=CourseStatus.COMPLETED,
            outcome_summary__last_session_on__gte=today - datetime.timedelta(weeks=60),
            outcome_summary__last_session_on__lte=today - datetime.timedelta(weeks=6),
        )
        .annotate(last_on=F("outcome_summary__last_session_on"))
        .values("pk", "last_on")
        .annotate(**scored)
        .filter(due)
        .order_by("last_on", "pk")
        .values_list("pk", "last_on", *scored)
    )


def _follow_ups(rows, today):
    """FollowUpDue of each (pk, day, flags...) row, in the order of the last completed session's time.

    The rows are in day order; the courses are loaded with the time of that session (a subquery over the
    course's sessions, for these courses only) to order those that share a day, as the list always has.
    """
    completed = TreatmentSession.objects.filter(course=OuterRef("pk"), status=SessionStatus.COMPLETED)
    courses = (
        TreatmentCourse.objects.select_related("patient", "practitioner", "condition")
        .annotate(last_session_at=Subquery(completed.order_by("-starts_at").values("starts_at")[:1]))
        .in_bulk([row[0] for row in rows])
    )
    flags = [f"has_{tp}" for tp in FOLLOW_UP_WEEKS]
    found = []
    for pk, _day, *scored in rows:
        course = courses[pk]
        for flag, count in zip(flags, scored, strict=True):
            setattr(course, flag, bool(count))
        found.append(course)
    found.sort(key=lambda course: (course.last_session_at, course.pk))
    return [_follow_up(course, today) for course in found]


def _follow_up(course, today):
    last_day = timezone.localdate(course.last_session_at)
    due = [
        (tp.label, last_day + datetime.timedelta(weeks=weeks))
        for tp, weeks in FOLLOW_UP_WEEKS.items()
        if last_day + datetime.timedelta(weeks=weeks) <= today and not getattr(course, f"has_{tp}")
    ]
    return FollowUpDue(course=course, last_session_on=last_day, due=due)


def follow_ups_due(today=None):
    """Completed courses with a 6/12/26/52-week score whose date has come and that is not recorded."""
    today = today or timezone.localdate()
    return _follow_ups(list(_follow_up_rows(today)), today)


def follow_ups_due_first(limit, today=None):
    """(the first `limit` follow-ups due, how many there are) in two queries: one narrow query for all,
    one for the courses shown. Courses sharing the day of the last shown are all loaded, so the order by
    the last session's time is the same as the full list's."""
    today = today or timezone.localdate()
    found = list(_follow_up_rows(today))
    shown = found[:limit]
    if shown:
        last_day = shown[-1][1]
        shown += [row for row in found[limit:] if row[1] == last_day]
    return _follow_ups(shown, today)[:limit], len(found)


def practitioners():
    return User.objects.practitioners()
