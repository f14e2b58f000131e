"""The diary's guards: where a visit may be, decided once for every path that books or moves one.

Pure functions over an `Availability` loaded once by the caller (the practitioner's working hours, the
clinic's closures, the busy times of the practitioner and the patient). The diary service
(scheduling.diary) refuses a write with them; the booking proposal (scheduling.proposals) and the "nearest
valid slot" offered with a refusal choose times with the same functions, so a proposal never offers what a
confirmation would refuse. Spacing between treatments is courses.timeline's rule, checked here next to the
others.
"""

import datetime
from dataclasses import dataclass

from courses import timeline

# Bookings reach at most this far ahead: far enough for a year of follow-up visits, and a bound that keeps
# a mistyped year (9999) out of the diary.
HORIZON_DAYS = 730


@dataclass(frozen=True)
class Availability:
    """What the guards need to know about the diary, loaded once by the caller."""

    practitioner_name: str
    hours: dict  # weekday (0 = Monday) -> [(start time, end time), ...]
    closures: tuple  # ((first day, last day, reason), ...)
    busy: tuple  # ((starts_at, ends_at), ...) live appointments of the practitioner or the patient
    slot: datetime.timedelta
    tz: datetime.tzinfo

    def with_busy(self, busy):
        return Availability(**{**self.__dict__, "busy": tuple(busy)})


@dataclass(frozen=True)
class Refusal:
    """One guard a visit's time fails: which rule, in words the front desk can read out."""

    rule: str  # one of RULES
    message: str


# Every guard, by the code a Refusal carries (tests/scheduling/test_diary_guards.py runs each write path
# against each of them).
PAST, CLOSURE, HOURS, BEFORE_COURSE, DOUBLE_BOOKING, SPACING, HORIZON = (
    "past",
    "closure",
    "hours",
    "before_course",
    "double_booking",
    "spacing",
    "horizon",
)
RULES = (PAST, CLOSURE, HOURS, BEFORE_COURSE, DOUBLE_BOOKING, SPACING, HORIZON)


def short_date(day):
    return f"{day.day} {day:%b}"


def long_moment(moment, tz):
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y} at {local:%H:%M}"


def closure_on(day, availability):
    """The reason the clinic is closed on `day`, or None."""
    for first, last, reason in availability.closures:
        if first <= day <= last:
            return reason
    return None


def is_free(starts_at, ends_at, availability):
    return not any(start < ends_at and end > starts_at for start, end in availability.busy)


def working_range(starts_at, availability):
    """(start, end) aware datetimes of the practitioner's working range that `starts_at` falls in, or None."""
    local = starts_at.astimezone(availability.tz)
    for start, end in availability.hours.get(local.weekday(), ()):
        opens = datetime.datetime.combine(local.date(), start, tzinfo=availability.tz)
        closes = datetime.datetime.combine(local.date(), end, tzinfo=availability.tz)
        if opens <= local < closes:
            return opens, closes
    return None


def within_hours(starts_at, ends_at, availability):
    found = working_range(starts_at, availability)
    return found is not None and ends_at <= found[1]


def slot_times(day, availability):
    """Every slot start on `day` inside the practitioner's working hours, as aware datetimes."""
    times = []
    for start, end in availability.hours.get(day.weekday(), ()):
        moment = datetime.datetime.combine(day, start, tzinfo=availability.tz)
        closing = datetime.datetime.combine(day, end, tzinfo=availability.tz)
        while moment + availability.slot <= closing:
            times.append(moment)
            moment += availability.slot
    return times


def minute(moment):
    return moment.replace(second=0, microsecond=0)


HORIZON_MESSAGE = f"Visits are booked at most {HORIZON_DAYS // 365} years ahead; check the year."


def out_of_reach(starts_at, *, now):
    """A Refusal for a time no diary rule could ever accept, more than the horizon before or after now
    (a mistyped year: 9999, 0001), or None. The diary refuses it before any date arithmetic around it."""
    reach = datetime.timedelta(days=HORIZON_DAYS)
    if starts_at > now + reach:
        return Refusal(HORIZON, HORIZON_MESSAGE)
    if starts_at < now - reach:
        return Refusal(PAST, "That date has already passed; check the year.")
    return None


def slot_refusals(starts_at, ends_at, *, availability, now, first_day):
    """The guards [starts_at, ends_at) fails, apart from spacing: past, beyond the horizon, before the
    course's first allowed day, a closure, outside working hours, double booked."""
    refusals = []
    tz = availability.tz
    day = starts_at.astimezone(tz).date()
    if starts_at < minute(now):
        refusals.append(Refusal(PAST, f"{long_moment(starts_at, tz)} has already passed."))
    if day > now.astimezone(tz).date() + datetime.timedelta(days=HORIZON_DAYS):
        refusals.append(Refusal(HORIZON, HORIZON_MESSAGE))
    if first_day is not None and day < first_day:
        refusals.append(
            Refusal(BEFORE_COURSE, f"The course starts on {first_day:%d %b %Y}: no visit before that day.")
        )
    closed = closure_on(day, availability)
    if closed:
        refusals.append(Refusal(CLOSURE, f"The clinic is closed on {day:%a %d %b %Y} ({closed})."))
    elif not within_hours(starts_at, ends_at, availability):
        refusals.append(Refusal(HOURS, hours_message(starts_at, ends_at, availability)))
    if not is_free(starts_at, ends_at, availability):
        refusals.append(
            Refusal(
                DOUBLE_BOOKING,
                f"{long_moment(starts_at, tz)} overlaps another appointment of "
                f"{availability.practitioner_name} or of the patient.",
            )
        )
    return refusals


def hours_message(starts_at, ends_at, availability):
    local = starts_at.astimezone(availability.tz)
    ranges = availability.hours.get(local.weekday(), ())
    who = availability.practitioner_name
    if not ranges:
        return f"{who} does not work on {local:%A}s."
    hours = ", ".join(f"{start:%H:%M}–{end:%H:%M}" for start, end in ranges)
    length = int((ends_at - starts_at).total_seconds() // 60)
    return f"{local:%H:%M} is outside {who}'s hours on {local:%A}s ({hours}) for a {length}-minute visit."


def spacing_refusal(window, day, *, previous_day=None, following_day=None):
    """A Refusal when `day` is outside the spacing window from the treatment or visit before it or after it
    (courses.timeline), or None. Spacing outside the window is allowed only with a recorded reason."""
    problems = timeline.spacing_problems(window, day, previous_day=previous_day, following_day=following_day)
    if not problems:
        return None
    return Refusal(
        SPACING,
        f"Outside the {window}-day spacing window: {'; '.join(problems)}. Give a reason to book it anyway "
        "(it is then recorded as a protocol deviation).",
    )


def nearest_slot(availability, *, around, now, first_day, days):
    """The free, valid slot nearest `around` on one of `days` (the days the caller's rules allow, e.g. the
    spacing window), or None. Closures, hours, the past and double bookings are the same guards as above."""
    tz = availability.tz
    target = around.astimezone(tz)
    not_before = minute(now)
    candidates = []
    for day in days:
        if first_day is not None and day < first_day:
            continue
        if closure_on(day, availability):
            continue
        for moment in slot_times(day, availability):
            if moment >= not_before and is_free(moment, moment + availability.slot, availability):
                candidates.append(moment)
    if not candidates:
        return None
    return min(candidates, key=lambda moment: (abs(moment - target), moment))
