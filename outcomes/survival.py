"""Time to event: Kaplan–Meier estimates of staying on a course and of first response.

Time is counted in days from each course's first treatment (the timeline's origin), over the courses with at
least one treatment; the database groups the courses by (days, event) and outcomes.stats estimates.

- Discontinuation: an event is a course stopped for no response, an adverse event, the patient's choice or
  loss to follow-up, on its end date. A course completed, or stopped because its goal was met, is not a
  drop-out: it is censored on its end date. A course still open is censored today.
- First response: an event is the first pain NRS outcome point meeting the MCID against the baseline
  (outcomes.summary.first_response_on). A course without one is censored at its last pain outcome point (the
  last day its response was known), or at its first treatment when it has none yet.
"""

from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from courses.models import DROP_OUT_REASONS, CourseStatus, TreatmentCourse
from outcomes import definitions, stats
from outcomes.dbfunctions import DaysBetween
from outcomes.selectors import Table, of_courses

# The weeks the tables read the curves at.
TABLE_WEEKS = (0, 2, 4, 6, 8, 12, 16, 26, 39, 52)
FIRST = "outcome_summary__first_session_on"


def _treated(courses):
    return of_courses(TreatmentCourse.objects.filter(outcome_summary__sessions_received__gt=0), courses, "pk")


def _grouped(rows):
    """[(days, events, censored)] from rows grouped by (days, event) with their count `n`."""
    found = {}
    for days, event, n in rows.values_list("days", "event").annotate(n=Count("pk")).order_by():
        entry = found.setdefault(max(0, days or 0), [0, 0])
        entry[0 if event else 1] += n
    return [(days, events, censored) for days, (events, censored) in sorted(found.items())]


def discontinuation_counts(courses, today=None):
    today = today or timezone.localdate()
    closed = Q(status__in=(CourseStatus.COMPLETED, CourseStatus.STOPPED))
    end = Case(
        When(closed, then=Coalesce("end_date", "outcome_summary__last_session_on")),
        default=Value(today),
    )
    dropped = Q(status=CourseStatus.STOPPED, stop_reason__in=DROP_OUT_REASONS)
    rows = _treated(courses).annotate(
        days=DaysBetween(end, F(FIRST)),
        event=Case(When(dropped, then=Value(1)), default=Value(0), output_field=IntegerField()),
    )
    return _grouped(rows)


def response_counts(courses):
    end = Coalesce("outcome_summary__first_response_on", "outcome_summary__latest_pain_on", FIRST)
    responded = Q(outcome_summary__first_response_on__isnull=False)
    rows = _treated(courses).annotate(
        days=DaysBetween(end, F(FIRST)),
        event=Case(When(responded, then=Value(1)), default=Value(0), output_field=IntegerField()),
    )
    return _grouped(rows)


def _pct(value):
    return None if value is None else round(100 * value, 1)


def _curve_table(name, title, counts, *, cumulative, estimate_label, event_label):
    """A Table reading the curve at TABLE_WEEKS, and a step chart of the whole curve (in weeks)."""
    steps = stats.kaplan_meier(counts)
    total = sum(events + censored for _, events, censored in counts)
    rows = []
    for week in TABLE_WEEKS:
        survival, low, high, at_risk = stats.estimate_at(steps, week * 7)
        events = sum(step.events for step in steps if step.time <= week * 7)
        if survival is not None and cumulative:
            survival, low, high = (
                1 - survival,
                (1 - high if high is not None else None),
                (1 - low if low is not None else None),
            )
        rows.append(
            {
                "week": week,
                "at_risk": at_risk,
                "events": events,
                "estimate": _pct(survival),
                "low": _pct(low),
                "high": _pct(high),
            }
        )
    # The whole curve as (weeks, %) points, drawn as steps on a linear time axis, out to the last follow-up.
    points = [(0, 0.0 if cumulative else 1.0)] + [
        (step.time, 1 - step.survival if cumulative else step.survival) for step in steps if step.events
    ]
    if steps and steps[-1].time > points[-1][0]:
        points.append((steps[-1].time, points[-1][1]))
    chart = {
        "type": "line",
        "stepped": True,
        "labels": [],
        "datasets": [
            {
                "label": estimate_label,
                "data": [{"x": round(days / 7, 2), "y": round(100 * value, 1)} for days, value in points],
            }
        ],
        "x_title": "Weeks since the first treatment",
        "y_title": f"{estimate_label} (%)",
        "y_max": 100,
    }
    columns = [
        ("week", "Week"),
        ("at_risk", "At risk"),
        ("events", event_label),
        ("estimate", f"{estimate_label} (%)"),
        ("low", "95 % CI low"),
        ("high", "95 % CI high"),
    ]
    table = Table(name, title, columns, rows if total else [], chart)
    table.definition = f"{definitions.TIME_TO_EVENT} {definitions.DROP_OUT}"
    table.footnote = (
        f"{total} course{'s' if total != 1 else ''} with a treatment; "
        f"{sum(e for _, e, _ in counts)} event{'s' if sum(e for _, e, _ in counts) != 1 else ''}, "
        f"{sum(c for _, _, c in counts)} censored. Kaplan–Meier estimate with the log–log 95 % interval; "
        "at risk: courses still followed at that week."
    )
    return table


def discontinuation_table(courses):
    return _curve_table(
        "time-to-discontinuation",
        "Time to discontinuation (Kaplan–Meier)",
        discontinuation_counts(courses),
        cumulative=False,
        estimate_label="Still on course",
        event_label="Drop-outs so far",
    )


def response_table(courses):
    return _curve_table(
        "time-to-response",
        "Time to first response ≥ MCID, pain NRS (Kaplan–Meier)",
        response_counts(courses),
        cumulative=True,
        estimate_label="Responded",
        event_label="Responses so far",
    )
