"""Responders at fixed timepoints, with their three denominators and 95 % intervals.

Read from the per-course timepoint values (outcomes.CourseTimepoint, outcomes.timepoints); one grouped query
per table. For an instrument at a timepoint, among the courses with at least one treatment:

- intention-to-treat: every course that is *due* there (a value in the window, or the window closed without
  one); a missing value counts as not responding. Courses still *awaiting* are not yet due and are counted
  beside it, never as non-responders.
- available cases: the courses with a value in the window.
- per-protocol: the available cases among courses completed within the clinic protocol (completed, not a
  protocol deviation, and the number of treatments the protocol allows).

≥ MCID is the catalogue's definition (courses.selectors.meets_mcid: the absolute MCID, or the relative MCID
of the baseline where the instrument has one); ≥ 50 % is half the room there was to improve, so a course
whose baseline was already at the best end is not in the ≥ 50 % available or per-protocol denominators (it
stays in the intention-to-treat one, as not responding). Every proportion carries its Wilson 95 % interval
and every mean improvement its 95 % t interval (outcomes.stats).
"""

from dataclasses import dataclass

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from clinic.models import User
from courses.models import Condition, CourseStatus, OutcomeInstrument, ProtocolSettings, ProtocolTimepoint
from outcomes import definitions, stats
from outcomes.models import CourseTimepoint, TimepointTally
from outcomes.selectors import BAND_LABELS, BANDS, Table, memo, of_courses
from outcomes.volumes import VOLUME_BANDS, VOLUME_LABELS

RESPONDER_DEFINITION = " ".join(
    [
        definitions.TIMEPOINT,
        definitions.DENOMINATORS,
        definitions.MCID,
        definitions.HALF,
        definitions.INTERVALS,
    ]
)


def per_protocol_rows(protocol):
    """The timepoint rows of courses completed within the clinic protocol (their copies of the course's
    status, deviation flag and treatments received: no join)."""
    return Q(
        completed=True,
        sessions_received__gte=protocol.min_sessions,
        sessions_received__lte=protocol.max_sessions,
    )


def per_protocol(protocol=None, prefix="course__"):
    """Courses completed within the clinic protocol, as a Q over `prefix` (the course)."""
    protocol = protocol or ProtocolSettings.load()
    return Q(
        **{
            f"{prefix}status": CourseStatus.COMPLETED,
            f"{prefix}is_protocol_deviation": False,
            f"{prefix}outcome_summary__sessions_received__gte": protocol.min_sessions,
            f"{prefix}outcome_summary__sessions_received__lte": protocol.max_sessions,
        }
    )


def scored():
    return Q(value__isnull=False)


def missing(today):
    return Q(value__isnull=True, closes_on__lt=today)


def due(today):
    return scored() | missing(today)


def awaiting(today):
    return Q(value__isnull=True) & (Q(closes_on__isnull=True) | Q(closes_on__gte=today))


def _tally_aggregates(today, protocol):
    pp = per_protocol_rows(protocol)
    return {
        "treated": Count("pk"),
        "scored": Count("pk", filter=scored()),
        "missing": Count("pk", filter=missing(today)),
        "mcid": Count("pk", filter=Q(meets_mcid=True)),
        "half_evaluable": Count("pk", filter=Q(evaluable_half=True)),
        "half": Count("pk", filter=Q(meets_half=True)),
        "pp_scored": Count("pk", filter=pp & scored()),
        "pp_mcid": Count("pk", filter=pp & Q(meets_mcid=True)),
        "pp_half_evaluable": Count("pk", filter=pp & Q(evaluable_half=True)),
        "pp_half": Count("pk", filter=pp & Q(meets_half=True)),
        "improvement_sum": Sum("improvement"),
        "improvement_sq": Sum(F("improvement") * F("improvement")),
    }


@dataclass(frozen=True)
class Tally:
    """One group's counts at one timepoint on one instrument, and the figures read from them."""

    treated: int = 0
    scored: int = 0
    missing: int = 0
    mcid: int = 0
    half_evaluable: int = 0
    half: int = 0
    pp_scored: int = 0
    pp_mcid: int = 0
    pp_half_evaluable: int = 0
    pp_half: int = 0
    improvement_sum: object = None
    improvement_sq: object = None

    @classmethod
    def of(cls, row):
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})

    @property
    def due(self):
        return self.scored + self.missing

    @property
    def awaiting(self):
        return self.treated - self.due

    @property
    def itt_mcid(self):
        return stats.Proportion(self.mcid, self.due)

    @property
    def available_mcid(self):
        return stats.Proportion(self.mcid, self.scored)

    @property
    def pp_mcid_rate(self):
        return stats.Proportion(self.pp_mcid, self.pp_scored)

    @property
    def itt_half(self):
        return stats.Proportion(self.half, self.due)

    @property
    def available_half(self):
        return stats.Proportion(self.half, self.half_evaluable)

    @property
    def pp_half_rate(self):
        return stats.Proportion(self.pp_half, self.pp_half_evaluable)

    @property
    def mean_improvement(self):
        return stats.mean_interval(self.scored, self.improvement_sum or 0, self.improvement_sq or 0)


def tallies(courses, instrument, *, timepoint=None, group=None, today=None):
    """[(group values..., Tally)] of `courses` on `instrument`, grouped by timepoint (or at one timepoint)
    and by the `group` expressions ({name: expression or field path})."""
    today = today or timezone.localdate()
    group = group or {}
    rows = of_courses(CourseTimepoint.objects.filter(instrument=instrument), courses)
    names = list(group)
    if timepoint is not None:
        rows = rows.filter(timepoint=timepoint)
    else:
        names = ["timepoint_id", *names]
    expressions = {name: value for name, value in group.items() if not isinstance(value, str)}
    fields = [name if name in expressions or name == "timepoint_id" else group[name] for name in names]
    aggregates = _tally_aggregates(today, memo(courses, "protocol", ProtocolSettings.load))
    if not fields:
        return [((), Tally.of(rows.aggregate(**aggregates)))]
    grouped = rows.annotate(**expressions).values(*fields).annotate(**aggregates).order_by()
    return [(tuple(row[field] for field in fields), Tally.of(row)) for row in grouped]


def timepoint_choices():
    """The active protocol timepoints in order, and the primary one (or the first)."""
    points = list(ProtocolTimepoint.objects.filter(active=True))
    primary = next((p for p in points if p.primary), points[0] if points else None)
    return points, primary


def reading(filters):
    """The timepoint and the measure the responder figures are read at: the filters' choice, else the
    primary timepoint and the pain NRS."""
    timepoint = filters.get("timepoint") or timepoint_choices()[1]
    instrument = (
        filters.get("instrument")
        or OutcomeInstrument.objects.filter(code=OutcomeInstrument.PAIN_NRS_CODE).first()
    )
    return timepoint, instrument


def tracked_instruments(courses):
    """The instruments with timepoint values among `courses` (the pain NRS first)."""
    ids = of_courses(CourseTimepoint.objects.all(), courses).values("instrument_id").distinct()
    instruments = list(OutcomeInstrument.objects.filter(pk__in=ids))
    return sorted(instruments, key=lambda i: (i.code != OutcomeInstrument.PAIN_NRS_CODE, i.name))


def window_text(timepoint):
    return f"{timepoint.opens_after_days}–{timepoint.closes_after_days}"


TIMEPOINT_COLUMNS = [
    ("timepoint", "Timepoint"),
    ("window", "Window (days after the last treatment)"),
    ("treated", "Courses treated"),
    ("due", "Due (ITT)"),
    ("scored", "Scored"),
    ("missing", "Missing"),
    ("awaiting", "Awaiting"),
    ("itt_mcid", "≥ MCID, ITT"),
    ("available_mcid", "≥ MCID, available"),
    ("pp_mcid", "≥ MCID, per-protocol"),
    ("itt_half", "≥ 50 %, ITT"),
    ("available_half", "≥ 50 %, available"),
    ("pp_half", "≥ 50 %, per-protocol"),
    ("mean", "Mean improvement (95 % CI)"),
]


def _figure_row(tally, link, params):
    """The figures of one Tally, keyed as the timepoint and group tables show them, with drill-downs."""
    row = {
        "treated": tally.treated,
        "due": tally.due,
        "scored": tally.scored,
        "missing": tally.missing,
        "awaiting": tally.awaiting,
        "itt_mcid": tally.itt_mcid,
        "available_mcid": tally.available_mcid,
        "pp_mcid": tally.pp_mcid_rate,
        "itt_half": tally.itt_half,
        "available_half": tally.available_half,
        "pp_half": tally.pp_half_rate,
        "mean": tally.mean_improvement,
    }
    row["_links"] = {
        key: link(figure, **params)
        for key, figure in (
            ("treated", "tp-treated"),
            ("due", "tp-due"),
            ("scored", "tp-scored"),
            ("missing", "tp-missing"),
            ("awaiting", "tp-awaiting"),
            ("itt_mcid", "tp-responders-mcid"),
            ("available_mcid", "tp-responders-mcid"),
            ("pp_mcid", "tp-pp-responders-mcid"),
            ("itt_half", "tp-responders-50"),
            ("available_half", "tp-responders-50"),
            ("pp_half", "tp-pp-responders-50"),
        )
    }
    return row


def timepoint_tallies(courses, instrument):
    """{timepoint id: Tally} of `courses` on `instrument` at every timepoint, shared by the headline and the
    timepoint table: from the stored tallies when `courses` are the whole clinic's or one practitioner's,
    else one grouped query of the timepoint rows."""

    def compute():
        scope = getattr(courses, "tally_scope", None)
        if scope is not None:
            return stored_tallies(instrument, scope, memo(courses, "protocol", ProtocolSettings.load))
        return {key[0]: tally for key, tally in tallies(courses, instrument)}

    return memo(courses, f"timepoint-tallies-{instrument.pk}", compute)


def stored_tallies(instrument, scope, protocol, today=None):
    """{timepoint id: Tally} on `instrument` from TimepointTally (`scope`: {} for the whole clinic, or
    {"practitioner_id": id}), equal to `tallies()` of the same courses: two small queries, the stored sums
    and the windows still open today without a value (awaiting, which the day decides)."""
    today = today or timezone.localdate()
    pp = Q(completed=True, sessions_received__gte=protocol.min_sessions)
    pp &= Q(sessions_received__lte=protocol.max_sessions)
    # Aliases apart from the stored columns' names: an aggregate cannot reuse another's name in a filter.
    stored = ("treated", "scored", "unscheduled", "mcid", "half_evaluable", "half")
    sums = {f"all_{name}": Sum(name) for name in (*stored, "improvement_sum", "improvement_sq")}
    sums.update({f"pp_{name}": Sum(name, filter=pp) for name in ("scored", "mcid", "half_evaluable", "half")})
    grouped = (
        TimepointTally.objects.filter(instrument=instrument, **scope)
        .values("timepoint_id")
        .annotate(**sums)
        .order_by()
    )
    open_now = dict(
        CourseTimepoint.objects.filter(
            instrument=instrument, value__isnull=True, closes_on__gte=today, **scope
        )
        .values("timepoint_id")
        .annotate(n=Count("*"))  # not the id: the partial index alone answers (course_timepoint_open_idx)
        .values_list("timepoint_id", "n")
        .order_by()
    )
    found = {}
    for row in grouped:
        numbers = {name.removeprefix("all_"): value or 0 for name, value in row.items() if name in sums}
        if not numbers["treated"]:
            continue  # every course once counted there has gone (a tally row left at zero)
        awaiting = numbers.pop("unscheduled") + open_now.get(row["timepoint_id"], 0)
        numbers["missing"] = numbers["treated"] - numbers["scored"] - awaiting
        found[row["timepoint_id"]] = Tally(**numbers)
    return found


def by_timepoint(courses, instrument, *, link):
    """Responders at each protocol timepoint on `instrument`, with the three denominators."""
    points, _ = memo(courses, "timepoints", timepoint_choices)
    found = timepoint_tallies(courses, instrument)
    rows = []
    for point in points:
        tally = found.get(point.pk, Tally())
        params = {"timepoint": point.pk, "instrument": instrument.pk}
        rows.append(
            {"timepoint": point.name, "window": window_text(point), **_figure_row(tally, link, params)}
        )
    chart = {
        "type": "bar",
        "labels": [row["timepoint"] for row in rows],
        "datasets": [
            {
                "label": "≥ MCID, available cases (%)",
                "data": [_percent(row["available_mcid"]) for row in rows],
            },
            {"label": "≥ MCID, intention-to-treat (%)", "data": [_percent(row["itt_mcid"]) for row in rows]},
            {
                "label": "≥ 50 %, available cases (%)",
                "data": [_percent(row["available_half"]) for row in rows],
            },
        ],
        "y_title": "Responders (%)",
        "y_max": 100,
    }
    name = "responders-timepoints"
    title = f"Responders at each timepoint: {instrument.name}"
    table = Table(name, title, TIMEPOINT_COLUMNS, rows if any(r["treated"] for r in rows) else [], chart)
    table.definition = RESPONDER_DEFINITION
    return table


def _percent(proportion):
    return None if proportion.percent is None else round(proportion.percent, 1)


GROUP_COLUMNS = [
    ("treated", "Courses treated"),
    ("due", "Due (ITT)"),
    ("scored", "Scored"),
    ("missing", "Missing"),
    ("awaiting", "Awaiting"),
    ("itt_mcid", "≥ MCID, ITT"),
    ("available_mcid", "≥ MCID, available"),
    ("available_half", "≥ 50 %, available"),
    ("mean", "Mean improvement (95 % CI)"),
]

# The course properties the group tables split by: {name: (title, the CourseTimepoint field, drill-down
# parameter)}. One grouped scan at the timepoint serves them all (_grouped); labels are looked up after.
GROUPS = {
    "condition": ("Responders by condition", "condition_id", "condition"),
    "band": (
        "Responders by dextrose band (the band of most of the course's treatments)",
        "modal_band",
        "band",
    ),
    "sessions": ("Responders by number of treatments received", "sessions_received", "sessions_received"),
    "volume": ("Responders by total volume injected over the course", "volume_band", "volume_band"),
    "anaesthetic": ("Responders by anaesthetic in the preparation", "with_anaesthetic", "anaesthetic"),
    "practitioner": ("Responders by practitioner", "practitioner_id", "practitioner"),
}
GROUP_FIELDS = {name: field for name, (_, field, _) in GROUPS.items()}
# The groupings the database makes, each one query per report: condition with band serves the condition,
# band and cross tables; the others stand alone (a grouping by every field at once returned thousands of
# rows at clinic scale, and adding them up cost more than the queries).
GROUPINGS = {
    "condition": ("condition", "band"),
    "band": ("condition", "band"),
    "sessions": ("sessions",),
    "volume": ("volume",),
    "anaesthetic": ("anaesthetic",),
    "practitioner": ("practitioner",),
}


def _grouped(courses, instrument, timepoint, dimension):
    """[(key by GROUPS name, Tally)] of the dimension's grouping (GROUPINGS), memoised per report."""
    names = GROUPINGS[dimension]

    def compute():
        group = {GROUP_FIELDS[name]: GROUP_FIELDS[name] for name in names}
        found = tallies(courses, instrument, timepoint=timepoint, group=group)
        return [(dict(zip(names, key, strict=True)), tally) for key, tally in found]

    return memo(courses, f"grouped-{instrument.pk}-{timepoint.pk}-{'-'.join(names)}", compute)


def _sum(tallies_):
    totals = dict.fromkeys(Tally.__dataclass_fields__, 0)
    for tally in tallies_:
        for name in totals:
            totals[name] += getattr(tally, name) or 0
    return Tally(**totals)


def _labels(dimension, values):
    """{value: label} of one group dimension's values (names read in one small query)."""
    if dimension == "condition":
        names = dict(Condition.objects.filter(pk__in=values).values_list("pk", "name"))
        return {value: names.get(value, "") for value in values}
    if dimension == "practitioner":
        users = User.objects.filter(pk__in=values).only("first_name", "last_name", "username")
        names = {user.pk: user.get_full_name() or user.username for user in users}
        return {value: names.get(value, "") for value in values}
    if dimension == "band":
        return {value: BAND_LABELS.get(value, "No treatment") for value in values}
    if dimension == "sessions":
        return {value: f"{value} treatment{'s' if value != 1 else ''}" for value in values}
    if dimension == "volume":
        return {value: VOLUME_LABELS.get(value, value) for value in values}
    return {value: "With anaesthetic" if value else "Without anaesthetic" for value in values}


def _order(dimension, value, label):
    if dimension == "band":
        codes = [code for code, _ in BANDS]
        return (codes.index(value) if value in codes else 99, "")
    if dimension == "volume":
        return ([code for code, _ in VOLUME_BANDS].index(value), "")
    if dimension == "sessions":
        return (value, "")
    if dimension == "anaesthetic":
        return (not value, "")
    return (0, label.casefold())


def _drill(dimension, value):
    param = GROUPS[dimension][2]
    if dimension == "anaesthetic":
        return {param: "yes" if value else "no"}
    return {param: value}


def by_group(courses, instrument, timepoint, dimension, *, link):
    """Responders at one timepoint on `instrument`, by a course property (GROUPS)."""
    title = GROUPS[dimension][0]
    groups = {}
    for key, tally in _grouped(courses, instrument, timepoint, dimension):
        groups.setdefault(key[dimension], []).append(tally)
    labels = _labels(dimension, list(groups))
    rows = []
    for value in sorted(groups, key=lambda v: _order(dimension, v, labels[v])):
        drill = {"timepoint": timepoint.pk, "instrument": instrument.pk, **_drill(dimension, value)}
        rows.append({"group": labels[value], **_figure_row(_sum(groups[value]), link, drill)})
    columns = [("group", title.split(" by ", 1)[1].split(" (")[0].capitalize()), *GROUP_COLUMNS]
    chart = {
        "type": "bar",
        "labels": [row["group"] for row in rows],
        "datasets": [
            {
                "label": "≥ MCID, available cases (%)",
                "data": [_percent(row["available_mcid"]) for row in rows],
            },
            {"label": "≥ MCID, intention-to-treat (%)", "data": [_percent(row["itt_mcid"]) for row in rows]},
        ],
        "y_title": f"Responders at {timepoint.name} (%)",
        "y_max": 100,
    }
    table = Table(f"responders-{dimension}", f"{title}, at {timepoint.name}", columns, rows, chart)
    table.definition = RESPONDER_DEFINITION
    if dimension in ("band", "sessions", "volume"):
        table.definition += " " + definitions.DOSE
    return table


def condition_by_band(courses, instrument, timepoint, *, link):
    """Condition × dextrose band (of most treatments): ≥ MCID among the available cases in each cell."""
    cells = {}
    for key, tally in _grouped(courses, instrument, timepoint, "condition"):
        cells.setdefault((key["condition"], key["band"]), []).append(tally)
    cells = {key: _sum(found) for key, found in cells.items()}
    bands = [code for code, _ in BANDS if any(band == code for _, band in cells)]
    names = _labels("condition", list({condition for condition, _ in cells}))
    rows = []
    for condition_id in sorted(names, key=lambda pk: (names[pk].casefold(), pk)):
        row = {"condition": names[condition_id], "_links": {}}
        for band in bands:
            tally = cells.get((condition_id, band))
            row[band] = tally.available_mcid if tally else None
            if tally:
                row["_links"][band] = link(
                    "tp-responders-mcid",
                    timepoint=timepoint.pk,
                    instrument=instrument.pk,
                    condition=condition_id,
                    band=band,
                )
        rows.append(row)
    columns = [("condition", "Condition"), *((band, BAND_LABELS[band]) for band in bands)]
    title = f"≥ MCID by condition and dextrose band (available cases), at {timepoint.name}"
    table = Table("responders-condition-band", title, columns, rows)
    table.definition = f"{RESPONDER_DEFINITION} {definitions.DOSE}"
    return table


def headline(courses, timepoint, instrument, *, link):
    """The headline responder figures: at `timepoint` on `instrument`, with both denominators."""
    tally = Tally()
    if timepoint and instrument:
        tally = timepoint_tallies(courses, instrument).get(timepoint.pk, Tally())
    params = {"timepoint": timepoint.pk, "instrument": instrument.pk} if timepoint and instrument else {}
    return {
        "timepoint": timepoint,
        "instrument": instrument,
        "tally": tally,
        "links": {
            key.replace("-", "_"): link(f"tp-{key}", **params)
            for key in ("treated", "due", "scored", "missing", "awaiting", "responders-mcid", "responders-50")
        },
    }
