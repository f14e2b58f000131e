"""Proposing the remaining treatments of a course: pure functions, no database.

The front desk picks the first date and time; every later treatment is placed the course's planned interval
after the one before it. When that day or time does not work, the visit moves within the spacing window
(courses.timeline), and each move records why, in words the front desk can read out to the patient. Days
and times are chosen with the diary's own guards (scheduling.rules), and the confirmation validates every
row again on the server (scheduling.diary.course_book).
"""

import datetime
from dataclasses import dataclass, field

from scheduling.rules import Availability, closure_on, is_free, short_date, slot_times

__all__ = ["Availability", "ProposedSession", "propose_sessions"]


@dataclass
class ProposedSession:
    sequence: int
    target_date: datetime.date
    starts_at: datetime.datetime | None
    reasons: list = field(default_factory=list)

    @property
    def moved(self):
        return bool(self.reasons)

    @property
    def unresolved(self):
        return self.starts_at is None


def place_on_day(day, preferred_time, availability, *, not_before):
    """(start, reasons) for the free slot nearest the preferred time on `day`; start None when full."""
    preferred = datetime.datetime.combine(day, preferred_time, tzinfo=availability.tz)
    candidates = [t for t in slot_times(day, availability) if t >= not_before]
    if preferred in candidates and is_free(preferred, preferred + availability.slot, availability):
        return preferred, []
    label = f"{preferred_time:%H:%M}"
    if preferred in candidates:
        reason = f"{label} taken"
    elif preferred < not_before:
        reason = f"{label} already past"
    else:
        reason = f"{availability.practitioner_name} not working at {label}"
    free = [t for t in candidates if is_free(t, t + availability.slot, availability)]
    if not free:
        return None, [f"no free time on {short_date(day)}"]
    free.sort(key=lambda t: (abs(t - preferred), t))
    return free[0], [reason]


def place_in_window(days, preferred_time, availability, *, not_before, first_day=None):
    """Try each day in order; (start, reasons for every day passed over and the time chosen)."""
    reasons = []
    for day in days:
        if day < not_before.astimezone(availability.tz).date():
            continue
        if first_day is not None and day < first_day:
            reasons.append(f"course starts {short_date(first_day)}")
            continue
        closed = closure_on(day, availability)
        if closed:
            reasons.append(f"clinic closed {short_date(day)} ({closed})")
            continue
        if not availability.hours.get(day.weekday()):
            reasons.append(f"{availability.practitioner_name} not working {day:%A}s")
            continue
        start, day_reasons = place_on_day(day, preferred_time, availability, not_before=not_before)
        reasons.extend(day_reasons)
        if start is not None:
            return start, list(dict.fromkeys(reasons))
    return None, list(dict.fromkeys(reasons))


def window_days(previous_day, window):
    """Days allowed after `previous_day` (courses.timeline.SpacingWindow), nearest to the planned interval
    first (later wins a tie)."""
    target = previous_day + datetime.timedelta(days=window.target)
    days = [previous_day + datetime.timedelta(days=n) for n in range(window.low, window.high + 1)]
    return sorted(days, key=lambda d: (abs((d - target).days), -(d - target).days)), target


def first_days(first_day, window, previous_day=None):
    """Days the first proposed treatment may take: from the day chosen, forward by at most the width of the
    window; after an earlier treatment or visit, only those inside its spacing window."""
    days = [first_day + datetime.timedelta(days=n) for n in range(window.high - window.low + 1)]
    if previous_day is not None:
        days = [d for d in days if window.fits((d - previous_day).days)] or days
    return days


def propose_sessions(*, first_start, sequences, window, availability, now, first_day=None, previous_day=None):
    """One ProposedSession per treatment number.

    `first_start` is the front desk's choice (aware) for the first of `sequences`; `window` is the course's
    spacing window (courses.timeline). The first treatment may slide forward by at most the width of the
    window (and stays inside the window after `previous_day`, the treatment or visit before it); each later
    one stays inside the window after the one before. No day before `first_day` (the course's start).
    """
    local_first = first_start.astimezone(availability.tz)
    preferred_time = local_first.time().replace(tzinfo=None)
    busy = list(availability.busy)
    rows = []
    for index, sequence in enumerate(sequences):
        if index == 0:
            target = local_first.date()
            days = first_days(target, window, previous_day)
        else:
            days, target = window_days(previous_day, window)
        current = availability.with_busy(busy)
        start, reasons = place_in_window(days, preferred_time, current, not_before=now, first_day=first_day)
        if start is None:
            reasons.append(f"no free slot within {window} days; choose a time")
        rows.append(ProposedSession(sequence=sequence, target_date=target, starts_at=start, reasons=reasons))
        if start is not None:
            busy.append((start, start + availability.slot))
            previous_day = start.astimezone(availability.tz).date()
        else:
            previous_day = target
    return rows
