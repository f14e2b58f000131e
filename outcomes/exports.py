"""The de-identified research export. The column lists below write the CSV and the data dictionary page."""

import hashlib
import hmac
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncDate

from courses.models import SideEffect, TreatmentSession
from outcomes.dbfunctions import DaysBetween

KEY_LENGTH = 16


def pseudonym(kind, pk):
    """A stable key for a record: HMAC-SHA256 of its id, truncated; not reversible without the key."""
    secret = (getattr(settings, "RESEARCH_KEY", "") or settings.SECRET_KEY).encode()
    return hmac.new(secret, f"{kind}:{pk}".encode(), hashlib.sha256).hexdigest()[:KEY_LENGTH]


def age_band(date_of_birth, on):
    age = on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    if age >= 90:
        return "90+"
    low = age // 10 * 10
    return f"{low}-{low + 9}"


def _days(later, start):
    return (later - start).days if later and start else None


def _number(value):
    if value is None:
        return ""
    if isinstance(value, (Decimal, float)):
        # The same text on every database: 3, 2.5, 12.75 (no trailing zeros).
        return f"{Decimal(str(value)).normalize():f}"
    return value


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    kind: str
    value: object  # callable(row) -> cell


COURSE_COLUMNS = [
    Column(
        "patient_key",
        "Pseudonymous patient key (HMAC-SHA256 of the patient record, 16 hex characters); "
        "the same patient has the same key in every export made with the same research key.",
        "text",
        lambda c: pseudonym("patient", c.patient_id),
    ),
    Column(
        "course_key",
        "Pseudonymous course key; links session rows to their course.",
        "text",
        lambda c: pseudonym("course", c.pk),
    ),
    Column(
        "age_band",
        "Patient's age at course start in 10-year bands (90+ grouped).",
        "text",
        lambda c: age_band(c.patient.date_of_birth, c.start_date),
    ),
    Column("sex", "Patient's recorded sex.", "text", lambda c: c.patient.sex),
    Column("condition", "Condition treated (clinic catalogue name).", "text", lambda c: c.condition.name),
    Column(
        "icd10", "ICD-10 code of the condition, when catalogued.", "text", lambda c: c.condition.icd10_code
    ),
    Column("body_region", "Body region treated.", "text", lambda c: c.body_region),
    Column("laterality", "Side treated.", "text", lambda c: c.laterality),
    Column(
        "practitioner_key",
        "Pseudonymous key of the treating practitioner.",
        "text",
        lambda c: pseudonym("practitioner", c.practitioner_id),
    ),
    Column("status", "Course status: planned, active, completed or stopped.", "text", lambda c: c.status),
    Column("stop_reason", "Why a stopped course stopped (blank otherwise).", "text", lambda c: c.stop_reason),
    Column(
        "protocol_deviation",
        "1 when the plan was outside the clinic protocol.",
        "0/1",
        lambda c: int(c.is_protocol_deviation),
    ),
    Column("planned_sessions", "Sessions planned for the course.", "integer", lambda c: c.planned_sessions),
    Column("interval_days", "Planned days between sessions.", "integer", lambda c: c.interval_days),
    Column(
        "sessions_completed",
        "Treatments given (completed visits with an injection; no-shows, cancellations and assessments "
        "excluded).",
        "integer",
        lambda c: c.sessions_received,
    ),
    Column(
        "end_day",
        "Days from course start to course end (blank while open).",
        "integer",
        lambda c: _number(_days(c.end_date, c.start_date)),
    ),
    Column(
        "baseline_pain",
        "Pain NRS (0–10, higher worse) at baseline: the last score on or before the first treatment "
        "(its pre-injection score once it is given).",
        "number",
        lambda c: _number(c.baseline),
    ),
    Column(
        "latest_pain",
        "Latest pain NRS after baseline: the later of the pre-injection score of the last treatment "
        "after the first and the last NRS follow-up score taken after the first treatment's day. "
        "Blank when none.",
        "number",
        lambda c: _number(c.latest_pain),
    ),
    Column(
        "latest_pain_day",
        "Days from course start to the latest pain score.",
        "integer",
        lambda c: _number(_days(latest_pain_day(c), c.start_date)),
    ),
    Column(
        "pain_change",
        "latest_pain − baseline_pain (negative = better).",
        "number",
        lambda c: _number(c.pain_change),
    ),
    Column(
        "responder_mcid",
        "1 when pain improved by at least the NRS MCID (2 points, or 30 % of baseline), 0 when not, "
        "blank when not evaluable (no follow-up or lost to follow-up).",
        "0/1",
        lambda c: _flag(c, "responder_mcid"),
    ),
    Column(
        "responder_50",
        "1 when pain improved by at least 50 % of baseline (the room there was to improve), 0 when not; "
        "blank when not evaluable (including baseline 0).",
        "0/1",
        lambda c: _flag(c, "responder_50"),
    ),
    Column(
        "lost_to_follow_up",
        "1 when the course closed without a pain score after baseline or stopped as lost to follow-up.",
        "0/1",
        lambda c: int(c.is_lost),
    ),
    Column(
        "instrument",
        "Code of the course's outcome instrument (blank when none).",
        "text",
        lambda c: c.outcome_instrument.code if c.outcome_instrument else "",
    ),
    Column(
        "instrument_higher_is_better",
        "1 when higher instrument scores are better.",
        "0/1",
        lambda c: _number(c.outcome_instrument and int(c.outcome_instrument.higher_is_better)),
    ),
    Column(
        "baseline_instrument",
        "Instrument score at baseline: the last one on or before the first treatment.",
        "number",
        lambda c: _number(c.baseline_instrument),
    ),
    Column(
        "latest_instrument",
        "Latest instrument score after baseline.",
        "number",
        lambda c: _number(c.instrument_latest),
    ),
    Column(
        "instrument_improvement",
        "Improvement in the instrument's better direction (positive = better).",
        "number",
        lambda c: _number(c.instrument_improvement if c.instrument_latest is not None else None),
    ),
    Column(
        "max_dextrose_percent",
        "Strongest final dextrose % used in a completed session.",
        "number",
        lambda c: _number(c.max_dextrose),
    ),
    Column(
        "anaesthetic_in_preparation",
        "1 when any completed session's mix contained anaesthetic.",
        "0/1",
        lambda c: int(c.with_anaesthetic),
    ),
    Column(
        "side_effects",
        "Side effects attributed to the course's sessions (voided entries excluded).",
        "integer",
        lambda c: c.side_effect_count,
    ),
    Column("serious_events", "Serious side effects among them.", "integer", lambda c: c.serious_count),
]

SESSION_COLUMNS = [
    Column(
        "patient_key",
        "Pseudonymous patient key (as in the course file).",
        "text",
        lambda s: pseudonym("patient", s.patient_id),
    ),
    Column(
        "course_key",
        "Pseudonymous course key (as in the course file).",
        "text",
        lambda s: pseudonym("course", s.course_id),
    ),
    Column("sequence", "Session number within the course.", "integer", lambda s: s.sequence),
    Column("day", "Days from course start to the session.", "integer", lambda s: s.day),
    Column(
        "status",
        "Session status: scheduled, checked_in, completed, cancelled or no_show.",
        "text",
        lambda s: s.status,
    ),
    Column("pain_pre", "Pain NRS before injecting.", "integer", lambda s: _number(s.pain_pre)),
    Column("pain_post", "Pain NRS after injecting.", "integer", lambda s: _number(s.pain_post)),
    Column(
        "guidance", "Guidance used (landmark, ultrasound, fluoroscopy, CT).", "text", lambda s: s.guidance
    ),
    Column(
        "final_dextrose_percent",
        "Final dextrose % of the syringe mix.",
        "number",
        lambda s: _number(s.final_dextrose_percent),
    ),
    Column(
        "final_anaesthetic_percent",
        "Final anaesthetic % of the syringe mix.",
        "number",
        lambda s: _number(s.final_anaesthetic_percent),
    ),
    Column("total_volume_ml", "Total volume injected (mL).", "number", lambda s: _number(s.total_volume_ml)),
    Column(
        "injections", "Injections recorded (voided entries excluded).", "integer", lambda s: s.injection_count
    ),
    Column(
        "side_effects", "Side effects attributed to this session.", "integer", lambda s: s.side_effect_count
    ),
    Column(
        "serious_events",
        "Serious side effects attributed to this session.",
        "integer",
        lambda s: s.serious_count,
    ),
]


def _flag(course, name):
    return "" if getattr(course, name) is None else int(getattr(course, name))


def _effect_counts(outer, *, serious=False):
    effects = SideEffect.objects.filter(**{outer: OuterRef("pk")})
    if serious:
        effects = effects.filter(serious=True)
    counted = effects.order_by().values(outer).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def export_courses(courses):
    """Course rows for the export: the annotated dashboard queryset plus per-course event counts."""
    from outcomes import selectors

    return (
        courses.annotate(
            side_effect_count=_effect_counts("attributed_session__course"),
            serious_count=_effect_counts("attributed_session__course", serious=True),
            is_lost=selectors.count_flag(selectors.LOST),
            responder_mcid=selectors.evaluable_flag(selectors.EVALUABLE, selectors.RESPONDER_MCID),
            responder_50=selectors.evaluable_flag(selectors.EVALUABLE_50, selectors.RESPONDER_50),
        )
        .select_related("patient", "condition", "outcome_instrument")
        .order_by("pk")
    )


def latest_pain_day(course):
    if course.latest_pain is None:
        return None
    if course.score_day and (not course.session_day or course.score_day >= course.session_day):
        return course.score_day
    return course.session_day


def export_sessions(courses):
    return (
        TreatmentSession.objects.filter(course__in=courses.values("pk"))
        .annotate(
            day=DaysBetween(TruncDate("starts_at"), F("course__start_date")),
            injection_count=Count("injections", filter=Q(injections__voided_at__isnull=True), distinct=True),
            side_effect_count=_effect_counts("attributed_session"),
            serious_count=_effect_counts("attributed_session", serious=True),
        )
        .order_by("course_id", "sequence", "starts_at")
    )
