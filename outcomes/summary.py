"""Keeping `CourseOutcome` and `CourseSessionCount` equal to what the course's rows say.

`course_outcome_refresh(course)` is called inside the transaction of every service that changes a summary
input: completing or editing a completed session (session_record), recording or voiding an outcome score,
changing a course's outcome instrument (course_update). outcomes.signals calls it, in the same transaction,
for every other course save (status, stop reason, baselines, start date feed the response flags and the
weeks-since-start windows), refreshes a course's side-effect counts when a side effect attributed to it is
saved or voided, and recomputes every course's flags when an instrument's MCID or scale changes.
Extensions, walk-ins, bookings, cancellations and no-shows change no completed session and no score.

Both the refresh of one course and the rebuild of all of them read the same row sets (the course, its
completed sessions, current follow-up scores, injected regions, side effects) and summarise them with the
same functions, so a refreshed row always equals a rebuilt one (tests/outcomes/test_summary.py checks it
after each kind of write).
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import pairwise

from django.db import transaction
from django.db.models import Case, Count, ExpressionWrapper, F, Q, Value, When
from django.db.models.fields import BooleanField
from django.utils import timezone

from clinic.bulk import insert_rows
from courses.models import (
    CourseStatus,
    Injection,
    OutcomeInstrument,
    OutcomeScore,
    SessionStatus,
    SideEffect,
    StopReason,
    Timepoint,
    TreatmentCourse,
    TreatmentSession,
)
from courses.selectors import AWAITING, LOST, response
from outcomes.models import CourseOutcome, CourseSessionCount
from outcomes.selectors import WEEK_WINDOWS, band_code, band_of

D = CourseSessionCount.Dimension
REBUILD_BATCH = 2000
COURSE_COLUMNS = (
    "pk",
    "baseline_pain",
    "baseline_instrument_score",
    "outcome_instrument_id",
    "status",
    "stop_reason",
    "start_date",
)
SESSION_COLUMNS = (
    "course_id",
    "sequence",
    "pain_pre",
    "starts_at",
    "id",
    "final_dextrose_percent",
    "final_anaesthetic_percent",
)
SCORE_COLUMNS = ("course_id", "is_nrs", "is_course_instrument", "score", "recorded_on", "id")
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
    """The course fields the summary depends on (what courses.selectors.response() reads of a course)."""

    pk: int
    baseline_pain: object
    baseline_instrument_score: object
    outcome_instrument_id: int | None
    status: str
    stop_reason: str
    start_date: object

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


def _follow_up_scores():
    """Current (not voided) non-baseline scores on the pain NRS or on the course's own instrument."""
    is_nrs = Q(instrument__code=OutcomeInstrument.PAIN_NRS_CODE)
    is_course_instrument = Q(instrument_id=F("course__outcome_instrument_id"))
    return (
        OutcomeScore.objects.exclude(timepoint=Timepoint.BASELINE)
        .filter(is_nrs | is_course_instrument)
        .annotate(
            is_nrs=ExpressionWrapper(is_nrs, output_field=BooleanField()),
            is_course_instrument=ExpressionWrapper(is_course_instrument, output_field=BooleanField()),
        )
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


def _summary(sessions, scores):
    """CourseOutcome field values from one course's completed sessions and follow-up scores (see
    courses.selectors.RESPONDER_DEFINITION)."""
    values = {
        "sessions_received": len(sessions),
        "first_session_on": None,
        "last_session_on": None,
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
    if sessions:
        starts = [row[3] for row in sessions]
        values["first_session_on"] = timezone.localtime(min(starts)).date()
        values["last_session_on"] = timezone.localtime(max(starts)).date()
        dextrose = [row[5] for row in sessions if row[5] is not None]
        values["max_dextrose"] = max(dextrose) if dextrose else None
        values["with_anaesthetic"] = any(row[6] is not None and row[6] > 0 for row in sessions)
    # Session 1's pre-injection score is taken before any treatment: follow-up starts at session 2.
    follow_up = [row for row in sessions if row[1] > 1 and row[2] is not None]
    if follow_up:
        _, _, pain, starts_at, _, _, _ = max(follow_up, key=lambda row: (row[3], row[4]))
        values.update(session_pain=pain, session_pain_on=timezone.localtime(starts_at).date())
    for flag, score_field, day_field in (
        (1, "score_pain", "score_pain_on"),
        (2, "instrument_latest", "instrument_latest_on"),
    ):
        mine = [row for row in scores if row[flag]]
        if mine:
            latest = max(mine, key=lambda row: (row[4], row[5]))
            values.update({score_field: latest[3], day_field: latest[4]})
    session_on, score_on = values["session_pain_on"], values["score_pain_on"]
    # On the same date the follow-up score wins.
    if score_on is not None and (session_on is None or score_on >= session_on):
        values.update(latest_pain=values["score_pain"], latest_pain_on=score_on)
    elif session_on is not None:
        values.update(latest_pain=values["session_pain"], latest_pain_on=session_on)
    return values


def response_flags(course, latest_pain, instrument_latest, instruments, nrs):
    """The course's response flags: courses.selectors.response(), the course page's definition, applied to
    the pain NRS and, when tracked, to the course's own instrument."""
    flags = dict.fromkeys(FLAGS, False)
    if nrs is not None:
        pain = response(nrs, course.baseline_pain, latest_pain, course=course)
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
        and course.baseline_instrument_score is not None
        and instrument.code != OutcomeInstrument.PAIN_NRS_CODE
    ):
        own = response(instrument, course.baseline_instrument_score, instrument_latest, course=course)
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
    """{course id: {body region: completed sessions injecting it}} (current injections only)."""
    found = defaultdict(dict)
    rows = (
        injections.filter(session__status=SessionStatus.COMPLETED)
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


def _pain_points(course, sessions, scores):
    """{(dimension, key): [n, total, total_sq]}: pain before each session number, and by weeks since start
    (sessions from number 2 on and pain NRS follow-up scores)."""
    points = {}
    for row in sessions:
        _add_point(points, (D.PAIN_SESSION, str(row[1])), row[2])
        if row[1] > 1:
            window = week_window((timezone.localtime(row[3]).date() - course.start_date).days)
            if window is not None:
                _add_point(points, (D.PAIN_WEEK, str(window)), row[2])
    for row in scores:
        if row[1]:
            window = week_window((row[4] - course.start_date).days)
            if window is not None:
                _add_point(points, (D.PAIN_WEEK, str(window)), row[3])
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


def _counts(course, sessions, scores, regions, effects):
    bands = Counter(band_code(row[5]) for row in sessions)
    days = sorted(timezone.localtime(row[3]).date() for row in sessions)
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
            for (dimension, key), (n, total, total_sq) in _pain_points(course, sessions, scores).items()
        ),
        *_effect_rows(course.pk, effects),
    ]


def course_outcome_refresh(course):
    """Recompute one course's summary row and counts; call it in the transaction of the write that changed
    them. Nine queries: the course, the instrument catalogue, its completed sessions, follow-up scores,
    injected regions and side effects, the UPDATE (an INSERT the first time), and the counts' DELETE and
    INSERT."""
    facts = CourseFacts(*_courses().get(pk=course.pk))
    instruments, nrs = _instruments()
    sessions = list(_completed_sessions().filter(course_id=course.pk))
    scores = list(_follow_up_scores().filter(course_id=course.pk))
    values = _summary(sessions, scores)
    values.update(response_flags(facts, values["latest_pain"], values["instrument_latest"], instruments, nrs))
    if not CourseOutcome.objects.filter(course_id=course.pk).update(**values):
        CourseOutcome.objects.create(course_id=course.pk, **values)
    regions = _regions(Injection.objects.filter(session__course_id=course.pk)).get(course.pk, {})
    effects = list(_side_effects().filter(attributed_session__course_id=course.pk))
    CourseSessionCount.objects.filter(course_id=course.pk).delete()
    CourseSessionCount.objects.bulk_create(_counts(facts, sessions, scores, regions, effects))
    return values


def course_outcome_create(course, instruments=None):
    """The summary of a course just created (no session or score yet): one INSERT, plus the catalogue."""
    instruments, nrs = instruments or _instruments()
    facts = CourseFacts(*(getattr(course, column) for column in COURSE_COLUMNS))
    values = _summary((), ())
    values.update(response_flags(facts, None, None, instruments, nrs))
    CourseOutcome.objects.create(course_id=course.pk, **values)


def course_status_refresh(course):
    """After a save that changed only the course's status: the follow-up flags that depend on it being open
    or closed (lost, awaiting), in one UPDATE. False when the course has no summary row yet."""
    stopped_lost = course.stop_reason == StopReason.LOST_TO_FOLLOW_UP
    is_open = course.status in (CourseStatus.PLANNED, CourseStatus.ACTIVE)
    # Without a score after baseline: lost when stopped as lost or closed, awaiting when open (and not stopped
    # as lost). With one: lost only when stopped as lost, never awaiting.
    lost_without, awaiting_without = stopped_lost or not is_open, is_open and not stopped_lost
    tracked = Q(instrument_tracked=True)
    no_pain, no_instrument = Q(latest_pain__isnull=True), Q(instrument_latest__isnull=True)
    return bool(
        CourseOutcome.objects.filter(course_id=course.pk).update(
            lost=Case(When(no_pain, then=Value(lost_without)), default=Value(stopped_lost)),
            awaiting=Case(When(no_pain, then=Value(awaiting_without)), default=Value(False)),
            instrument_lost=Case(
                When(tracked & no_instrument, then=Value(lost_without)),
                When(tracked, then=Value(stopped_lost)),
                default=Value(False),
            ),
            instrument_awaiting=Case(
                When(tracked & no_instrument, then=Value(awaiting_without)), default=Value(False)
            ),
        )
    )


def course_side_effects_refresh(course_id):
    """Recompute the side-effect counts of one course (after a side effect attributed to it is saved or
    voided): the grouped read, then DELETE and INSERT of those rows."""
    effects = list(_side_effects().filter(attributed_session__course_id=course_id))
    CourseSessionCount.objects.filter(
        course_id=course_id, dimension__in=(D.EFFECT_TERM, D.EFFECT_BAND, D.EFFECT_SITE)
    ).delete()
    CourseSessionCount.objects.bulk_create(_effect_rows(course_id, effects))


@transaction.atomic
def course_flags_rebuild():
    """Recompute every course's response flags (after an instrument's MCID, scale or direction changed).

    One read of the courses with their summary's latest scores, then one UPDATE per distinct set of flags
    (a few dozen), not one per course.
    """
    instruments, nrs = _instruments()
    groups = defaultdict(list)
    rows = CourseOutcome.objects.values_list("course_id", "latest_pain", "instrument_latest").order_by()
    latest = {course_id: (pain, instrument) for course_id, pain, instrument in rows.iterator(chunk_size=5000)}
    for row in _courses().iterator(chunk_size=5000):
        facts = CourseFacts(*row)
        if facts.pk not in latest:
            continue
        flags = response_flags(facts, *latest[facts.pk], instruments, nrs)
        groups[tuple(flags[name] for name in FLAGS)].append(facts.pk)
    for key, course_ids in groups.items():
        for start in range(0, len(course_ids), REBUILD_BATCH):
            CourseOutcome.objects.filter(course_id__in=course_ids[start : start + REBUILD_BATCH]).update(
                **dict(zip(FLAGS, key, strict=True))
            )


@transaction.atomic
def course_outcomes_rebuild():
    """Recompute every course's summary (data migration, demo and scale seeders, repairs).

    Set-based: one read each of the clinic's courses, completed sessions, follow-up scores, injected regions
    and side effects, grouped in memory, then one DELETE per table and batched INSERTs.
    """
    from outcomes.versions import report_data_changed

    instruments, nrs = _instruments()
    sessions, scores, effects = defaultdict(list), defaultdict(list), defaultdict(list)
    for row in _completed_sessions().order_by().iterator(chunk_size=REBUILD_BATCH * 5):
        sessions[row[0]].append(row)
    for row in _follow_up_scores().order_by().iterator(chunk_size=REBUILD_BATCH * 5):
        scores[row[0]].append(row)
    for row in _side_effects().iterator(chunk_size=REBUILD_BATCH * 5):
        effects[row[0]].append(row)
    regions = _regions(Injection.objects.all())
    courses = [CourseFacts(*row) for row in _courses().iterator(chunk_size=REBUILD_BATCH * 5)]
    CourseOutcome.objects.all().delete()
    CourseSessionCount.objects.all().delete()
    for start in range(0, len(courses), REBUILD_BATCH):
        chunk = courses[start : start + REBUILD_BATCH]
        outcomes = []
        for course in chunk:
            values = _summary(sessions.get(course.pk, ()), scores.get(course.pk, ()))
            values.update(
                response_flags(course, values["latest_pain"], values["instrument_latest"], instruments, nrs)
            )
            outcomes.append(CourseOutcome(course_id=course.pk, **values))
        insert_rows(CourseOutcome, outcomes)
        insert_rows(
            CourseSessionCount,
            [
                count
                for course in chunk
                for count in _counts(
                    course,
                    sessions.get(course.pk, ()),
                    scores.get(course.pk, ()),
                    regions.get(course.pk, {}),
                    effects.get(course.pk, ()),
                )
            ],
            batch_size=REBUILD_BATCH,
        )
    # Writes past the signals (bulk loads) are why a rebuild runs: cached reports must not outlive them.
    report_data_changed()
    return len(courses)
