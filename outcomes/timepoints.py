"""The timepoint rules: where a course's outcome is read, and what it is there.

Trials report responders at fixed timepoints (end of course, 3, 6, 12 months), never at "the latest score",
which mixes a patient in week 2 with one seen a year later. The clinic's timepoints are protocol data
(courses.ProtocolTimepoint): a target day counted from the course's last treatment and a window around it.

- A course has windows once it is closed (completed or stopped) with at least one treatment: until then its
  last treatment is not known, so every timepoint is *awaiting*.
- Its value at a timepoint is the outcome point nearest the target day inside the window (on a tie the later
  day; on the same day a follow-up score over a treatment's pre-injection score, as courses.timeline reads the
  latest score). Outcome points are those courses.timeline counts: the pre-injection pain of every treatment
  after the first and the follow-up scores taken after the first treatment's day, staff-entered and
  patient-reported alike.
- Without a value, a timepoint whose window has closed is *missing*; one whose window is still open, or not
  yet placed, is *awaiting*.

The course's response at a timepoint is courses.selectors.response() applied to its baseline and that value,
the same definition as the course page's.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from courses import timeline
from courses.models import CourseStatus
from courses.selectors import response

SCORED = "scored"
MISSING = "missing"
AWAITING = "awaiting"
STATE_LABELS = {SCORED: "Scored in the window", MISSING: "Missing (window closed)", AWAITING: "Awaiting"}
CLOSED = (CourseStatus.COMPLETED, CourseStatus.STOPPED)


@dataclass(frozen=True)
class Window:
    opens_on: datetime.date
    target_on: datetime.date
    closes_on: datetime.date

    def holds(self, day):
        return self.opens_on <= day <= self.closes_on


@dataclass(frozen=True)
class Point:
    """One outcome point: its day, its kind (0 a treatment's pre-injection score, 1 a follow-up score; a
    follow-up wins a same-day tie), its record id (the later record wins a remaining tie) and its value."""

    on: datetime.date
    kind: int
    pk: int
    value: Decimal


def window(timepoint, last_treatment_day):
    """The timepoint's window for a course whose last treatment was on `last_treatment_day`."""
    target = last_treatment_day + datetime.timedelta(days=timepoint.target_days)
    return Window(
        target - datetime.timedelta(days=timepoint.window_before_days),
        target,
        target + datetime.timedelta(days=timepoint.window_after_days),
    )


def course_window(timepoint, status, last_treatment_day):
    """The window of a course (its status and last treatment's day), or None while it has none: an open
    course, or one without a treatment."""
    if status not in CLOSED or last_treatment_day is None:
        return None
    return window(timepoint, last_treatment_day)


def value_in(window_, points):
    """The point nearest the window's target inside the window, or None."""
    inside = [point for point in points if window_.holds(point.on)]
    if not inside:
        return None
    return min(
        inside, key=lambda p: (abs((p.on - window_.target_on).days), -p.on.toordinal(), -p.kind, -p.pk)
    )


def state(has_value, closes_on, today):
    """SCORED, MISSING or AWAITING (see the module docstring); `closes_on` None: no window yet."""
    if has_value:
        return SCORED
    if closes_on is not None and closes_on < today:
        return MISSING
    return AWAITING


def pain_points(sessions, scores, first_day):
    """The pain NRS outcome points of a course: `sessions` its completed visits, `scores` its current NRS
    scores (rows with recorded_on, timepoint, score and pk)."""
    points = [
        Point(timeline.local_day(row.starts_at), 0, row.pk, Decimal(row.pain_pre))
        for row in timeline.outcome_sessions(sessions)
        if row.pain_pre is not None
    ]
    return points + score_points(scores, first_day)


def score_points(scores, first_day):
    """The outcome points of follow-up scores (the course's own instrument, or the NRS's scores)."""
    return [
        Point(score.recorded_on, 1, score.pk, Decimal(score.score))
        for score in scores
        if timeline.is_outcome_score(score, first_day)
    ]


@dataclass(frozen=True)
class TimepointValue:
    """A course's value at one timepoint on one instrument, with its response (courses.selectors)."""

    window: Window | None
    point: Point | None
    improvement: Decimal | None = None
    meets_mcid: bool = False
    evaluable_half: bool = False
    meets_half: bool = False


def value_at(timepoint, instrument, baseline, status, last_treatment_day, points):
    """The course's TimepointValue: its window, the point found there and the response to it."""
    window_ = course_window(timepoint, status, last_treatment_day)
    point = value_in(window_, points) if window_ is not None else None
    if point is None or baseline is None:
        return TimepointValue(window_, point)
    found = response(instrument, baseline, point.value)
    return TimepointValue(
        window_,
        point,
        improvement=found.improvement,
        meets_mcid=found.mcid,
        evaluable_half=found.percent is not None,
        meets_half=found.percent is not None and found.percent >= 50,
    )
