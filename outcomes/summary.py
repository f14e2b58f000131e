"""Keeping `CourseOutcome`, `CourseSessionCount` and `CourseTimepoint` equal to what the course's rows say,
and `TimepointTally` to the sum of the timepoint rows.

`course_outcome_refresh(course)` recomputes one course; outcomes.refresh calls it, in the transaction of the
write, for every course a service announces as changed (clinic.changes): treatments given or edited, side
effects, scores, the plan and the status. An instrument's scale or MCID edit, or an edit of the protocol's
outcome timepoints, rebuilds every course (`course_outcomes_rebuild`). Bookings, moves, cancellations and
no-shows change no summary input.

The timeline rules (courses.timeline) decide what counts: only treatments (completed visits with something
injected) are received, numbered and scored; the baseline is the last score on or before the first
treatment (its pre-injection score once it is given); outcome points are the treatments after the first
and the scores taken after its day.

Both the refresh of one course and the rebuild of all of them read the same row sets (the course, its
completed sessions, current scores, injected regions, side effects) and summarise them with the same
functions, so a refreshed row always equals a rebuilt one (tests/outcomes/test_summary.py checks it after
each kind of write).
"""

from collections import Counter, defaultdict, namedtuple
from dataclasses import dataclass
from itertools import pairwise

from django.db import connection, transaction
from django.db.models import Count, ExpressionWrapper, F, Q
from django.db.models.fields import BooleanField

from clinic.bulk import insert_rows
from courses import timeline
from courses.models import (
    CourseStatus,
    Injection,
    OutcomeInstrument,
    OutcomeScore,
    ProtocolTimepoint,
    SessionStatus,
    SideEffect,
    TreatmentCourse,
    TreatmentSession,
)
from courses.selectors import AWAITING, LOST, response
from outcomes import timepoints
from outcomes.models import CourseOutcome, CourseSessionCount, CourseTimepoint, TimepointTally
from outcomes.selectors import BANDS, WEEK_WINDOWS, band_code, band_of
from outcomes.volumes import volume_code

D = CourseSessionCount.Dimension
BAND_ORDER = [code for code, _ in BANDS]
# _summary's values that are not CourseOutcome fields: the outcome points the timepoint rows are read from.
POINT_KEYS = ("pain_points", "instrument_points")
REBUILD_BATCH = 2000
COURSE_COLUMNS = (
    "pk",
    "baseline_pain",
    "baseline_instrument_score",
    "outcome_instrument_id",
    "status",
    "stop_reason",
    "start_date",
    "condition_id",
    "practitioner_id",
    "is_protocol_deviation",
)
# A completed visit, as the timeline rules read it.
SessionRow = namedtuple(
    "SessionRow",
    "course_id sequence pain_pre starts_at pk final_dextrose_percent final_anaesthetic_percent "
    "assessment_only status total_volume_ml",
)
SESSION_COLUMNS = (
    "course_id",
    "sequence",
    "pain_pre",
    "starts_at",
    "id",
    "final_dextrose_percent",
    "final_anaesthetic_percent",
    "assessment_only",
    "status",
    "total_volume_ml",
)
# A current score on the pain NRS or on the course's own instrument.
ScoreRow = namedtuple("ScoreRow", "course_id instrument_id score recorded_on pk timepoint is_nrs")
SCORE_COLUMNS = ("course_id", "instrument_id", "score", "recorded_on", "id", "timepoint", "is_nrs")
EFFECT_COLUMNS = ("attributed_session__course_id", "term_id", "severity", "site_id", "band_of_session")
FLAGS = (
    "evaluable",
    "responder_mcid",
    "evaluable_50",
    "responder_50",
    "baseline_zero",
    "lost",
    "awaiting",
    "instrument_tracked",
    "instrument_evaluable",
    "instrument_responder",
    "instrument_evaluable_50",
    "instrument_responder_50",
    "instrument_lost",
    "instrument_awaiting",
)


@dataclass(frozen=True)
class CourseFacts:
    """The course fields the summary depends on (what the timeline and response() read of a course)."""

    pk: int
    baseline_pain: object
    baseline_instrument_score: object
    outcome_instrument_id: int | None
    status: str
    stop_reason: str
    start_date: object
    condition_id: int
    practitioner_id: int | None
    is_protocol_deviation: bool

    @property
    def is_open(self):
        return self.status in (CourseStatus.PLANNED, CourseStatus.ACTIVE)


def _courses():
    return TreatmentCourse.objects.order_by().values_list(*COURSE_COLUMNS)


def _instruments():
    """{pk: instrument} of the whole (small) catalogue, and the pain NRS."""
    instruments = {instrument.pk: instrument for instrument in OutcomeInstrument.objects.all()}
    nrs = next((i for i in instruments.values() if i.code == OutcomeInstrument.PAIN_NRS_CODE), None)
    return instruments, nrs


def _completed_sessions():
    return TreatmentSession.objects.filter(status=SessionStatus.COMPLETED).values_list(*SESSION_COLUMNS)


def _scores():
    """Current (not voided) scores on the pain NRS or on the course's own instrument, any timepoint (the
    baseline is the last one on or before the first treatment)."""
    is_nrs = Q(instrument__code=OutcomeInstrument.PAIN_NRS_CODE)
    is_course_instrument = Q(instrument_id=F("course__outcome_instrument_id"))
    return (
        OutcomeScore.objects.filter(is_nrs | is_course_instrument)
        .annotate(is_nrs=ExpressionWrapper(is_nrs, output_field=BooleanField()))
        .values_list(*SCORE_COLUMNS)
    )


def _side_effects():
    """Current side effects attributed to a completed session, grouped per course, term, grade, site and
    band of the attributed session, with their serious count (Count filter) as the last two columns."""
    return (
        SideEffect.objects.filter(attributed_session__status=SessionStatus.COMPLETED)
        .annotate(band_of_session=band_of("attributed_session__final_dextrose_percent"))
        .values_list(*EFFECT_COLUMNS)
        .annotate(events=Count("pk"), serious_events=Count("pk", filter=Q(serious=True)))
        .order_by()
    )


def _summary(course, sessions, scores, nrs_id):
    """CourseOutcome field values from one course's completed visits and current scores (see
    courses.selectors.RESPONDER_DEFINITION and courses.timeline)."""
    given = timeline.treatments(sessions)
    first = given[0] if given else None
    first_day = timeline.local_day(first.starts_at) if first else None
    pain_baseline = timeline.pain_baseline(course, sessions, [s for s in scores if s.is_nrs], nrs_id)
    own_scores = [s for s in scores if s.instrument_id == course.outcome_instrument_id]
    instrument_baseline = timeline.instrument_baseline(course, sessions, own_scores)
    values = {
        "sessions_received": len(given),
        "first_session_on": first_day,
        "last_session_on": timeline.local_day(given[-1].starts_at) if given else None,
        "baseline_pain": pain_baseline.value,
        "baseline_pain_on": pain_baseline.on,
        "baseline_instrument": instrument_baseline.value,
        "max_dextrose": None,
        "with_anaesthetic": False,
        "session_pain": None,
        "session_pain_on": None,
        "score_pain": None,
        "score_pain_on": None,
        "latest_pain": None,
        "latest_pain_on": None,
        "instrument_latest": None,
        "instrument_latest_on": None,
    }
    dextrose = [row.final_dextrose_percent for row in given if row.final_dextrose_percent is not None]
    values["max_dextrose"] = max(dextrose) if dextrose else None
    values["modal_band"] = modal_band(given)
    volumes = [row.total_volume_ml for row in given if row.total_volume_ml is not None]
    values["total_volume_ml"] = sum(volumes) if volumes else None
    values["with_anaesthetic"] = any(
        row.final_anaesthetic_percent is not None and row.final_anaesthetic_percent > 0 for row in given
    )
    # The first treatment's pre-injection score is the baseline: outcomes are the treatments after it.
    scored = [row for row in timeline.outcome_sessions(sessions) if row.pain_pre is not None]
    if scored:
        last = scored[-1]
        values.update(session_pain=last.pain_pre, session_pain_on=timeline.local_day(last.starts_at))
    for mine, score_field, day_field in (
        ([s for s in scores if s.is_nrs], "score_pain", "score_pain_on"),
        (own_scores, "instrument_latest", "instrument_latest_on"),
    ):
        outcomes = [s for s in mine if timeline.is_outcome_score(s, first_day)]
        if outcomes:
            latest = max(outcomes, key=lambda row: (row.recorded_on, row.pk))
            values.update({score_field: latest.score, day_field: latest.recorded_on})
    session_on, score_on = values["session_pain_on"], values["score_pain_on"]
    # On the same date the follow-up score wins.
    if score_on is not None and (session_on is None or score_on >= session_on):
        values.update(latest_pain=values["score_pain"], latest_pain_on=score_on)
    elif session_on is not None:
        values.update(latest_pain=values["session_pain"], latest_pain_on=session_on)
    values["pain_points"] = timepoints.pain_points(sessions, [s for s in scores if s.is_nrs], first_day)
    values["instrument_points"] = timepoints.score_points(own_scores, first_day)
    return values


def modal_band(given):
    """The dextrose band of most of the treatments `given`; a tie goes to the stronger band ('' for none)."""
    counts = Counter(band_code(row.final_dextrose_percent) for row in given)
    if not counts:
        return ""
    return max(counts, key=lambda band: (counts[band], BAND_ORDER.index(band)))


def first_response_on(nrs, baseline, points):
    """The day of the first pain outcome point that meets the MCID against `baseline` (None: none yet)."""
    if nrs is None or baseline is None:
        return None
    for point in sorted(points, key=lambda p: (p.on, p.kind, p.pk)):
        if response(nrs, baseline, point.value).mcid:
            return point.on
    return None


def _timepoint_rows(course, values, protocol_timepoints, instruments, nrs):
    """The course's CourseTimepoint rows: every protocol timepoint on the pain NRS and, when tracked, on the
    course's own instrument; none before its first treatment (no baseline is fixed, nothing to read)."""
    if not values["sessions_received"]:
        return []
    measured = []
    if nrs is not None:
        measured.append((nrs, values["baseline_pain"], values["pain_points"]))
    instrument = instruments.get(course.outcome_instrument_id)
    if values.get("instrument_tracked") and instrument is not None:
        measured.append((instrument, values["baseline_instrument"], values["instrument_points"]))
    # What the reports group and filter by, copied from the course and its summary so that a report reads
    # this one table (the refresh rewrites the rows whenever the course or its summary changes).
    course_fields = {
        "condition_id": course.condition_id,
        "practitioner_id": course.practitioner_id,
        "modal_band": values["modal_band"],
        "sessions_received": values["sessions_received"],
        "volume_band": volume_code(values["total_volume_ml"]),
        "with_anaesthetic": values["with_anaesthetic"],
        "completed": course.status == CourseStatus.COMPLETED and not course.is_protocol_deviation,
    }
    rows = []
    for instrument, baseline, points in measured:
        for timepoint in protocol_timepoints:
            found = timepoints.value_at(
                timepoint, instrument, baseline, course.status, values["last_session_on"], points
            )
            window = found.window
            rows.append(
                CourseTimepoint(
                    course_id=course.pk,
                    timepoint_id=timepoint.pk,
                    instrument_id=instrument.pk,
                    opens_on=window.opens_on if window else None,
                    target_on=window.target_on if window else None,
                    closes_on=window.closes_on if window else None,
                    value=found.point.value if found.point else None,
                    value_on=found.point.on if found.point else None,
                    improvement=found.improvement,
                    meets_mcid=found.meets_mcid,
                    evaluable_half=found.evaluable_half,
                    meets_half=found.meets_half,
                    **course_fields,
                )
            )
    return rows


def response_flags(course, values, instruments, nrs):
    """The course's response flags: courses.selectors.response(), the course page's definition, applied to
    the pain NRS and, when tracked, to the course's own instrument, from the summary's baselines and latest
    scores (`values`)."""
    flags = dict.fromkeys(FLAGS, False)
    if nrs is not None:
        pain = response(nrs, values["baseline_pain"], values["latest_pain"], course=course)
        flags.update(
            evaluable=pain.is_evaluable,
            responder_mcid=pain.meets_mcid,
            evaluable_50=pain.is_evaluable_for_half,
            responder_50=pain.meets_half,
            baseline_zero=pain.is_evaluable and pain.percent is None,
            lost=pain.status == LOST,
            awaiting=pain.status == AWAITING,
        )
    instrument = instruments.get(course.outcome_instrument_id)
    if (
        instrument is not None
        and values["baseline_instrument"] is not None
        and instrument.code != OutcomeInstrument.PAIN_NRS_CODE
    ):
        own = response(instrument, values["baseline_instrument"], values["instrument_latest"], course=course)
        flags.update(
            instrument_tracked=True,
            instrument_evaluable=own.is_evaluable,
            instrument_responder=own.meets_mcid,
            instrument_evaluable_50=own.is_evaluable_for_half,
            instrument_responder_50=own.meets_half,
            instrument_lost=own.status == LOST,
            instrument_awaiting=own.status == AWAITING,
        )
    return flags


def _regions(injections):
    """{course id: {body region: treatments injecting it}} (current injections only)."""
    found = defaultdict(dict)
    rows = (
        injections.filter(session__status=SessionStatus.COMPLETED, session__assessment_only=False)
        .values_list("session__course_id", "site__region")
        .annotate(n=Count("session", distinct=True))
        .order_by()
    )
    for course_id, region, n in rows:
        found[course_id][region] = n
    return found


def week_window(days):
    """The index of the weeks-since-start window of a day offset, or None before the start.

    Whole weeks truncate toward zero as the databases' integer division does (days −6…−1 are week 0).
    """
    week = days // 7 if days >= 0 else -(-days // 7)
    if week < 0:
        return None
    return next((index for index, _, last, _ in WEEK_WINDOWS if last is not None and week <= last), 9)


def _add_point(points, key, value):
    point = points.setdefault(key, [0, None, None])
    point[0] += 1
    if value is not None:
        point[1] = (point[1] or 0) + value
        point[2] = (point[2] or 0) + value * value


def _pain_points(course, sessions, scores, values):
    """{(dimension, key): [n, total, total_sq]}: pain before each treatment number, and by weeks since the
    course's start (treatments after the first and pain NRS outcome scores)."""
    points = {}
    numbers = timeline.treatment_numbers(sessions)
    for row in timeline.treatments(sessions):
        _add_point(points, (D.PAIN_SESSION, str(numbers[row.pk])), row.pain_pre)
    for row in timeline.outcome_sessions(sessions):
        window = week_window((timeline.local_day(row.starts_at) - course.start_date).days)
        if window is not None:
            _add_point(points, (D.PAIN_WEEK, str(window)), row.pain_pre)
    first_day = values["first_session_on"]
    for row in scores:
        if row.is_nrs and timeline.is_outcome_score(row, first_day):
            window = week_window((row.recorded_on - course.start_date).days)
            if window is not None:
                _add_point(points, (D.PAIN_WEEK, str(window)), row.score)
    return points


def _effect_counts(effects):
    """{(dimension, key): [events, serious]} from one course's grouped side-effect rows."""
    counts = {}
    for _, term_id, severity, site_id, band, events, serious in effects:
        for key in (
            (D.EFFECT_TERM, f"{term_id}:{severity}"),
            (D.EFFECT_BAND, band),
            (D.EFFECT_SITE, str(site_id) if site_id is not None else "none"),
        ):
            count = counts.setdefault(key, [0, 0])
            count[0] += events
            count[1] += serious
    return counts


def _effect_rows(course_id, effects):
    return [
        CourseSessionCount(course_id=course_id, dimension=dimension, key=key, sessions=n, serious=serious)
        for (dimension, key), (n, serious) in _effect_counts(effects).items()
    ]


def _counts(course, sessions, scores, regions, effects, values):
    given = timeline.treatments(sessions)
    bands = Counter(band_code(row.final_dextrose_percent) for row in given)
    days = [timeline.local_day(row.starts_at) for row in given]
    gaps = Counter(str((later - earlier).days) for earlier, later in pairwise(days))
    simple = [(D.BAND, bands), (D.REGION, regions), (D.GAP, gaps)]
    return [
        *(
            CourseSessionCount(course_id=course.pk, dimension=dimension, key=key, sessions=n)
            for dimension, counts in simple
            for key, n in counts.items()
        ),
        *(
            CourseSessionCount(
                course_id=course.pk, dimension=dimension, key=key, sessions=n, total=total, total_sq=total_sq
            )
            for (dimension, key), (n, total, total_sq) in _pain_points(
                course, sessions, scores, values
            ).items()
        ),
        *_effect_rows(course.pk, effects),
    ]


def _course_values(course, sessions, scores, effects, instruments, nrs):
    """The course's CourseOutcome field values, and (under "points") its outcome points for the timepoint
    rows."""
    values = _summary(course, sessions, scores, nrs.pk if nrs else None)
    values["side_effects"] = sum(row[-2] for row in effects)
    values["serious_side_effects"] = sum(row[-1] for row in effects)
    values.update(response_flags(course, values, instruments, nrs))
    values["first_response_on"] = first_response_on(nrs, values["baseline_pain"], values["pain_points"])
    return values


def _stored(values):
    """The values that are CourseOutcome fields."""
    return {key: value for key, value in values.items() if key not in POINT_KEYS}


def _protocol_timepoints():
    return list(ProtocolTimepoint.objects.filter(active=True))


def course_outcome_refresh(course):
    """Recompute one course's summary row and counts (`course`: a course or its id), in the transaction of
    the write that changed them. Fourteen queries: the course, the instrument catalogue, its completed visits,
    scores, injected regions and side effects, the UPDATE (an INSERT the first time), the counts' DELETE
    and INSERT, the protocol timepoints, and the timepoint values' DELETE and INSERT with the tallies'
    subtraction of the old values and addition of the new (TimepointTally)."""
    course_id = getattr(course, "pk", course)
    facts = CourseFacts(*_courses().get(pk=course_id))
    instruments, nrs = _instruments()
    sessions = [SessionRow(*row) for row in _completed_sessions().filter(course_id=course_id)]
    scores = [ScoreRow(*row) for row in _scores().filter(course_id=course_id)]
    effects = list(_side_effects().filter(attributed_session__course_id=course_id))
    values = _course_values(facts, sessions, scores, effects, instruments, nrs)
    if not CourseOutcome.objects.filter(course_id=course_id).update(**_stored(values)):
        CourseOutcome.objects.create(course_id=course_id, **_stored(values))
    regions = _regions(Injection.objects.filter(session__course_id=course_id)).get(course_id, {})
    CourseSessionCount.objects.filter(course_id=course_id).delete()
    CourseSessionCount.objects.bulk_create(_counts(facts, sessions, scores, regions, effects, values))
    _tally_timepoints(course_id, subtract=True)
    CourseTimepoint.objects.filter(course_id=course_id).delete()
    CourseTimepoint.objects.bulk_create(
        _timepoint_rows(facts, values, _protocol_timepoints(), instruments, nrs)
    )
    _tally_timepoints(course_id)
    return values


TALLY_KEY = ("instrument_id", "timepoint_id", "practitioner_id", "completed", "sessions_received")
# TimepointTally's sums, as SQL over the CourseTimepoint rows they add up.
TALLY_SUMS = {
    "treated": "COUNT(*)",
    "scored": "COUNT(value)",
    "unscheduled": "SUM(CASE WHEN value IS NULL AND closes_on IS NULL THEN 1 ELSE 0 END)",
    "mcid": "SUM(CASE WHEN meets_mcid THEN 1 ELSE 0 END)",
    "half_evaluable": "SUM(CASE WHEN evaluable_half THEN 1 ELSE 0 END)",
    "half": "SUM(CASE WHEN meets_half THEN 1 ELSE 0 END)",
    "improvement_sum": "COALESCE(SUM(improvement), 0)",
    "improvement_sq": "COALESCE(SUM(improvement * improvement), 0)",
}


def _tally_timepoints(course_id=None, *, subtract=False):
    """Add one course's timepoint rows to TimepointTally (or take them away, before they are replaced); with
    no course, fill the emptied table from every row (the rebuild).

    One INSERT … SELECT … GROUP BY whose conflicts add to the existing tallies (ON CONFLICT DO UPDATE, in
    PostgreSQL and SQLite alike): each transaction adds exactly the rows it wrote and takes away exactly the
    rows it deleted, so concurrent writes to different courses add up (each locks its tallies in key order).
    """
    quote = connection.ops.quote_name
    table, source = quote(TimepointTally._meta.db_table), quote(CourseTimepoint._meta.db_table)
    key = ", ".join(TALLY_KEY)
    sign = "-" if subtract else ""
    sums = ", ".join(f"{sign}{expression}" for expression in TALLY_SUMS.values())
    where, params = ("course_id = %s", [course_id]) if course_id is not None else ("1 = 1", [])
    # Table, column names and sums are this module's constants; the course id is a parameter.
    select = f"SELECT {key}, {sums} FROM {source} WHERE {where} GROUP BY {key} ORDER BY {key}"  # noqa: S608
    sql = f"INSERT INTO {table} ({key}, {', '.join(TALLY_SUMS)}) {select}"
    if course_id is not None:
        added = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in TALLY_SUMS)
        sql += f" ON CONFLICT ({key}) DO UPDATE SET {added}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@transaction.atomic
def course_outcomes_rebuild():
    """Recompute every course's summary (data migration, demo and scale seeders, repairs).

    Set-based: one read each of the clinic's courses, completed visits, scores, injected regions and side
    effects, grouped in memory, then one DELETE per table and batched INSERTs.
    """
    from outcomes.versions import report_data_changed

    instruments, nrs = _instruments()
    sessions, scores, effects = defaultdict(list), defaultdict(list), defaultdict(list)
    for row in _completed_sessions().order_by().iterator(chunk_size=REBUILD_BATCH * 5):
        sessions[row[0]].append(SessionRow(*row))
    for row in _scores().order_by().iterator(chunk_size=REBUILD_BATCH * 5):
        scores[row[0]].append(ScoreRow(*row))
    for row in _side_effects().iterator(chunk_size=REBUILD_BATCH * 5):
        effects[row[0]].append(row)
    regions = _regions(Injection.objects.all())
    courses = [CourseFacts(*row) for row in _courses().iterator(chunk_size=REBUILD_BATCH * 5)]
    protocol_timepoints = _protocol_timepoints()
    TimepointTally.objects.all().delete()
    CourseTimepoint.objects.all().delete()
    CourseOutcome.objects.all().delete()
    CourseSessionCount.objects.all().delete()
    for start in range(0, len(courses), REBUILD_BATCH):
        chunk = courses[start : start + REBUILD_BATCH]
        outcomes, counts, timepoint_rows = [], [], []
        for course in chunk:
            mine, my_scores = sessions.get(course.pk, ()), scores.get(course.pk, ())
            my_effects = effects.get(course.pk, ())
            values = _course_values(course, mine, my_scores, my_effects, instruments, nrs)
            outcomes.append(CourseOutcome(course_id=course.pk, **_stored(values)))
            counts += _counts(course, mine, my_scores, regions.get(course.pk, {}), my_effects, values)
            timepoint_rows += _timepoint_rows(course, values, protocol_timepoints, instruments, nrs)
        insert_rows(CourseOutcome, outcomes)
        insert_rows(CourseSessionCount, counts, batch_size=REBUILD_BATCH)
        insert_rows(CourseTimepoint, timepoint_rows, batch_size=REBUILD_BATCH)
    _tally_timepoints()
    # Writes past the services (bulk loads) are why a rebuild runs: cached reports must not outlive them.
    report_data_changed()
    return len(courses)
