"""Outcome reports, computed by the database.

Every figure starts from `outcome_courses()`: the courses the user may see, filtered, and annotated per course
with its latest pain score, change from baseline and responder status. Grouped tables aggregate that queryset
(GROUP BY in SQL); Python only arranges the few aggregated rows for display.

The responder definition is `courses.selectors.RESPONDER_DEFINITION`, the one the course page uses (there in
Python, here in SQL); tests/outcomes/test_definition.py runs both on the same courses and compares them.
"""

import datetime
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from clinic.choices import BodyRegion
from courses.models import (
    DROP_OUT_REASONS,
    CourseStatus,
    InjectionSite,
    OutcomeInstrument,
    ProtocolSettings,
    SessionStatus,
    SideEffect,
    SideEffectTerm,
    TreatmentCourse,
    TreatmentSession,
)
from outcomes.models import CourseOutcome, CourseSessionCount
from outcomes.volumes import volume_band

# Dextrose concentration bands of a preparation (final % in the syringe).
BAND_NONE = "none"
BANDS = [
    (BAND_NONE, "No dextrose recorded"),
    ("lt12_5", "< 12.5 %"),
    ("12_5_20", "12.5 – < 20 %"),
    ("20_25", "20 – 25 %"),
    ("gt25", "> 25 %"),
]
BAND_LABELS = dict(BANDS)
CLOSED = (CourseStatus.COMPLETED, CourseStatus.STOPPED)
OPEN = (CourseStatus.PLANNED, CourseStatus.ACTIVE)
DECIMAL = DecimalField(max_digits=8, decimal_places=2)
PAIN_SESSION = CourseSessionCount.Dimension.PAIN_SESSION
PAIN_WEEK = CourseSessionCount.Dimension.PAIN_WEEK


def band_of(field_name):
    """SQL CASE giving the dextrose band of a concentration column."""
    return Case(
        When(Q(**{f"{field_name}__isnull": True}) | Q(**{field_name: 0}), then=Value(BAND_NONE)),
        When(**{f"{field_name}__lt": Decimal("12.5")}, then=Value("lt12_5")),
        When(**{f"{field_name}__lt": Decimal("20")}, then=Value("12_5_20")),
        When(**{f"{field_name}__lte": Decimal("25")}, then=Value("20_25")),
        default=Value("gt25"),
        output_field=CharField(),
    )


def band_code(percent):
    """The band of one concentration, in Python (the same thresholds as `band_of`)."""
    if percent is None or percent == 0:
        return BAND_NONE
    if percent < Decimal("12.5"):
        return "lt12_5"
    if percent < Decimal("20"):
        return "12_5_20"
    if percent <= Decimal("25"):
        return "20_25"
    return "gt25"


@contextmanager
def reporting():
    """A transaction for report queries; on PostgreSQL it turns JIT off.

    These queries carry dozens of small correlated subqueries, so their cost estimate triggers JIT compilation
    that takes seconds while execution takes milliseconds (760 courses: JIT 5.2 s, execution 0.08 s).
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def pain_instrument():
    """The pain NRS row of the catalogue (its MCID drives the pain responder definition)."""
    return OutcomeInstrument.objects.filter(code=OutcomeInstrument.PAIN_NRS_CODE).first()


def annotate_outcomes(courses):
    """Per-course latest pain and instrument score, change, sessions received and preparation band.

    The values that depend on the course's sessions and scores, and its response flags
    (`courses.selectors.RESPONDER_DEFINITION`, the course page's own code), come from the
    `outcomes.CourseOutcome` summary row, joined one-to-one and kept up to date in the same transaction as
    the writes that change them (outcomes.summary); the categories below are plain filters on its flags.
    """
    summary = "outcome_summary__"
    courses = courses.annotate(
        session_pain=F(f"{summary}session_pain"),
        session_day=F(f"{summary}session_pain_on"),
        score_pain=F(f"{summary}score_pain"),
        score_day=F(f"{summary}score_pain_on"),
        instrument_latest=F(f"{summary}instrument_latest"),
        sessions_received=Coalesce(F(f"{summary}sessions_received"), 0),
        max_dextrose=F(f"{summary}max_dextrose"),
        with_anaesthetic=Coalesce(F(f"{summary}with_anaesthetic"), False),
        latest_pain=F(f"{summary}latest_pain"),
        # The baselines fixed by the first treatment (courses.timeline), not the scores typed at planning.
        baseline=F(f"{summary}baseline_pain"),
        baseline_instrument=F(f"{summary}baseline_instrument"),
        # The band of most of the course's treatments: the strongest one ever used mixes in course length.
        band=F(f"{summary}modal_band"),
    )
    # The pain NRS is lower-is-better: change = latest − baseline (negative is better).
    return courses.annotate(
        pain_change=ExpressionWrapper(F("latest_pain") - F("baseline"), output_field=DECIMAL),
        instrument_improvement=Case(
            When(
                outcome_instrument__higher_is_better=True,
                then=F("instrument_latest") - F("baseline_instrument"),
            ),
            default=F("baseline_instrument") - F("instrument_latest"),
            output_field=DECIMAL,
        ),
    )


def _flag(name):
    return Q(**{f"outcome_summary__{name}": True})


# Course categories, as Q objects over the summary's flags (used in Count(filter=...) and drill-down lists).
# A course stopped as lost to follow-up is lost whatever scores it has (they were taken during treatment).
LOST = _flag("lost")
AWAITING = _flag("awaiting")
EVALUABLE = _flag("evaluable")
EVALUABLE_50 = _flag("evaluable_50")
BASELINE_ZERO = _flag("baseline_zero")
# Pain ≥ MCID: the NRS's absolute MCID (2 points) or its relative MCID of baseline (30 %).
RESPONDER_MCID = _flag("responder_mcid")
# Stopped for no response, an adverse event, the patient's choice or loss to follow-up ("goal met" is not).
DROPPED_OUT = Q(status=CourseStatus.STOPPED, stop_reason__in=DROP_OUT_REASONS)
RESPONDER_50 = _flag("responder_50")
# The course's own instrument, when it has one besides the pain NRS and a baseline score for it.
INSTRUMENT_TRACKED = _flag("instrument_tracked")
INSTRUMENT_EVALUABLE = _flag("instrument_evaluable")
INSTRUMENT_RESPONDER = _flag("instrument_responder")
INSTRUMENT_EVALUABLE_50 = _flag("instrument_evaluable_50")
INSTRUMENT_RESPONDER_50 = _flag("instrument_responder_50")
INSTRUMENT_LOST = _flag("instrument_lost")
INSTRUMENT_AWAITING = _flag("instrument_awaiting")


def count_flag(condition):
    """1 when the course meets `condition`, else 0 (for per-course export columns)."""
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def evaluable_flag(evaluable, responder):
    """1 responder, 0 non-responder, NULL when the course cannot be evaluated."""
    return Case(
        When(~evaluable, then=Value(None)),
        When(responder, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


def rate(part, whole, per=100):
    """part / whole × per, rounded to one decimal; None when there is nothing to divide by."""
    if not whole:
        return None
    return round(float(part) * per / float(whole), 1)


# --- Filters --------------------------------------------------------------------------------------------


def visible_courses(user):
    """Courses whose outcomes the user may see: the whole clinic, or their own courses."""
    courses = TreatmentCourse.objects.all()
    if not user.has_perm("courses.view_all_outcomes"):
        courses = courses.filter(practitioner=user)
    return courses


def course_ids(courses):
    """The ids of `courses` as a subquery, for the session and side-effect tables.

    Without a filter on an outcome annotation, the ids come from the plain course filters, so the subquery
    does not carry the joins of the annotations (summary row, instrument, catalogue subqueries).
    """
    plain = getattr(courses, "plain_ids", None)
    return courses.values("pk") if plain is None else plain


def of_courses(rows, courses, field="course"):
    """`rows` restricted to `courses`; the whole clinic unfiltered needs no restriction (and the semi-join
    with every course cost a third of the per-course counts' query)."""
    if getattr(courses, "whole_clinic", False):
        return rows
    return rows.filter(**{f"{field}__in": course_ids(courses)})


def outcome_courses(user, filters):
    """The user's visible courses, annotated with outcomes and narrowed by the dashboard filters."""
    courses = visible_courses(user)
    if filters.get("start_from"):
        courses = courses.filter(start_date__gte=filters["start_from"])
    if filters.get("start_to"):
        courses = courses.filter(start_date__lte=filters["start_to"])
    if filters.get("condition"):
        courses = courses.filter(condition=filters["condition"])
    if filters.get("practitioner") and user.has_perm("courses.view_all_outcomes"):
        courses = courses.filter(practitioner=filters["practitioner"])
    if filters.get("status"):
        courses = courses.filter(status=filters["status"])
    plain = courses
    courses = annotate_outcomes(courses)
    if filters.get("band"):
        courses = courses.filter(band=filters["band"])
    if filters.get("anaesthetic") in ("yes", "no"):
        courses = courses.filter(with_anaesthetic=filters["anaesthetic"] == "yes")
    if filters.get("sessions_received") is not None:
        courses = courses.filter(sessions_received=filters["sessions_received"])
    if filters.get("volume_band"):
        courses = courses.annotate(volume_band=volume_band("outcome_summary__total_volume_ml")).filter(
            volume_band=filters["volume_band"]
        )
    if (
        not (filters.get("band") or filters.get("anaesthetic") in ("yes", "no") or filters.get("volume_band"))
        and filters.get("sessions_received") is None
    ):
        courses.plain_ids = plain.values("pk")
    # The timepoint and the measure choose which figures to read, not which courses.
    course_filters = {key for key in filters if key not in ("timepoint", "instrument")}
    courses.whole_clinic = not course_filters and user.has_perm("courses.view_all_outcomes")
    courses.tally_scope = _tally_scope(user, filters, course_filters)
    return courses


def _tally_scope(user, filters, course_filters):
    """The outcomes.TimepointTally rows that add up to these courses' timepoint values: {} for the whole
    clinic, the practitioner's for their own courses (or the practitioner filter alone); None when other
    filters need the courses' own rows."""
    if not user.has_perm("courses.view_all_outcomes"):
        return None if course_filters else {"practitioner_id": user.pk}
    if not course_filters:
        return {}
    if course_filters == {"practitioner"}:
        return {"practitioner_id": getattr(filters["practitioner"], "pk", filters["practitioner"])}
    return None


# --- Tables ---------------------------------------------------------------------------------------------


@dataclass
class Table:
    """One report table: the dashboard renders it, the chart endpoint and the CSV download reuse it."""

    name: str
    title: str
    columns: list  # [(key, label)]
    rows: list = field(default_factory=list)  # dicts keyed by column; "_links" maps a column to a URL
    chart: dict | None = None
    pivot: dict | None = None  # a compact layout of the same numbers for the page (conditions × points)
    empty_text: str = "No data for these filters."
    footnote: str = ""  # how to read the table (denominators, method), shown under it
    definition: str = ""  # the definition behind the figures (outcomes.definitions), one click away

    def _kinds(self):
        """{column key: "proportion" or "mean"} for the columns holding outcomes.stats figures."""
        kinds = {}
        for key, _ in self.columns:
            for row in self.rows:
                kind = getattr(row.get(key), "kind", None)
                if kind:
                    kinds[key] = kind
                    break
        return kinds

    def csv_header(self):
        """Column labels for the CSV download; a proportion or a mean spreads over one column per number."""
        kinds = self._kinds()
        header = []
        for key, label in self.columns:
            if kinds.get(key) == "proportion":
                header += [
                    f"{label}: responders",
                    f"{label}: of",
                    f"{label} (%)",
                    f"{label}: 95 % CI low",
                    f"{label}: 95 % CI high",
                ]
            elif kinds.get(key) == "mean":
                header += [f"{label}: n", f"{label}: mean", f"{label}: 95 % CI low", f"{label}: 95 % CI high"]
            else:
                header.append(label)
        return header

    def values(self):
        kinds = self._kinds()
        values = []
        for row in self.rows:
            line = []
            for key, _ in self.columns:
                value = row.get(key)
                if kinds.get(key) == "proportion":
                    line += (
                        [None] * 5
                        if value is None
                        else [
                            value.k,
                            value.n,
                            _rounded(value.percent),
                            _rounded(value.low),
                            _rounded(value.high),
                        ]
                    )
                elif kinds.get(key) == "mean":
                    line += (
                        [None] * 4
                        if value is None
                        else [
                            value.n,
                            _rounded(value.mean, 2),
                            _rounded(value.low, 2),
                            _rounded(value.high, 2),
                        ]
                    )
                else:
                    line.append(value)
            values.append(line)
        return values

    def cells(self):
        """Rows as (value, drill-down URL or None) pairs, in column order, for templates."""
        return [
            [(row.get(key), row.get("_links", {}).get(key)) for key, _ in self.columns] for row in self.rows
        ]


def _rounded(value, places=1):
    return None if value is None else round(value, places)


def headline(courses, *, link):
    """The headline counts, each with the link to the courses behind it (the responder figures are read at
    a timepoint: outcomes.responders.headline)."""
    statuses = {
        "n": Count("pk"),
        "active": Count("pk", filter=Q(status=CourseStatus.ACTIVE)),
        "completed": Count("pk", filter=Q(status=CourseStatus.COMPLETED)),
        "deviations": Count("pk", filter=Q(is_protocol_deviation=True)),
    }
    # Completed sessions and side effects per course are in the outcome summary: no scan of every session or
    # of the per-term counts.
    totals = {
        "sessions_completed": "sessions_received",
        "side_effects": "side_effects",
        "serious": "serious_side_effects",
    }
    if getattr(courses, "whole_clinic", False):
        # Every course, and every summary row: two plain scans instead of joining the clinic's courses to
        # their summaries (docs/performance.md, "The cold dashboard within 150 ms").
        counts = TreatmentCourse.objects.aggregate(**statuses)
        counts.update(CourseOutcome.objects.aggregate(**{k: Coalesce(Sum(f), 0) for k, f in totals.items()}))
    else:
        summed = {k: Coalesce(Sum(f"outcome_summary__{f}"), 0) for k, f in totals.items()}
        counts = courses.aggregate(**statuses, **summed)
    today = timezone.localdate()
    month_start = timezone.make_aware(datetime.datetime.combine(today.replace(day=1), datetime.time.min))
    # This month's sessions only: a range of session_status_time_idx (status, starts_at).
    this_month = of_courses(
        TreatmentSession.objects.filter(status=SessionStatus.COMPLETED, starts_at__gte=month_start), courses
    ).count()
    counts.update(
        sessions_this_month=this_month,
        side_effects_per_100=rate(counts["side_effects"], counts["sessions_completed"]),
    )
    counts["notes"] = {
        "side_effects": f"{counts['side_effects']} in {counts['sessions_completed']} completed sessions",
        "month": f"{today:%B %Y}",
    }
    counts["links"] = {
        figure.replace("-", "_"): link(figure)
        for figure in [
            "all",
            "active",
            "completed",
            "sessions-this-month",
            "side-effects",
            "serious",
            "deviation",
        ]
    }
    return counts


# --- Pain trend -----------------------------------------------------------------------------------------


def _spread(n, total, total_sq):
    """Mean and sample SD from count, sum and sum of squares (already aggregated in SQL)."""
    if not n:
        return None, None
    mean = float(total) / n
    if n < 2:
        return round(mean, 2), None
    variance = max(float(total_sq) - n * mean * mean, 0.0) / (n - 1)
    return round(mean, 2), round(math.sqrt(variance), 2)


def _sums(value):
    return {"n": Count("pk"), "total": Sum(value), "total_sq": Sum(F(value) * F(value))}


ALL_CONDITIONS = "All conditions"
# Conditions drawn on the chart at first (largest first); the others are a legend click away.
CHART_SHOWN_CONDITIONS = 4


def _trend_table(name, title, x_label, x_labels, cells):
    """cells: {(x, condition): [n, total, total_sq]} -> mean and SD per point, per condition and overall."""
    overall = {}
    for (x, _), (n, total, total_sq) in cells.items():
        _add(overall, x, ALL_CONDITIONS, n, total, total_sq)
    sizes = {}
    for (_, condition), (n, _, _) in cells.items():
        sizes[condition] = max(sizes.get(condition, 0), n)
    conditions = sorted(sizes)
    shown = set(sorted(sizes, key=lambda c: -sizes[c])[:CHART_SHOWN_CONDITIONS])
    cells = {**overall, **cells}
    xs = sorted({x for x, _ in cells})
    rows = []
    for condition in [ALL_CONDITIONS, *conditions] if cells else []:
        for x in xs:
            if (x, condition) not in cells:
                continue
            n, total, total_sq = cells[(x, condition)]
            mean, sd = _spread(n, total, total_sq)
            rows.append({"condition": condition, "x": x_labels(x), "_x": x, "n": n, "mean": mean, "sd": sd})
    datasets = []
    for condition in [ALL_CONDITIONS, *conditions] if cells else []:
        by_x = {row["_x"]: row for row in rows if row["condition"] == condition}
        dataset = {
            "label": condition,
            "data": [by_x[x]["mean"] if x in by_x else None for x in xs],
            "hidden": condition != ALL_CONDITIONS and condition not in shown,
        }
        if condition == ALL_CONDITIONS:
            # The spread band is drawn for all conditions together; per-condition bands would hide the lines.
            dataset["band_low"] = [_band(by_x.get(x), -1) for x in xs]
            dataset["band_high"] = [_band(by_x.get(x), 1) for x in xs]
        datasets.append(dataset)
    chart = {
        "type": "line",
        "labels": [x_labels(x) for x in xs],
        "datasets": datasets,
        "y_title": "Mean pain NRS (band: all conditions ± 1 SD)",
        "x_title": x_label,
        "y_max": 10,
    }
    columns = [
        ("condition", "Condition"),
        ("x", x_label),
        ("n", "Scores"),
        ("mean", "Mean NRS"),
        ("sd", "SD"),
    ]
    table = Table(name, title, columns, rows, chart)
    table.pivot = {
        "x_label": x_label,
        "columns": [x_labels(x) for x in xs],
        "rows": [
            (
                condition,
                [
                    _pivot_cell(next((r for r in rows if r["condition"] == condition and r["_x"] == x), None))
                    for x in xs
                ],
            )
            for condition in ([ALL_CONDITIONS, *conditions] if cells else [])
        ],
    }
    return table


def _band(row, sign):
    if row is None or row["sd"] is None:
        return row and row["mean"]
    return round(row["mean"] + sign * row["sd"], 2)


def _pivot_cell(row):
    if row is None:
        return None
    spread = f" ± {row['sd']:.1f}" if row["sd"] is not None else ""
    return f"{row['mean']:.1f}{spread} (n {row['n']})"


def _add(cells, x, condition, n, total, total_sq):
    cell = cells.setdefault((x, condition), [0, 0, 0])
    cell[0] += n
    cell[1] += total or 0
    cell[2] += total_sq or 0


def memo(courses, name, compute):
    """`compute()`, once per report: the dashboard's tables and its headline share the grouped counts of the
    same course queryset (kept on it under `name`)."""
    found = courses.__dict__.setdefault("_report_memo", {})
    if name not in found:
        found[name] = compute()
    return found[name]


def _baseline_cells(courses):
    """{(0, condition): [n, total, total_sq]}: the courses' baseline pain, the trends' first point."""

    def compute():
        cells = {}
        baselines = _sums("outcome_summary__baseline_pain")
        for row in courses.values("condition__name").annotate(**baselines).order_by():
            _add(cells, 0, row["condition__name"], row["n"], row["total"], row["total_sq"])
        return cells

    return memo(courses, "baseline", compute)


def _pain_cells(courses, dimension):
    """The baseline cells plus the courses' stored pain points of `dimension` (CourseSessionCount)."""

    def compute():
        points = {PAIN_SESSION: {}, PAIN_WEEK: {}}
        rows = (
            of_courses(CourseSessionCount.objects.filter(dimension__in=(PAIN_SESSION, PAIN_WEEK)), courses)
            .values_list("dimension", "key", "course__condition__name")
            .annotate(n=Sum("sessions"), total=Sum("total"), total_sq=Sum("total_sq"))
            .order_by()
        )
        for kind, key, condition, n, total, total_sq in rows:
            _add(points[kind], int(key), condition, n, total, total_sq)
        return points

    cells = {key: list(value) for key, value in _baseline_cells(courses).items()}
    for (x, condition), (n, total, total_sq) in memo(courses, "pain", compute)[dimension].items():
        _add(cells, x, condition, n, total, total_sq)
    return cells


def pain_by_session(courses, *, link):
    """Mean NRS at baseline (0) and before each session number, per condition."""
    return _trend_table(
        "pain-by-session",
        "Pain by session number",
        "Session",
        lambda x: "Baseline" if x == 0 else str(x),
        _pain_cells(courses, PAIN_SESSION),
    )


# Weeks since course start, grouped into the windows a clinic reviews (index, first week, last week, label).
WEEK_WINDOWS = [
    (0, 0, 0, "0"),
    (1, 1, 2, "1–2"),
    (2, 3, 4, "3–4"),
    (3, 5, 6, "5–6"),
    (4, 7, 8, "7–8"),
    (5, 9, 12, "9–12"),
    (6, 13, 16, "13–16"),
    (7, 17, 26, "17–26"),
    (8, 27, 52, "27–52"),
    (9, 53, None, "> 52"),
]
WEEK_LABELS = {index: label for index, _, _, label in WEEK_WINDOWS}


def pain_by_week(courses, *, link):
    """Mean NRS by weeks since course start: baseline, session scores from session 2, and NRS follow-ups."""
    return _trend_table(
        "pain-by-week",
        "Pain by weeks since course start",
        "Weeks",
        WEEK_LABELS.__getitem__,
        _pain_cells(courses, PAIN_WEEK),
    )


# --- Safety ---------------------------------------------------------------------------------------------

SESSION_DIMENSIONS = (
    CourseSessionCount.Dimension.BAND,
    CourseSessionCount.Dimension.REGION,
    CourseSessionCount.Dimension.GAP,
    CourseSessionCount.Dimension.EFFECT_TERM,
    CourseSessionCount.Dimension.EFFECT_BAND,
    CourseSessionCount.Dimension.EFFECT_SITE,
)


def report_counts(courses):
    """{dimension: {key: (count, serious)}} summed over the courses' CourseSessionCount rows: completed
    sessions by band and region, intervals by length, side effects by term and grade, band and site. One
    query for all the safety and adherence tables."""

    def compute():
        counts = {dimension: {} for dimension in SESSION_DIMENSIONS}
        rows = (
            of_courses(CourseSessionCount.objects.filter(dimension__in=SESSION_DIMENSIONS), courses)
            .values_list("dimension", "key")
            .annotate(n=Sum("sessions"), serious=Sum("serious"))
            .order_by()
        )
        for dimension, key, n, serious in rows:
            if n:
                counts[dimension][key] = (n, serious)
        return counts

    return memo(courses, "counts", compute)


def _session_counts(courses, dimension):
    """{band or region: completed sessions}, summed from the per-course counts (CourseSessionCount)."""
    return {key: n for key, (n, _) in report_counts(courses)[dimension].items()}


def _side_effects_of(courses):
    return SideEffect.objects.filter(
        attributed_session__course__in=course_ids(courses),
        attributed_session__status=SessionStatus.COMPLETED,
    )


def side_effects_by_term(courses, *, link):
    # Completed sessions per course are in the outcome summary (sessions_received).
    sessions = memo(
        courses, "sessions", lambda: courses.aggregate(n=Coalesce(Sum("sessions_received"), 0))["n"]
    )
    counts = report_counts(courses)[CourseSessionCount.Dimension.EFFECT_TERM]
    # Terms in the database's own name order (its collation), as the live query ordered them.
    terms = {
        pk: (rank, name)
        for rank, (pk, name) in enumerate(
            SideEffectTerm.objects.values_list("pk", "name").order_by("name", "pk")
        )
    }
    grouped = []
    for key, (events, serious) in counts.items():
        term_id, severity = (int(part) for part in key.split(":"))
        grouped.append((terms[term_id], term_id, severity, events, serious))
    rows = [
        {
            "term": name,
            "severity": severity,
            "events": events,
            "serious": serious,
            "per_100": rate(events, sessions),
            "_links": {"events": link("side-effects", term=term_id, severity=severity)},
        }
        for (_, name), term_id, severity, events, serious in sorted(grouped, key=lambda g: (g[0][0], g[2]))
    ]
    totals = {}
    for row in rows:
        totals[row["term"]] = totals.get(row["term"], 0) + row["events"]
    chart = {
        "type": "bar",
        "labels": list(totals),
        "datasets": [{"label": "Per 100 sessions", "data": [rate(n, sessions) for n in totals.values()]}],
        "y_title": "Side effects per 100 completed sessions",
        "horizontal": True,
    }
    columns = [
        ("term", "Term"),
        ("severity", "Grade"),
        ("events", "Events"),
        ("serious", "Serious"),
        ("per_100", f"Per 100 sessions (of {sessions})"),
    ]
    return Table("side-effects-term", "Side effects by term and grade", columns, rows, chart)


def side_effects_by_band(courses, *, link):
    sessions = _session_counts(courses, CourseSessionCount.Dimension.BAND)
    events = report_counts(courses)[CourseSessionCount.Dimension.EFFECT_BAND]
    rows = []
    for code, label in BANDS:
        if code not in sessions:
            continue
        n, serious = events.get(code, (0, 0))
        rows.append(
            {
                "band": label,
                "sessions": sessions[code],
                "events": n,
                "serious": serious,
                "per_100": rate(n, sessions[code]),
                "_links": {"events": link("side-effects", session_band=code)},
            }
        )
    chart = {
        "type": "bar",
        "labels": [row["band"] for row in rows],
        "datasets": [{"label": "Per 100 sessions", "data": [row["per_100"] for row in rows]}],
        "y_title": "Side effects per 100 sessions",
    }
    columns = [
        ("band", "Dextrose band (session)"),
        ("sessions", "Completed sessions"),
        ("events", "Side effects"),
        ("serious", "Serious"),
        ("per_100", "Per 100 sessions"),
    ]
    return Table("side-effects-band", "Side effects by preparation", columns, rows, chart)


def side_effects_by_region(courses, *, link):
    """Per region: sessions that injected it, and side effects recorded at a site of that region."""
    sessions = _session_counts(courses, CourseSessionCount.Dimension.REGION)
    # Side effects are counted per site; the site's current region is read here, so moving a site to
    # another region needs no refresh.
    regions = dict(InjectionSite.objects.values_list("pk", "region"))
    events = {}
    for key, (n, serious) in report_counts(courses)[CourseSessionCount.Dimension.EFFECT_SITE].items():
        region = None if key == "none" else regions[int(key)]
        found = events.setdefault(region, {"n": 0, "serious": 0})
        found["n"] += n
        found["serious"] += serious
    labels = dict(BodyRegion.choices)
    rows = []
    for region in sorted(set(sessions) | set(events), key=lambda r: (r is None, labels.get(r, ""))):
        found = events.get(region, {"n": 0, "serious": 0})
        rows.append(
            {
                "region": labels.get(region, "Site not recorded"),
                "sessions": sessions.get(region, 0),
                "events": found["n"],
                "serious": found["serious"],
                "per_100": rate(found["n"], sessions.get(region, 0)),
                "_links": {"events": link("side-effects", region=region or "none")},
            }
        )
    chart = {
        "type": "bar",
        "labels": [row["region"] for row in rows],
        "datasets": [{"label": "Per 100 sessions", "data": [row["per_100"] for row in rows]}],
        "y_title": "Side effects per 100 sessions injecting the region",
    }
    columns = [
        ("region", "Site region"),
        ("sessions", "Sessions injecting it"),
        ("events", "Side effects at the region"),
        ("serious", "Serious"),
        ("per_100", "Per 100 sessions"),
    ]
    return Table("side-effects-region", "Side effects by site region", columns, rows, chart)


def serious_events(courses, *, limit=50):
    return (
        _side_effects_of(courses)
        .filter(serious=True)
        .select_related("term", "attributed_session__course__condition", "site")
        .order_by("-onset_date", "-id")[:limit]
    )


def serious_events_table(courses, *, link):
    rows = [
        {
            "onset": event.onset_date,
            "term": event.term.name,
            "grade": event.severity,
            "criterion": event.get_serious_criterion_display(),
            "condition": event.attributed_session.course.condition.name,
            "session": event.attributed_session.sequence,
            "outcome": event.get_outcome_display(),
            "_links": {"onset": reverse("courses:course-detail", args=[event.attributed_session.course_id])},
        }
        for event in serious_events(courses)
    ]
    columns = [
        ("onset", "Onset"),
        ("term", "Term"),
        ("grade", "Grade"),
        ("criterion", "Criterion"),
        ("condition", "Condition"),
        ("session", "Session"),
        ("outcome", "Outcome"),
    ]
    table = Table("serious-events", "Serious events (latest 50)", columns, rows)
    table.empty_text = "No serious events for these filters."
    return table


# --- Adherence ------------------------------------------------------------------------------------------


def interval_adherence(courses):
    """Gaps between consecutive completed sessions of each course, inside the protocol's spacing window.

    The per-course count of intervals by length in days is kept in CourseSessionCount (dimension "gap"), so
    the window is applied to a few dozen grouped rows instead of a Lag window over every session.
    """
    protocol = ProtocolSettings.load()
    intervals = inside = 0
    for key, n in _session_counts(courses, CourseSessionCount.Dimension.GAP).items():
        intervals += n
        if protocol.min_interval_days <= int(key) <= protocol.max_interval_days:
            inside += n
    return {
        "note": f"{inside} of {intervals} intervals",
        "intervals": intervals,
        "inside": inside,
        "outside": intervals - inside,
        "rate": rate(inside, intervals),
        "min_days": protocol.min_interval_days,
        "max_days": protocol.max_interval_days,
    }


def adherence(courses, *, link):
    closed = courses.filter(status__in=CLOSED)
    totals = closed.aggregate(
        courses=Count("pk"),
        planned=Coalesce(Sum("planned_sessions"), 0),
        received=Coalesce(Sum("sessions_received"), 0),
    )
    totals["rate"] = rate(totals["received"], totals["planned"])
    totals["note"] = f"{totals['received']} of {totals['planned']} planned sessions"
    totals["link"] = link("closed")
    by_received = list(
        closed.values("sessions_received")
        .annotate(
            courses=Count("pk"),
            stopped=Count("pk", filter=DROPPED_OUT),
        )
        .order_by("sessions_received")
    )
    rows = []
    reached = totals["courses"]
    for row in by_received:
        number = row["sessions_received"]
        rows.append(
            {
                "sessions": number,
                "reached": reached,
                "ended": row["courses"],
                "stopped": row["stopped"],
                "drop_out": rate(row["stopped"], reached),
                "_links": {
                    "ended": link("closed", sessions_received=number),
                    "stopped": link("dropped-out", sessions_received=number),
                },
            }
        )
        reached -= row["courses"]
    chart = {
        "type": "bar",
        "labels": [str(row["sessions"]) for row in rows],
        "datasets": [
            {"label": "Dropped out", "data": [row["stopped"] for row in rows]},
            {"label": "Ended (all closed)", "data": [row["ended"] for row in rows]},
        ],
        "y_title": "Closed courses",
        "x_title": "Sessions received",
    }
    columns = [
        ("sessions", "Sessions received"),
        ("reached", "Closed courses reaching this many"),
        ("ended", "Ended after this many"),
        ("stopped", "Of which dropped out"),
        ("drop_out", "Drop-out here (% of those reaching)"),
    ]
    table = Table(
        "drop-out", "Drop-out by session number (completed and stopped courses)", columns, rows, chart
    )
    intervals = interval_adherence(courses)
    intervals["outside_link"] = link("interval-outside")
    return {"totals": totals, "intervals": intervals, "table": table}
