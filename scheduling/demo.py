"""Demo diary for `seed_demo`: working hours, public holidays, today's list and future bookings.

Working hours and closures are seeded first (`seed_calendar`, before the courses demo, whose past visits
keep to them); today's list and future bookings after it (`seed`). Every booking goes through the diary
service the front desk uses (scheduling.diary), so the demo diary obeys the same rules: spacing, hours,
closures, no overlaps, nothing before a course starts.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils import timezone

from courses import timeline
from courses.models import (
    LIVE_SESSION_STATUSES,
    CourseStatus,
    ProtocolSettings,
    TreatmentCourse,
    TreatmentSession,
)
from scheduling import diary, rules, selectors, services
from scheduling.models import Closure, Weekday, WorkingHours

T = datetime.time
MORNING, AFTERNOON, SATURDAY = (T(9), T(13)), (T(14), T(17)), (T(9), T(12))
# username -> {weekday: [(start, end), ...]}: Dr Hale is off on Wednesdays, Dr Chen on Thursdays,
# Dr Patel on Mondays; each takes a Saturday morning clinic.
DEMO_HOURS = {
    "practitioner": {
        **{
            d: [MORNING, AFTERNOON]
            for d in (Weekday.MONDAY, Weekday.TUESDAY, Weekday.THURSDAY, Weekday.FRIDAY)
        },
        Weekday.SATURDAY: [SATURDAY],
    },
    "dr.chen": {
        **{d: [(T(8, 30), T(12, 30)), (T(13, 30), T(16, 30))] for d in (0, 1, 2, 4)},
        Weekday.SATURDAY: [SATURDAY],
    },
    "dr.patel": {**{d: [(T(10), T(18))] for d in (1, 2, 3, 4)}, Weekday.SATURDAY: [SATURDAY]},
}
TODAY_PER_PRACTITIONER = 5


def easter(year):
    """Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return datetime.date(year, month, day + 1)


def last_monday(year, month):
    day = datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)
    return day - datetime.timedelta(days=day.weekday())


def first_monday(year, month):
    day = datetime.date(year, month, 1)
    return day + datetime.timedelta(days=(7 - day.weekday()) % 7)


def bank_holidays(year):
    """England's public holidays (without weekend substitutes, which do not matter for the demo)."""
    sunday = easter(year)
    return [
        (datetime.date(year, 1, 1), "New Year's Day"),
        (sunday - datetime.timedelta(days=2), "Good Friday"),
        (sunday + datetime.timedelta(days=1), "Easter Monday"),
        (first_monday(year, 5), "Early May bank holiday"),
        (last_monday(year, 5), "Spring bank holiday"),
        (last_monday(year, 8), "Summer bank holiday"),
        (datetime.date(year, 12, 25), "Christmas Day"),
        (datetime.date(year, 12, 26), "Boxing Day"),
    ]


def seed_hours(users):
    for username, week in DEMO_HOURS.items():
        practitioner = users.get(username)
        if practitioner is None or WorkingHours.objects.filter(practitioner=practitioner).exists():
            continue  # an admin's own edits win over the demo's
        for weekday, ranges in week.items():
            for start, end in ranges:
                services.working_hours_add(
                    practitioner=practitioner, weekday=weekday, starts_at=start, ends_at=end
                )


def seed_closures(today, *, years_back=3):
    """Public holidays from `years_back` years ago (the demo's past visits reach back about two years, the
    scale data's five) to next year."""
    have = set(Closure.objects.values_list("starts_on", "reason"))
    Closure.objects.bulk_create(
        Closure(starts_on=day, ends_on=day, reason=reason)
        for year in range(today.year - years_back, today.year + 2)
        for day, reason in bank_holidays(year)
        if (day, reason) not in have
    )


class DemoDiary:
    """Places the generated visits of the demo and scale data where the front desk could have booked them.

    Each slot is chosen with the diary's own guards (scheduling.rules.slot_refusals: closures, the
    practitioner's working hours, no double booking, nothing before the course starts) over an in-memory
    copy of the diary, and each treatment keeps to the course's spacing window (courses.timeline). Where
    no slot fits the window, the visit takes the first free slot after it and carries the reason the front
    desk would have had to give. Working hours and closures must be in the database first. The demo's
    tests re-check every visit with scheduling.diary.visit_problems.
    """

    SEARCH_DAYS = 42
    AFTER_MISSED = "Rebooked after a missed visit: the next free slot was outside the spacing window."
    NO_ROOM = "No free slot inside the spacing window (clinic closures and a full diary)."
    RETURNING = "Booked when the patient came back to the clinic, after the spacing window had passed."

    def __init__(self, rng, protocol, *, first_day, last_day):
        self.rng = rng
        self.protocol = protocol
        self.slot = diary.slot_length(protocol)
        self.tz = timezone.get_current_timezone()
        closures = Closure.objects.overlapping(first_day, last_day).values_list(
            "starts_on", "ends_on", "reason"
        )
        self.closures = tuple(closures)
        self.hours = {}
        for row in WorkingHours.objects.order_by("weekday", "starts_at"):
            self.hours.setdefault(row.practitioner_id, {}).setdefault(row.weekday, []).append(
                (row.starts_at, row.ends_at)
            )
        self.availability = {}
        self.busy = {}  # (practitioner or patient key, day) -> [(starts_at, ends_at)]

    def _availability(self, practitioner):
        found = self.availability.get(practitioner.pk)
        if found is None:
            if practitioner.pk not in self.hours:
                raise ValueError(f"{practitioner} has no working hours: seed the calendar first.")
            found = self.availability[practitioner.pk] = rules.Availability(
                practitioner_name=diary.practitioner_label(practitioner),
                hours=self.hours[practitioner.pk],
                closures=self.closures,
                busy=(),
                slot=self.slot,
                tz=self.tz,
            )
        return found

    def _keys(self, day, practitioner, patient):
        return (("practitioner", practitioner.pk), day), (("patient", patient.pk), day)

    def slot_on(self, day, course, practitioner):
        """A free slot on `day` that every guard accepts (a random one of them), or None."""
        base = self._availability(practitioner)
        times = rules.slot_times(day, base)
        if not times or rules.closure_on(day, base):
            return None
        keys = self._keys(day, practitioner, course.patient)
        available = base.with_busy([span for key in keys for span in self.busy.get(key, ())])
        first = self.rng.randrange(len(times))
        for moment in times[first:] + times[:first]:
            refused = rules.slot_refusals(
                moment, moment + self.slot, availability=available, now=moment, first_day=course.start_date
            )
            if not refused:
                for key in keys:
                    self.busy.setdefault(key, []).append((moment, moment + self.slot))
                return moment
        return None

    def claim(self, course, days, practitioner=None):
        """The first of `days` with a valid free slot: the slot, now taken, or None."""
        practitioner = practitioner or course.practitioner
        for day in days:
            moment = self.slot_on(day, course, practitioner)
            if moment is not None:
                return moment
        return None

    def next_treatment(self, course, previous_day, *, not_before=None, jitter=0, late_reason=None):
        """(starts_at or None, spacing reason) of the treatment after one given on `previous_day` (None: the
        first treatment, from the course's start), not before `not_before` (a missed visit's rebooking, or
        today for a booking ahead); `late_reason` is the reason recorded when it falls after the window."""
        days = self.SEARCH_DAYS
        if previous_day is None:
            first = max(course.start_date, not_before or course.start_date)
            return self.claim(course, [first + datetime.timedelta(days=n) for n in range(days)]), ""
        window = timeline.spacing_window(course, self.protocol)
        target = previous_day + datetime.timedelta(days=window.target + jitter)
        inside = [previous_day + datetime.timedelta(days=n) for n in range(window.low, window.high + 1)]
        inside = sorted(
            (day for day in inside if not_before is None or day >= not_before),
            key=lambda day: (abs((day - target).days), day),
        )
        moment = self.claim(course, inside)
        if moment is not None:
            return moment, ""
        after = max(previous_day + datetime.timedelta(days=window.high + 1), not_before or previous_day)
        moment = self.claim(course, [after + datetime.timedelta(days=n) for n in range(days)])
        return moment, (late_reason or (self.AFTER_MISSED if not_before else self.NO_ROOM))


def _needs_booking(course, sessions, today, protocol):
    """An open course with a treatment left to book, due today: inside the spacing window after its last
    visit (or started), and nothing booked ahead."""
    if not timeline.numbers_to_book(course, sessions):
        return False
    last = timeline.last_visit(sessions)
    if last is None:
        return timeline.first_allowed_day(course) <= today
    if last.starts_at >= timezone.now():
        return False
    return timeline.spacing_window(course, protocol).fits((today - timeline.local_day(last.starts_at)).days)


def seed_today(users, today, protocol, rng):
    """A handful of appointments today for each practitioner who works today, so the day view is alive.

    Booked through the diary service as the front desk would have booked them before today (some of
    today's times have already passed), so they keep to every rule of a real booking.
    """
    start_of_day, end_of_day = selectors.day_bounds(today)
    booked_before = start_of_day - datetime.timedelta(days=1)
    slot = selectors.slot_length(protocol)
    front_desk = users.get("frontdesk")
    booked = 0
    for username in DEMO_HOURS:
        practitioner = users.get(username)
        if practitioner is None:
            continue
        if practitioner.sessions.filter(starts_at__gte=start_of_day, starts_at__lt=end_of_day).exists():
            continue
        hours = selectors.hours_by_weekday(practitioner).get(today.weekday(), [])
        times = []
        for start, end in hours:
            moment = timezone.make_aware(datetime.datetime.combine(today, start))
            while moment + slot <= timezone.make_aware(datetime.datetime.combine(today, end)):
                times.append(moment)
                moment += slot
        if not times:
            continue
        courses = []
        for course in TreatmentCourse.objects.filter(
            practitioner=practitioner, status__in=[CourseStatus.PLANNED, CourseStatus.ACTIVE]
        ).select_related("patient"):
            if _needs_booking(course, selectors.course_visits(course), today, protocol):
                courses.append(course)
        rng.shuffle(courses)
        chosen_times = sorted(rng.sample(times, min(TODAY_PER_PRACTITIONER, len(times), len(courses))))
        for course, starts_at in zip(courses, chosen_times, strict=False):
            try:
                booked += len(
                    diary.course_book(
                        course=course, starts=[starts_at], booked_by=front_desk, now=booked_before
                    )
                )
            except ValidationError:
                continue
    return booked


def seed_future(users, today, protocol, rng):
    """Book the remaining treatments of open courses with nothing ahead, through the proposal and the
    confirmation the front desk uses."""
    booked = 0
    front_desk = users.get("frontdesk")
    now = timezone.now()
    open_courses = (
        TreatmentCourse.objects.filter(status__in=[CourseStatus.PLANNED, CourseStatus.ACTIVE])
        .exclude(
            Exists(
                TreatmentSession.objects.filter(
                    course=OuterRef("pk"), status__in=LIVE_SESSION_STATUSES, starts_at__gte=now
                )
            )
        )
        .select_related("patient", "practitioner")
        .order_by("pk")
    )
    for course in open_courses:
        sessions = selectors.course_visits(course)
        if not timeline.numbers_to_book(course, sessions):
            continue
        first_day = selectors.suggested_first_day(course, protocol, sessions)
        first_time = datetime.time(rng.choice([9, 10, 11, 14, 15, 16]), rng.choice([0, 30]))
        rows = selectors.course_proposal(
            course=course,
            first_start=timezone.make_aware(datetime.datetime.combine(first_day, first_time)),
            sessions=sessions,
        )
        starts = []
        for row in rows:
            if row.unresolved:
                break  # the front desk would choose by hand; the demo books what fits
            starts.append(row.starts_at)
        if not starts:
            continue
        try:
            booked += len(diary.course_book(course=course, starts=starts, booked_by=front_desk))
        except ValidationError:
            continue
    return booked


def seed_calendar(*, users, rng, patients=None, stdout=None):
    """Working hours and public holidays: before the courses demo, whose past visits keep to them."""
    today = timezone.localdate()
    seed_hours(users)
    seed_closures(today)
    if stdout:
        stdout.write("Demo calendar: working hours and public holidays.")


def seed(*, users, rng, patients=None, stdout=None):
    today = timezone.localdate()
    protocol = ProtocolSettings.load()
    seed_calendar(users=users, rng=rng)
    today_count = seed_today(users, today, protocol, rng)
    future_count = seed_future(users, today, protocol, rng)
    if stdout:
        stdout.write(
            f"Demo diary: {today_count} appointments today, {future_count} future treatments booked."
        )
