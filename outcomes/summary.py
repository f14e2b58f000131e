"""Keeping `CourseOutcome` equal to what the course's sessions and scores say.

`course_outcome_refresh(course)` is called inside the transaction of every service that changes a summary
input: completing or editing a completed session (session_record), recording or voiding an outcome score,
changing a course's outcome instrument (course_update). Course status changes, extensions, walk-ins, bookings,
cancellations and no-shows change no completed session and no score, so they leave the summary as it is (the
course's own status is read from the course row by the dashboard).

Both the refresh of one course and the rebuild of all of them read the same two row sets (completed sessions,
current follow-up scores) and summarise them with `_summary()`, so a refreshed row always equals a rebuilt one
(tests/outcomes/test_summary.py checks it after each service).
"""

from collections import Counter, defaultdict
from itertools import pairwise

from django.db import transaction
from django.db.models import Count, ExpressionWrapper, F, Q
from django.db.models.fields import BooleanField
from django.utils import timezone

from courses.models import (
    Injection,
    OutcomeInstrument,
    OutcomeScore,
    SessionStatus,
    Timepoint,
    TreatmentCourse,
    TreatmentSession,
)
from outcomes.models import CourseOutcome, CourseSessionCount
from outcomes.selectors import band_code

BAND, REGION, GAP = (
    CourseSessionCount.Dimension.BAND,
    CourseSessionCount.Dimension.REGION,
    CourseSessionCount.Dimension.GAP,
)

REBUILD_BATCH = 2000
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


def _counts(course_id, sessions, regions):
    bands = Counter(band_code(row[5]) for row in sessions)
    days = sorted(timezone.localtime(row[3]).date() for row in sessions)
    gaps = Counter(str((later - earlier).days) for earlier, later in pairwise(days))
    return [
        *(
            CourseSessionCount(course_id=course_id, dimension=BAND, key=key, sessions=n)
            for key, n in bands.items()
        ),
        *(
            CourseSessionCount(course_id=course_id, dimension=REGION, key=key, sessions=n)
            for key, n in regions.items()
        ),
        *(
            CourseSessionCount(course_id=course_id, dimension=GAP, key=key, sessions=n)
            for key, n in gaps.items()
        ),
    ]


def course_outcome_refresh(course):
    """Recompute one course's summary row; call it in the transaction of the write that changed it.

    Three queries: its completed sessions, its follow-up scores, and the UPDATE (an INSERT the first time).
    """
    sessions = list(_completed_sessions().filter(course_id=course.pk))
    values = _summary(sessions, list(_follow_up_scores().filter(course_id=course.pk)))
    if not CourseOutcome.objects.filter(course_id=course.pk).update(**values):
        CourseOutcome.objects.create(course_id=course.pk, **values)
    regions = _regions(Injection.objects.filter(session__course_id=course.pk)).get(course.pk, {})
    CourseSessionCount.objects.filter(course_id=course.pk).delete()
    CourseSessionCount.objects.bulk_create(_counts(course.pk, sessions, regions))
    return values


@transaction.atomic
def course_outcomes_rebuild():
    """Recompute every course's summary (data migration, demo and scale seeders, repairs).

    Set-based: two reads of the whole clinic's completed sessions and follow-up scores, grouped in memory,
    then one DELETE and batched INSERTs.
    """
    sessions, scores = defaultdict(list), defaultdict(list)
    for row in _completed_sessions().order_by().iterator(chunk_size=REBUILD_BATCH * 5):
        sessions[row[0]].append(row)
    for row in _follow_up_scores().order_by().iterator(chunk_size=REBUILD_BATCH * 5):
        scores[row[0]].append(row)
    regions = _regions(Injection.objects.all())
    course_ids = list(TreatmentCourse.objects.values_list("pk", flat=True))
    CourseOutcome.objects.all().delete()
    CourseSessionCount.objects.all().delete()
    for start in range(0, len(course_ids), REBUILD_BATCH):
        chunk = course_ids[start : start + REBUILD_BATCH]
        CourseOutcome.objects.bulk_create(
            [
                CourseOutcome(course_id=pk, **_summary(sessions.get(pk, ()), scores.get(pk, ())))
                for pk in chunk
            ]
        )
        CourseSessionCount.objects.bulk_create(
            [count for pk in chunk for count in _counts(pk, sessions.get(pk, ()), regions.get(pk, {}))],
            batch_size=REBUILD_BATCH,
        )
    return len(course_ids)
