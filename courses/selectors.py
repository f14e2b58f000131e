"""Reads for the course pages: progress, timeline, pain trend, responder status, lot recall."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from courses import timeline
from courses.models import (
    Injection,
    OutcomeInstrument,
    OutcomeScore,
    PatientSideEffectReport,
    PreparationComponent,
    ProtocolSettings,
    SessionStatus,
    SideEffect,
    StopReason,
    Timepoint,
    TreatmentCourse,
)

HUNDRED = Decimal("100")


# --- Courses --------------------------------------------------------------------------------------


def course_for_page(pk):
    """The course with what its header shows, in one query."""
    return TreatmentCourse.objects.select_related(
        "patient", "condition", "practitioner", "outcome_instrument", "consent"
    ).get(pk=pk)


def course_sessions(course, *, clinical):
    """The course's sessions in time order.

    With `clinical`, each session also carries what the course page's timeline shows of its current
    (not voided) entries, as plain values in three more queries: `timeline_components` (volume,
    product, lot number), `timeline_injections` (site, laterality, spinal level, volume) and
    `timeline_side_effects` (term, severity, serious), attributed to the session.
    """
    sessions = list(course.sessions.select_related("practitioner").order_by("starts_at", "sequence"))
    if clinical:
        by_pk = {s.pk: s for s in sessions}
        for session in sessions:
            session.timeline_components, session.timeline_injections = [], []
            session.timeline_side_effects = []
        entries = (
            (
                "timeline_components",
                PreparationComponent.objects.filter(session__in=list(by_pk))
                .order_by("id")
                .values_list("session_id", "volume_ml", "lot__product__name", "lot__lot_number"),
            ),
            (
                "timeline_injections",
                Injection.objects.filter(session__in=list(by_pk))
                .order_by("id")
                .values_list("session_id", "site__name", "laterality", "spinal_level", "volume_ml"),
            ),
            (
                "timeline_side_effects",
                SideEffect.objects.filter(attributed_session__in=list(by_pk))
                .order_by("onset_date", "id")
                .values_list("attributed_session_id", "term__name", "severity", "serious"),
            ),
        )
        if by_pk:
            for attribute, rows in entries:
                for session_id, *values in rows:
                    getattr(by_pk[session_id], attribute).append(values)
    return sessions


@dataclass(frozen=True)
class Progress:
    completed: int
    planned: int
    booked: int
    next_due: timeline.NextDue | None
    last_completed_on: datetime.date | None
    window: timeline.SpacingWindow

    @property
    def percent(self):
        return min(100, round(100 * self.completed / self.planned)) if self.planned else 0

    @property
    def remaining(self):
        return max(0, self.planned - self.completed)


def course_progress(course, sessions, protocol=None):
    """'3 of 6 treatments given' and when the next one is due (courses.timeline.next_due)."""
    protocol = protocol or ProtocolSettings.load()
    given = timeline.treatments(sessions)
    return Progress(
        completed=len(given),
        planned=course.planned_sessions,
        booked=sum(1 for s in sessions if timeline.is_open_visit(s)),
        next_due=timeline.next_due(course, sessions, protocol),
        last_completed_on=timeline.local_day(given[-1].starts_at) if given else None,
        window=timeline.spacing_window(course, protocol),
    )


def next_sequence(sessions):
    return timeline.next_number(sessions)


# --- Outcomes -------------------------------------------------------------------------------------


def pain_instrument():
    return OutcomeInstrument.objects.filter(code=OutcomeInstrument.PAIN_NRS_CODE).first()


def score_instruments(course, nrs):
    """The instruments a score can be recorded on (OutcomeScoreForm's choices): the pain NRS and the
    course's own instrument, by name, from what the page has already loaded."""
    instruments = {i.pk: i for i in (nrs, course.outcome_instrument) if i is not None}
    return sorted(instruments.values(), key=lambda i: (i.name, i.pk))


def course_scores(course):
    """The course's current scores in date order, with their instrument and who recorded them."""
    return list(
        OutcomeScore.objects.filter(course=course)
        .select_related("instrument", "created_by")
        .order_by("recorded_on", "id")
    )


# The responder definition, shared by the course page (below) and the outcomes dashboard
# (outcomes/selectors.py, computed in SQL); tests/outcomes/test_definition.py runs both on one data set.
RESPONDER_DEFINITION = """
Treatments: completed visits at which something was injected (courses.timeline); a no-show, a
cancellation or an assessment-only visit is not a treatment.

Baseline: the last score on or before the first treatment. For the pain NRS that is the first treatment's
pre-injection score (taken that day before injecting); before any treatment, the latest of the score
recorded when the course was planned and the NRS scores since. For the course's own instrument: its last
score on or before the first treatment's day (a score that day counts only when recorded as a baseline),
else the score recorded when the course was planned.

Latest: the latest score after the first treatment. For pain: the pre-injection score of a later
treatment (treatment 2 on) or a current (not voided) NRS OutcomeScore taken after the first treatment's
day and not recorded as a baseline, whichever is latest by date; on the same date the follow-up score
wins. For the course's instrument: its current scores taken after the first treatment's day.

Improvement: direction-aware (OutcomeInstrument.improvement): baseline − latest where lower is better,
latest − baseline where higher is better.

≥ MCID: improvement ≥ the instrument's mcid_absolute, or, where it has mcid_relative_percent, a positive
improvement ≥ that percent of the baseline (pain NRS: 2 points or 30 %).

≥ 50 %: improvement ≥ half the room there was to improve: baseline − minimum where lower is better,
maximum − baseline where higher is better (pain 8 → 4 is 50 %; VISA-A 40 → 70 is 30 of 60). A baseline
already at the best end leaves no room: not evaluable for ≥ 50 %.

Responder (the course page's headline status): both ≥ MCID and ≥ 50 %.

Follow-up status: a course stopped as lost to follow-up is "lost to follow-up" (its last score was taken
during treatment; the outcome is unknown). Otherwise, without a score after the first treatment, a
planned or active course is "awaiting follow-up" and a completed or stopped course is "lost to
follow-up". Only the others are evaluable; lost and awaiting courses are counted next to every rate,
never hidden.
"""

EVALUABLE = "evaluable"
AWAITING = "awaiting"
LOST = "lost"
NO_BASELINE = "no_baseline"
FOLLOW_UP_LABELS = {
    EVALUABLE: "Evaluable",
    AWAITING: "Awaiting follow-up",
    LOST: "Lost to follow-up",
    NO_BASELINE: "No baseline score",
}


def follow_up_status(course, latest):
    """Evaluable, awaiting or lost to follow-up (RESPONDER_DEFINITION); without a course, from the score."""
    if course is not None and course.stop_reason == StopReason.LOST_TO_FOLLOW_UP:
        return LOST
    if latest is not None:
        return EVALUABLE
    return AWAITING if course is None or course.is_open else LOST


def meets_mcid(instrument, baseline, improvement):
    """≥ MCID: the absolute MCID, or a positive improvement of at least the relative MCID of baseline."""
    if improvement >= instrument.mcid_absolute:
        return True
    relative = instrument.mcid_relative_percent
    return relative is not None and improvement > 0 and improvement * HUNDRED >= relative * baseline


def room_to_improve(instrument, baseline):
    """From baseline to the best end of the scale (0 when the baseline is already there)."""
    if instrument.higher_is_better:
        return instrument.max_score - baseline
    return baseline - instrument.min_score


@dataclass(frozen=True)
class Response:
    instrument: OutcomeInstrument
    baseline: Decimal | None
    latest: Decimal | None
    latest_on: datetime.date | None
    improvement: Decimal | None
    percent: Decimal | None  # share of the room to improve that was achieved (None: no room)
    status: str = EVALUABLE  # EVALUABLE, AWAITING, LOST or NO_BASELINE
    mcid: bool = False  # the ≥ MCID criterion, evaluated on the numbers alone

    @property
    def is_evaluable(self):
        return self.status == EVALUABLE

    @property
    def is_evaluable_for_half(self):
        return self.is_evaluable and self.percent is not None

    @property
    def meets_mcid(self):
        return self.is_evaluable and self.mcid

    @property
    def meets_half(self):
        return self.is_evaluable_for_half and self.percent >= 50

    @property
    def is_responder(self):
        return self.meets_mcid and self.meets_half

    @property
    def has_follow_up(self):
        return self.latest is not None

    @property
    def status_label(self):
        return FOLLOW_UP_LABELS[self.status]


def response(instrument, baseline, latest, latest_on=None, *, course=None):
    """Direction-aware change from baseline to the latest score (see RESPONDER_DEFINITION).

    The percentage is of the room there was to improve (baseline to the best end of the scale): a
    pain NRS from 8 to 4 is 50%, a VISA-A from 40 to 70 is 50% of the 60 points possible. A baseline
    already at the best end leaves no room, so no percentage (and no ≥ 50 % response). With `course`,
    the status says whether the course is evaluable, awaiting follow-up or lost to follow-up.
    """
    if baseline is None:
        return Response(instrument, None, None, None, None, None, NO_BASELINE)
    baseline = Decimal(baseline)
    status = follow_up_status(course, latest)
    if latest is None:
        return Response(instrument, baseline, None, None, None, None, status)
    latest = Decimal(latest)
    improvement = instrument.improvement(baseline, latest)
    room = room_to_improve(instrument, baseline)
    percent = (improvement * HUNDRED / room).quantize(Decimal("0.1")) if room > 0 else None
    return Response(
        instrument,
        baseline,
        latest,
        latest_on,
        improvement,
        percent,
        status,
        meets_mcid(instrument, baseline, improvement),
    )


@dataclass(frozen=True)
class TrendPoint:
    on: datetime.date
    label: str
    nrs: Decimal
    kind: str  # "session" or "follow-up"
    # True for points after the first treatment (outcomes); the first treatment's own pre-injection
    # score is the baseline.
    is_follow_up: bool
    sequence: int | None = None  # the treatment's number, for session points


def pain_points(course, sessions, scores, nrs):
    """Pain NRS over the course: each treatment's pre-injection score and each NRS score."""
    first = timeline.first_treatment(sessions)
    first_day = timeline.local_day(first.starts_at) if first else None
    points = [
        TrendPoint(
            timeline.local_day(s.starts_at),
            f"Treatment {s.sequence}",
            Decimal(s.pain_pre),
            "session",
            s is not first,
            s.sequence,
        )
        for s in timeline.treatments(sessions)
        if s.pain_pre is not None
    ]
    points += [
        TrendPoint(
            score.recorded_on,
            score.get_timepoint_display(),
            score.score,
            "follow-up",
            timeline.is_outcome_score(score, first_day),
        )
        for score in scores
        if nrs is not None and score.instrument_id == nrs.pk and score.timepoint != Timepoint.BASELINE
    ]
    # By date; on the same date the follow-up score comes after (and so wins over) the session.
    return sorted(points, key=lambda p: (p.on, p.kind != "session"))


def course_baselines(course, sessions, scores, nrs):
    """(pain baseline, instrument baseline): courses.timeline's, from the rows the page has loaded."""
    pain = timeline.pain_baseline(course, sessions, scores, nrs.pk if nrs else None)
    return pain, timeline.instrument_baseline(course, sessions, scores)


def course_responses(course, sessions, scores, nrs=None):
    """Response for pain NRS and the course's own instrument, from baseline to the latest score.

    `scores` are current (not voided) scores in (recorded_on, id) order, as `course_scores()` gives them.
    See RESPONDER_DEFINITION; the dashboard reads the same from the per-course summaries (outcomes.summary).
    """
    nrs = nrs or pain_instrument()
    pain_baseline, instrument_baseline = course_baselines(course, sessions, scores, nrs)
    first = timeline.first_treatment(sessions)
    first_day = timeline.local_day(first.starts_at) if first else None
    results = []
    if nrs is not None:
        follow_ups = [p for p in pain_points(course, sessions, scores, nrs) if p.is_follow_up]
        last = follow_ups[-1] if follow_ups else None
        results.append(
            response(
                nrs,
                pain_baseline.value,
                last.nrs if last else None,
                last.on if last else None,
                course=course,
            )
        )
    instrument = course.outcome_instrument
    if instrument is not None and (nrs is None or instrument.pk != nrs.pk):
        own = [
            s for s in scores if s.instrument_id == instrument.pk and timeline.is_outcome_score(s, first_day)
        ]
        last = own[-1] if own else None
        results.append(
            response(
                instrument,
                instrument_baseline.value,
                last.score if last else None,
                last.recorded_on if last else None,
                course=course,
            )
        )
    return results


def course_trend(course, sessions, scores, nrs=None):
    """The pain-trend chart's data: NRS points against the baseline and the MCID line."""
    nrs = nrs or pain_instrument()
    points = pain_points(course, sessions, scores, nrs)
    mcid = nrs.mcid_absolute if nrs else Decimal("2")
    baseline = course_baselines(course, sessions, scores, nrs)[0].value
    return {
        "baseline": float(baseline),
        "mcid": float(mcid),
        "mcid_line": float(max(Decimal("0"), baseline - mcid)),
        "start_date": course.start_date.isoformat(),
        "points": [
            {
                "date": p.on.isoformat(),
                "date_label": f"{p.on.day} {p.on:%b %Y}",
                "label": p.label,
                "nrs": float(p.nrs),
                "improvement": float(baseline - p.nrs),
                "kind": p.kind,
            }
            for p in points
        ],
    }


def course_timepoints(course):
    """The course's values at the protocol's outcome timepoints, by measure and target day: the rows the
    outcome summary keeps (outcomes.timepoints), so the page and the dashboard read the same values."""
    return list(
        course.timepoint_values.select_related("timepoint", "instrument").order_by(
            "instrument__name", "timepoint__target_days", "timepoint_id"
        )
    )


# --- Lot recall -----------------------------------------------------------------------------------


def lot_recipients(lot):
    """Every current preparation component drawn from the lot, with its session and patient (one query)."""
    return (
        PreparationComponent.objects.filter(lot=lot)
        .exclude(session__status=SessionStatus.CANCELLED)
        .select_related("session__patient", "session__course__condition", "session__practitioner")
        .order_by("session__patient__family_name", "session__patient__given_name", "session__starts_at")
    )


def session_volume(session):
    """Total injected volume of a session from its prefetched injections."""
    return sum((i.volume_ml for i in session.injections.all()), Decimal("0"))


def earlier_treatment_sites(treatments):
    """{(site id, laterality)} injected at these treatments (a course's earlier ones): one query at most."""
    if not treatments:
        return set()
    return set(
        Injection.objects.filter(session__in=[s.pk for s in treatments]).values_list("site_id", "laterality")
    )


def patient_reports_waiting(session):
    """The reactions the patient reported after this course's treatments up to `session` (that treatment's
    own check-in included: after a course's last treatment there is no later visit) that wait for the
    practitioner to confirm or dismiss, oldest first."""
    return list(
        PatientSideEffectReport.objects.filter(
            course_id=session.course_id,
            status=PatientSideEffectReport.Status.PENDING,
            session__starts_at__lte=session.starts_at,
        )
        .select_related("term", "session")
        .order_by("reported_on", "pk")
    )


def course_patient_reports(course):
    """Every reaction the patient reported in this course's check-ins, with its decision, oldest first."""
    return list(
        PatientSideEffectReport.objects.filter(course=course)
        .select_related("session", "decided_by")
        .order_by("reported_on", "pk")
    )
