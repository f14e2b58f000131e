"""The course timeline's clinical rules, each decided here once.

- Which visits are treatments: a completed visit at which something was injected (not an assessment).
- Treatment numbering: "treatment 2 of 6" counts treatments actually given, in the order they were given,
  then the visits still booked, in time order. No-shows, cancellations and assessments take no number.
- The spacing window between consecutive treatments, from the course's interval and the clinic protocol,
  and the earliest, planned and latest day of the next treatment.
- The first treatment, which starts the course and fixes its baseline: the last score on or before it.
- Which scores are outcomes (taken after the first treatment) and which visits a side effect may be
  attributed to.

Booking proposals, rescheduling, walk-ins, session logging, the course page, work lists and the outcome
summaries call these functions; nothing else recomputes them. They take rows already loaded (sessions,
scores) and run no queries, so every caller uses them on what it has in hand.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from courses.models import OPEN_SESSION_STATUSES, SessionStatus, Timepoint


def local_day(moment):
    return timezone.localtime(moment).date()


# --- Treatments and their numbers --------------------------------------------------------------------


def is_treatment(session):
    """A visit at which the patient was treated: completed, and not an assessment only."""
    return session.status == SessionStatus.COMPLETED and not session.assessment_only


def is_open_visit(session):
    """A visit still to happen (or happening): booked or checked in."""
    return session.status in OPEN_SESSION_STATUSES


def _in_time_order(sessions):
    return sorted(sessions, key=lambda s: (s.starts_at, s.pk or 0))


def treatments(sessions):
    """The treatments given, in the order they were given."""
    return _in_time_order(s for s in sessions if is_treatment(s))


def first_treatment(sessions):
    given = treatments(sessions)
    return given[0] if given else None


def treatment_numbers(sessions):
    """{session pk: its treatment number} for the treatments given, then the visits still booked.

    Treatments are numbered in the order they were given, booked visits after them in time order; a
    no-show, a cancellation or an assessment has no number. The diary and the session save store these in
    TreatmentSession.sequence (`numbering_changes`), so every page shows the same number.
    """
    numbered = treatments(sessions) + _in_time_order(s for s in sessions if is_open_visit(s))
    return {session.pk: number for number, session in enumerate(numbered, start=1)}


def numbering_changes(sessions):
    """[(session, new number)] for the sessions whose stored number is not their treatment number."""
    numbers = treatment_numbers(sessions)
    return [(s, numbers[s.pk]) for s in sessions if s.pk in numbers and s.sequence != numbers[s.pk]]


def next_number(sessions):
    """The number the next treatment booked or started would take."""
    return len(treatment_numbers(sessions)) + 1


def numbers_to_book(course, sessions):
    """The treatment numbers still to book: after every treatment given and visit booked, up to the plan."""
    return list(range(next_number(sessions), course.planned_sessions + 1))


# --- Spacing -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpacingWindow:
    """Days allowed between two consecutive treatments of a course, and the planned interval."""

    low: int
    high: int
    target: int

    def fits(self, days):
        return self.low <= days <= self.high

    def judge(self, days):
        """(fits, words for the front desk and the practitioner)."""
        if days < self.low:
            return False, f"{days} days: too close (at least {self.low})"
        if days > self.high:
            return False, f"{days} days: too far apart (at most {self.high})"
        return True, f"{days} days: inside the {self}-day window"

    def __str__(self):
        return f"{self.low}–{self.high}" if self.low != self.high else str(self.low)


def spacing_window(course, protocol):
    """The one definition of how far apart a course's treatments may be.

    A course planned inside the clinic protocol may space its treatments anywhere in the protocol's window
    (default 14–21 days); a course whose own interval deviates from the protocol (recorded with its reason
    when planned) keeps to its own interval, give or take the protocol's tolerance (default 3 days).
    """
    interval = course.interval_days
    if protocol.interval_in_protocol(interval):
        return SpacingWindow(protocol.min_interval_days, protocol.max_interval_days, interval)
    tolerance = protocol.spacing_tolerance_days
    return SpacingWindow(max(1, interval - tolerance), interval + tolerance, interval)


@dataclass(frozen=True)
class NextDue:
    earliest: datetime.date
    planned: datetime.date
    latest: datetime.date


def first_allowed_day(course):
    """No visit of a course may be booked before the day the course starts."""
    return course.start_date


def next_due(course, sessions, protocol):
    """When the next treatment is due: inside the spacing window after the last treatment given, or from
    the course's start before the first. None when the course is closed or every treatment was given."""
    given = treatments(sessions)
    if not course.is_open or len(given) >= course.planned_sessions:
        return None
    if not given:
        start = first_allowed_day(course)
        return NextDue(start, start, start)
    last = local_day(given[-1].starts_at)
    window = spacing_window(course, protocol)
    return NextDue(
        last + datetime.timedelta(days=window.low),
        last + datetime.timedelta(days=window.target),
        last + datetime.timedelta(days=window.high),
    )


def last_visit(sessions):
    """The last treatment given or visit booked, or None: what the next booking is spaced from."""
    live = [s for s in sessions if is_treatment(s) or is_open_visit(s)]
    return max(live, key=lambda s: (s.starts_at, s.pk or 0), default=None)


def neighbours(sessions, moment, *, exclude=()):
    """(previous, following): the nearest treatment given or visit booked before `moment`, and after it.

    These are the visits a booking or a move at `moment` is spaced from; `exclude` (pks) leaves out the
    visits being moved.
    """
    live = _in_time_order(
        s for s in sessions if (is_treatment(s) or is_open_visit(s)) and s.pk not in set(exclude)
    )
    before = [s for s in live if s.starts_at < moment]
    after = [s for s in live if s.starts_at > moment]
    return (before[-1] if before else None), (after[0] if after else None)


def spacing_problems(window, day, *, previous_day=None, following_day=None):
    """Words for each side on which `day` is outside the window ([] when it fits both)."""
    problems = []
    if previous_day is not None:
        fits, words = window.judge((day - previous_day).days)
        if not fits:
            problems.append(f"{words} after the visit of {previous_day:%d %b %Y}")
    if following_day is not None:
        fits, words = window.judge((following_day - day).days)
        if not fits:
            problems.append(f"{words} before the visit of {following_day:%d %b %Y}")
    return problems


# --- Baseline and outcomes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    value: Decimal | None
    on: datetime.date | None
    # True once the first treatment has fixed it; before that it is the latest score so far.
    fixed: bool


def pain_baseline(course, sessions, scores, nrs_id):
    """The course's pain NRS baseline: the last score on or before the first treatment.

    The first treatment's pre-injection score is taken that day before anything is injected, so once a
    treatment is given it is the baseline. Before that, the latest of the score recorded when the course
    was planned and the pain NRS scores recorded since.
    """
    first = first_treatment(sessions)
    if first is not None and first.pain_pre is not None:
        return Baseline(Decimal(first.pain_pre), local_day(first.starts_at), True)
    limit = local_day(first.starts_at) if first is not None else None
    return _latest_before(
        Decimal(course.baseline_pain),
        course.start_date,
        [s for s in scores if s.instrument_id == nrs_id],
        limit,
        fixed=first is not None,
    )


def instrument_baseline(course, sessions, scores):
    """The course's own instrument baseline: its last score on or before the first treatment's day (the
    score recorded when the course was planned, or a later one), or None without any."""
    instrument_id = course.outcome_instrument_id
    if instrument_id is None:
        return Baseline(None, None, False)
    first = first_treatment(sessions)
    planned = course.baseline_instrument_score
    return _latest_before(
        Decimal(planned) if planned is not None else None,
        course.start_date,
        [s for s in scores if s.instrument_id == instrument_id],
        local_day(first.starts_at) if first is not None else None,
        fixed=first is not None,
    )


def _latest_before(planned_value, planned_on, scores, limit, *, fixed):
    # The score recorded when the course was planned counts as taken on the course's start date; a score
    # recorded the same day wins over it.
    candidates = [(planned_on, 0, planned_value)] if planned_value is not None else []
    candidates += [
        (score.recorded_on, 1, Decimal(score.score))
        for score in scores
        if limit is None
        or score.recorded_on < limit
        or (score.recorded_on == limit and score.timepoint == Timepoint.BASELINE)
    ]
    if not candidates:
        return Baseline(None, None, fixed)
    on, _, value = max(candidates, key=lambda c: (c[0], c[1]))
    return Baseline(value, on, fixed)


def outcome_sessions(sessions):
    """The treatments whose pre-injection score is an outcome: every treatment after the first."""
    return treatments(sessions)[1:]


def is_outcome_score(score, first_treatment_day):
    """A follow-up score measures the outcome only when taken after the first treatment's day, and not
    recorded as a baseline."""
    return (
        first_treatment_day is not None
        and score.recorded_on > first_treatment_day
        and score.timepoint != Timepoint.BASELINE
    )


def baseline_date_problem(score_day, first_treatment_day):
    """Why a score recorded as a baseline on `score_day` cannot be one ('' when it can)."""
    if first_treatment_day is not None and score_day > first_treatment_day:
        return (
            f"A baseline is taken on or before the first treatment ({first_treatment_day:%d %b %Y}); "
            "record this score at its follow-up timepoint."
        )
    return ""


# --- Side effects ------------------------------------------------------------------------------------


def may_be_attributed(visit, candidate):
    """A side effect reported at `visit` may be put down to the visit itself (a reaction during it) or to an
    earlier treatment of the same patient; never to a visit at which nothing was injected."""
    if candidate.pk == visit.pk:
        return True
    return (
        candidate.patient_id == visit.patient_id
        and is_treatment(candidate)
        and candidate.starts_at < visit.starts_at
    )


def attributable(visit, sessions):
    """The visits of `sessions` a side effect reported at `visit` may be attributed to, in time order."""
    return _in_time_order(s for s in sessions if may_be_attributed(visit, s))


def default_attribution(visit, sessions):
    """Side effects since the last visit are usually down to the last treatment before this visit."""
    earlier = [s for s in attributable(visit, sessions) if s.pk != visit.pk]
    return earlier[-1] if earlier else visit


def onset_problem(attributed, onset_date):
    """Why a side effect with this onset cannot be put down to `attributed` ('' when it can)."""
    if onset_date is None or attributed is None:
        return ""
    given_on = local_day(attributed.starts_at)
    if onset_date < given_on:
        return f"The onset cannot be before the visit it is attributed to ({given_on:%d %b %Y})."
    if onset_date > timezone.localdate():
        return "The onset cannot be in the future."
    return ""
