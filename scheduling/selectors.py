"""Read paths of the appointment book: availability, calendars, spacing checks and work lists."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from clinic.models import User
from courses import timeline
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
from scheduling import diary, rules
from scheduling.models import WorkingHours
from scheduling.proposals import propose_sessions


def practitioner_label(user):
    return f"Dr {user.last_name}" if user.last_name else user.username


def day_bounds(day):
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=1)


def slot_length(protocol=None):
    return datetime.timedelta(minutes=(protocol or ProtocolSettings.load()).slot_minutes)


def hours_by_weekday(practitioner):
    hours = defaultdict(list)
    for row in WorkingHours.objects.filter(practitioner=practitioner).order_by("weekday", "starts_at"):
        hours[row.weekday].append((row.starts_at, row.ends_at))
    return dict(hours)


def course_visits(course):
    """The course's visits in time order (what the timeline rules read)."""
    return list(course.sessions.order_by("starts_at", "pk"))


def numbers_to_book(course, sessions=None):
    """The treatment numbers still to book (courses.timeline)."""
    return timeline.numbers_to_book(course, course_visits(course) if sessions is None else sessions)


def suggested_first_day(course, protocol, sessions=None):
    """The day to propose for the next treatment: its planned day after the last visit, or the course's
    start, and never before tomorrow."""
    sessions = course_visits(course) if sessions is None else sessions
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    last = timeline.last_visit(sessions)
    if last is None:
        return max(timeline.first_allowed_day(course), tomorrow)
    window = timeline.spacing_window(course, protocol)
    return max(timeline.local_day(last.starts_at) + datetime.timedelta(days=window.target), tomorrow)


def course_proposal(*, course, first_start, now=None, sessions=None):
    """The proposal table for the course's treatments still to book, starting at `first_start`."""
    protocol = ProtocolSettings.load()
    sessions = course_visits(course) if sessions is None else sessions
    numbers = timeline.numbers_to_book(course, sessions)
    window = timeline.spacing_window(course, protocol)
    first_day = timezone.localdate(first_start)
    last_day = first_day + datetime.timedelta(days=window.high * max(len(numbers), 1))
    availability = diary.availability_for(
        practitioner=course.practitioner,
        patient=course.patient,
        first_day=first_day,
        last_day=last_day,
        protocol=protocol,
    )
    previous, _ = timeline.neighbours(sessions, first_start)
    return propose_sessions(
        first_start=first_start,
        sequences=numbers,
        window=window,
        availability=availability,
        now=now or timezone.now(),
        first_day=timeline.first_allowed_day(course),
        previous_day=timeline.local_day(previous.starts_at) if previous else None,
    )


@dataclass(frozen=True)
class FreeSlot:
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    within_spacing_window: bool


def free_slots(*, course, first_day, days, now=None):
    """Every time on `days` days from `first_day` where the course's next visit could be booked now.

    Judged by the diary's own guards (scheduling.rules: not past, not beyond the horizon, not before the
    course, not on a closure, inside the practitioner's hours, neither diary busy), so booking a listed
    slot passes them; `within_spacing_window` is False where the diary would also ask for a spacing reason
    (courses.timeline).
    """
    now = now or timezone.now()
    protocol = ProtocolSettings.load()
    last_day = first_day + datetime.timedelta(days=days - 1)
    availability = diary.availability_for(
        practitioner=course.practitioner,
        patient=course.patient,
        first_day=first_day,
        last_day=last_day,
        protocol=protocol,
    )
    sessions = course_visits(course)
    window = timeline.spacing_window(course, protocol)
    first_allowed = timeline.first_allowed_day(course)
    slots = []
    for offset in range(days):
        day = first_day + datetime.timedelta(days=offset)
        for starts_at in rules.slot_times(day, availability):
            ends_at = starts_at + availability.slot
            if rules.slot_refusals(
                starts_at, ends_at, availability=availability, now=now, first_day=first_allowed
            ):
                continue
            previous, following = timeline.neighbours(sessions, starts_at)
            spacing = rules.spacing_refusal(
                window,
                day,
                previous_day=timeline.local_day(previous.starts_at) if previous else None,
                following_day=timeline.local_day(following.starts_at) if following else None,
            )
            slots.append(FreeSlot(starts_at, ends_at, spacing is None))
    return slots


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
    "no_show_at",
    "spacing_override_reason",
    "patient__given_name",
    "patient__family_name",
    "patient__mrn",
    "practitioner__first_name",
    "practitioner__last_name",
    "practitioner__username",
    "course__planned_sessions",
    "course__status",
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


def reschedule_checks(*, session, new_start, shift_later):
    """Spacing with the treatments and visits before and after, if the visit moved to `new_start`
    (courses.timeline's window; the diary service refuses a move outside it without a reason)."""
    protocol = ProtocolSettings.load()
    window = timeline.spacing_window(session.course, protocol)
    sessions = course_visits(session.course)
    moving = {session.pk}
    if shift_later:
        moving |= {s.pk for s in diary.later_visits(session)}
    others = [s for s in sessions if s.pk not in moving]
    previous, following = timeline.neighbours(others, new_start)
    new_day = timezone.localdate(new_start)
    checks = []
    if previous is not None:
        days = (new_day - timeline.local_day(previous.starts_at)).days
        fits, message = window.judge(days)
        checks.append(SpacingCheck(f"After treatment {previous.sequence}", days, fits, message))
    if following is not None:
        days = (timeline.local_day(following.starts_at) - new_day).days
        fits, message = window.judge(days)
        checks.append(SpacingCheck(f"Before treatment {following.sequence}", days, fits, message))
    if shift_later and len(moving) > 1:
        checks.append(
            SpacingCheck(
                "Later booked visits",
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
    # Treatments given and visits booked (an assessment is neither: courses.timeline).
    live = TreatmentSession.objects.filter(
        course=OuterRef("pk"), status__in=LIVE_SESSION_STATUSES, assessment_only=False
    )
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


def no_shows_to_call():
    """No-shows whose follow-up nobody has recorded yet (called, rebooked, course stopped), newest first.

    A no-show stays here whatever is booked later, until someone records what happened.
    """
    return (
        TreatmentSession.objects.filter(status=SessionStatus.NO_SHOW, no_show_follow_up="")
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
