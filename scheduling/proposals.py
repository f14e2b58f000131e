"""Proposing the remaining sessions of a course: pure functions, no database.

The front desk picks the first date and time; every later session is placed `interval_days` after
the one before it. When that day or time does not work, the session moves within the spacing
window, and each move records why, in words the front desk can read out to the patient.
"""

import datetime
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Availability:
    """What the proposal needs to know about the diary, loaded once by the caller."""

    practitioner_name: str
    hours: dict  # weekday (0 = Monday) -> [(start time, end time), ...]
    closures: tuple  # ((first day, last day, reason), ...)
    busy: tuple  # ((starts_at, ends_at), ...) live appointments of the practitioner or the patient
    slot: datetime.timedelta
    tz: datetime.tzinfo


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


def short_date(day):
    return f"{day.day} {day:%b}"


def closure_on(day, availability):
    for first, last, reason in availability.closures:
        if first <= day <= last:
            return reason
    return None


def is_free(starts_at, availability):
    ends_at = starts_at + availability.slot
    return not any(start < ends_at and end > starts_at for start, end in availability.busy)


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


def place_on_day(day, preferred_time, availability, *, not_before):
    """(start, reasons) for the free slot nearest the preferred time on `day`; start None when full."""
    preferred = datetime.datetime.combine(day, preferred_time, tzinfo=availability.tz)
    candidates = [t for t in slot_times(day, availability) if t >= not_before]
    if preferred in candidates and is_free(preferred, availability):
        return preferred, []
    label = f"{preferred_time:%H:%M}"
    if preferred in candidates:
        reason = f"{label} taken"
    elif preferred < not_before:
        reason = f"{label} already past"
    else:
        reason = f"{availability.practitioner_name} not working at {label}"
    free = [t for t in candidates if is_free(t, availability)]
    if not free:
        return None, [f"no free time on {short_date(day)}"]
    free.sort(key=lambda t: (abs(t - preferred), t))
    return free[0], [reason]


def place_in_window(days, preferred_time, availability, *, not_before):
    """Try each day in order; (start, reasons for every day passed over and the time chosen)."""
    reasons = []
    for day in days:
        if day < not_before.date():
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


def window_days(previous_day, interval_days, window):
    """Days allowed after `previous_day`, nearest to the planned interval first (later wins a tie)."""
    low, high = window
    target = previous_day + datetime.timedelta(days=interval_days)
    days = [previous_day + datetime.timedelta(days=n) for n in range(low, high + 1)]
    return sorted(days, key=lambda d: (abs((d - target).days), -(d - target).days)), target


def propose_sessions(*, first_start, sequences, interval_days, window, availability, now):
    """One ProposedSession per sequence number.

    `first_start` is the front desk's choice (aware) for the first of `sequences`; `window` is the
    allowed (min, max) days between consecutive sessions. The first session may slide forward by
    at most the width of the window; each later one stays inside the window after the one before.
    """
    local_first = first_start.astimezone(availability.tz)
    preferred_time = local_first.time().replace(tzinfo=None)
    busy = list(availability.busy)
    rows = []
    previous_day = None
    for index, sequence in enumerate(sequences):
        if index == 0:
            target = local_first.date()
            days = [target + datetime.timedelta(days=n) for n in range(window[1] - window[0] + 1)]
        else:
            days, target = window_days(previous_day, interval_days, window)
        current = Availability(**{**availability.__dict__, "busy": tuple(busy)})
        start, reasons = place_in_window(days, preferred_time, current, not_before=now)
        if start is None:
            reasons.append(f"no free slot within {window[0]}–{window[1]} days; choose a time")
        rows.append(ProposedSession(sequence=sequence, target_date=target, starts_at=start, reasons=reasons))
        if start is not None:
            busy.append((start, start + availability.slot))
            previous_day = start.date()
        else:
            previous_day = target
    return rows
