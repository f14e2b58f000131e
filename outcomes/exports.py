"""The de-identified research export: five files, one REDCap data dictionary.

Each file is a list of Columns; the same lists write the CSV files, the data dictionary page and the REDCap
data-dictionary CSV, so a column cannot be in a file without being described. The files import into REDCap
as one project: `course_key` is the record ID (first column of every file, first field of the dictionary),
the course file is a plain form and the other four are repeating instruments, whose rows carry REDCap's
`redcap_repeat_instrument` and `redcap_repeat_instance` columns. REDCap wants every variable name unique
across the project, so a column that two files share by meaning carries its file's name in its own name
(`session_status`, `score_day`, `injection_laterality`).
"""

import hashlib
import hmac
import re
from collections import defaultdict, namedtuple
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncDate

from clinic.choices import BodyRegion, Laterality
from courses import timeline
from courses.models import (
    CourseStatus,
    Guidance,
    Injection,
    OutcomeInstrument,
    OutcomeScore,
    PreparationComponent,
    SessionStatus,
    Severity,
    SideEffect,
    SideEffectTerm,
    StopReason,
    Timepoint,
    TreatmentSession,
)
from courses.session_services import preparation_strengths
from outcomes import timepoints
from outcomes.dbfunctions import DaysBetween
from outcomes.models import CourseTimepoint
from patients.models import Patient

KEY_LENGTH = 16
RECORD_ID = "course_key"
# Courses per round of queries in the long files: each round reads the chunk's visits and its own rows.
CHUNK = 500
# Fixed columns for the anaesthetic agents of a mix; a mix with more agents says so in `anaesthetic_agents`.
ANAESTHETIC_SLOTS = 3
# Coded fields with at most this many choices are REDCap radio buttons, longer lists dropdowns.
RADIO_MAX = 5


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


_VERTEBRA = r"(?:C[1-7]|T1[0-2]|T[1-9]|L[1-5]|S[1-5])"
_LEVEL = re.compile(rf"^\s*({_VERTEBRA})\s*(?:[-–/]\s*({_VERTEBRA}|1[0-2]|[1-9]))?\s*$", re.IGNORECASE)


def spinal_level_code(typed):
    """The spinal level staff typed, as a level or segment ("L4", "L4-L5", "C5-C6" from "c5/6"), or "other":
    the export carries no free text, and this field is typed."""
    if not typed or not typed.strip():
        return ""
    match = _LEVEL.match(typed)
    if match is None:
        return "other"
    first, second = match.group(1).upper(), (match.group(2) or "").upper()
    if second.isdigit():
        second = first[0] + second  # "C5/6" -> C5-C6
    return f"{first}-{second}" if second else first


def choices_of(text_choices):
    """((code, label), ...) of a Django choices class: codes are lower-case letters, digits and
    underscores, as REDCap wants its raw values."""
    return tuple((str(code), str(label)) for code, label in text_choices.choices)


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    kind: str  # text, integer, number, yesno (1/0) or coded (one of `choices`)
    value: object  # callable(row) -> cell
    choices: tuple = ()
    low: str = ""  # REDCap's validation range of a number
    high: str = ""
    # REDCap's own repeating-instrument columns: written in the files, defined by REDCap, not the dictionary.
    system: bool = False
    title: str = ""  # REDCap's field label, when the name does not read well as one

    @property
    def label(self):
        return self.title or self.name.replace("_", " ").capitalize()

    @property
    def field_type(self):
        if self.kind == "yesno":
            return "yesno"
        if self.choices:
            return "radio" if len(self.choices) <= RADIO_MAX else "dropdown"
        return "text"

    @property
    def validation(self):
        return self.kind if self.kind in ("integer", "number") else ""

    @property
    def choices_text(self):
        """REDCap's layout of coded choices: "code, label | code, label"."""
        if self.kind == "yesno":
            return ""
        return " | ".join(f"{code}, {label}" for code, label in self.choices)


DAY_RULE = "day 0; negative before it; blank when the course has had no treatment"
DAY = f"Days from the course's first treatment ({DAY_RULE})"


def _coded(name, description, value, text_choices):
    return Column(name, description, "coded", value, choices=choices_of(text_choices))


# --- The course file ----------------------------------------------------------------------------------

COURSE_COLUMNS = [
    Column(
        RECORD_ID,
        "Pseudonymous course key (HMAC-SHA256 of the course record, 16 hex characters): the record ID, "
        "first in every file, linking each file's rows to their course.",
        "text",
        lambda c: pseudonym("course", c.pk),
    ),
    Column(
        "patient_key",
        "Pseudonymous patient key (16 hex characters); the same patient has the same key in every export "
        "made with the same research key.",
        "text",
        lambda c: pseudonym("patient", c.patient_id),
    ),
    Column(
        "age_band",
        "Patient's age at course start in 10-year bands (90+ grouped).",
        "text",
        lambda c: age_band(c.patient.date_of_birth, c.start_date),
    ),
    _coded("sex", "Patient's recorded sex.", lambda c: c.patient.sex, Patient.Sex),
    Column("condition", "Condition treated (clinic catalogue name).", "text", lambda c: c.condition.name),
    Column(
        "icd10",
        "ICD-10 code of the condition, when catalogued.",
        "text",
        lambda c: c.condition.icd10_code,
        title="ICD-10 code",
    ),
    _coded("body_region", "Body region treated.", lambda c: c.body_region, BodyRegion),
    _coded("laterality", "Side treated.", lambda c: c.laterality, Laterality),
    Column(
        "practitioner_key",
        "Pseudonymous key of the treating practitioner.",
        "text",
        lambda c: pseudonym("practitioner", c.practitioner_id),
    ),
    _coded("status", "Course status.", lambda c: c.status, CourseStatus),
    _coded(
        "stop_reason", "Why a stopped course stopped (blank otherwise).", lambda c: c.stop_reason, StopReason
    ),
    Column(
        "protocol_deviation",
        "1 when the plan was outside the clinic protocol.",
        "yesno",
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
        f"Days from the course's first treatment to its end ({DAY_RULE}; blank while open).",
        "integer",
        lambda c: _number(_days(c.end_date, c.first_on)),
    ),
    Column(
        "baseline_pain",
        "Pain NRS (0–10, higher worse) at baseline: the last score on or before the first treatment "
        "(its pre-injection score once it is given).",
        "number",
        lambda c: _number(c.baseline),
        low="0",
        high="10",
    ),
    Column(
        "latest_pain",
        "Latest pain NRS after baseline: the later of the pre-injection score of the last treatment "
        "after the first and the last NRS follow-up score taken after the first treatment's day. "
        "Blank when none.",
        "number",
        lambda c: _number(c.latest_pain),
        low="0",
        high="10",
    ),
    Column(
        "latest_pain_day",
        f"Days from the course's first treatment to the latest pain score ({DAY_RULE}).",
        "integer",
        lambda c: _number(_days(latest_pain_day(c), c.first_on)),
    ),
    Column(
        "pain_change",
        "latest_pain − baseline_pain (negative = better).",
        "number",
        lambda c: _number(c.pain_change),
        low="-10",
        high="10",
    ),
    Column(
        "responder_mcid",
        "At the latest score (the timepoint file reads each fixed timepoint): 1 when pain improved by at "
        "least the catalogue's pain NRS MCID (its absolute MCID, or its relative MCID as a % of baseline), 0 "
        "when not, blank when not evaluable (no follow-up or lost to follow-up).",
        "yesno",
        lambda c: _flag(c, "responder_mcid"),
        title="Responder (≥ MCID)",
    ),
    Column(
        "responder_50",
        "1 when pain improved by at least 50 % of baseline (the room there was to improve), 0 when not; "
        "blank when not evaluable (including baseline 0).",
        "yesno",
        lambda c: _flag(c, "responder_50"),
        title="Responder (≥ 50 %)",
    ),
    Column(
        "lost_to_follow_up",
        "1 when the course closed without a pain score after baseline or stopped as lost to follow-up.",
        "yesno",
        lambda c: int(c.is_lost),
    ),
    Column(
        "instrument",
        "Code of the course's outcome instrument (catalogue code, blank when none).",
        "text",
        lambda c: c.outcome_instrument.code if c.outcome_instrument else "",
    ),
    Column(
        "instrument_higher_better",
        "1 when higher instrument scores are better (blank without an instrument).",
        "yesno",
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
        low="0",
        high="100",
    ),
    Column(
        "anaesthetic_in_preparation",
        "1 when any completed session's mix contained anaesthetic.",
        "yesno",
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
            first_on=F("outcome_summary__first_session_on"),
            side_effect_count=_effect_counts("attributed_session__course"),
            serious_count=_effect_counts("attributed_session__course", serious=True),
            is_lost=selectors.count_flag(selectors.LOST),
            responder_mcid=selectors.evaluable_flag(selectors.EVALUABLE, selectors.RESPONDER_MCID),
            responder_50=selectors.evaluable_flag(selectors.EVALUABLE_50, selectors.RESPONDER_50),
        )
        .select_related("patient", "condition", "outcome_instrument")
        .order_by("pk")
        .iterator(chunk_size=CHUNK)
    )


def latest_pain_day(course):
    if course.latest_pain is None:
        return None
    if course.score_day and (not course.session_day or course.score_day >= course.session_day):
        return course.score_day
    return course.session_day


# --- The repeating files: what they share ---------------------------------------------------------------


def _record_id(description):
    return Column(RECORD_ID, description, "text", lambda row: pseudonym("course", row.course_id))


def _repeat_columns(form):
    return [
        Column(
            "redcap_repeat_instrument",
            f"REDCap's repeating-instrument column: always {form}.",
            "text",
            lambda row: form,
            system=True,
        ),
        Column(
            "redcap_repeat_instance",
            "REDCap's instance number: 1, 2, … for the course's rows in file order.",
            "integer",
            lambda row: row.redcap_instance,
            system=True,
        ),
    ]


def _numbered(rows):
    """Number each course's rows 1, 2, … in file order (REDCap's repeat instance); rows come in course
    order."""
    course, number = None, 0
    for row in rows:
        number = number + 1 if row.course_id == course else 1
        course = row.course_id
        row.redcap_instance = number
        yield row


# A visit as the timeline rules read it (courses.timeline), with what the long files take from it.
Visit = namedtuple("Visit", "pk course_id status assessment_only starts_at pain_pre final_dextrose_percent")


def _chunks(courses):
    """The exported courses, CHUNK at a time: ({course id: first treatment day}, {course id: [visits]}).

    One query for the courses' ids and first treatment days (CourseOutcome.first_session_on), then one for
    each chunk's visits, so a file's queries grow with the number of chunks, never with its rows.
    """
    firsts = list(courses.order_by("pk").values_list("pk", "outcome_summary__first_session_on"))
    for start in range(0, len(firsts), CHUNK):
        chunk = dict(firsts[start : start + CHUNK])
        visits = defaultdict(list)
        rows = (
            TreatmentSession.objects.filter(course_id__in=list(chunk))
            .order_by()
            .values_list("pk", *Visit._fields[1:])
        )
        for row in rows:
            visits[row[1]].append(Visit(*row))
        yield chunk, visits


def _numbers(visits):
    """{session pk: treatment number} of every course of a chunk (courses.timeline.treatment_numbers)."""
    numbers = {}
    for course_visits in visits.values():
        numbers.update(timeline.treatment_numbers(course_visits))
    return numbers


# --- The session file ----------------------------------------------------------------------------------

SESSION_COLUMNS = [
    _record_id("Pseudonymous course key (the record ID, as in the course file)."),
    *_repeat_columns("sessions"),
    Column("sequence", "Session number within the course.", "integer", lambda s: s.sequence),
    Column("day", f"{DAY}.", "integer", lambda s: _number(s.day)),
    _coded("session_status", "Session status.", lambda s: s.status, SessionStatus),
    Column(
        "pain_pre",
        "Pain NRS before injecting.",
        "integer",
        lambda s: _number(s.pain_pre),
        low="0",
        high="10",
        title="Pain before injecting (NRS)",
    ),
    Column(
        "pain_post",
        "Pain NRS after injecting.",
        "integer",
        lambda s: _number(s.pain_post),
        low="0",
        high="10",
        title="Pain after injecting (NRS)",
    ),
    _coded("guidance", "Guidance used.", lambda s: s.guidance, Guidance),
    Column(
        "final_dextrose_percent",
        "Final dextrose (glucose) % of the session's strongest preparation.",
        "number",
        lambda s: _number(s.final_dextrose_percent),
        low="0",
        high="100",
    ),
    Column(
        "final_anaesthetic_percent",
        "Final % of the strongest single local anaesthetic in the session's preparations, never agents added "
        "together (each agent's own %: the injection file).",
        "number",
        lambda s: _number(s.final_anaesthetic_percent),
        low="0",
        high="100",
    ),
    Column(
        "total_volume_ml",
        "Total volume injected (mL).",
        "number",
        lambda s: _number(s.total_volume_ml),
        title="Total volume (mL)",
    ),
    Column(
        "injections", "Injections recorded (voided entries excluded).", "integer", lambda s: s.injection_count
    ),
    Column(
        "session_side_effects",
        "Side effects attributed to this session.",
        "integer",
        lambda s: s.side_effect_count,
    ),
    Column(
        "session_serious_events",
        "Serious side effects attributed to this session.",
        "integer",
        lambda s: s.serious_count,
    ),
]


def export_sessions(courses):
    rows = (
        TreatmentSession.objects.filter(course__in=courses.values("pk"))
        .annotate(
            day=DaysBetween(TruncDate("starts_at"), F("course__outcome_summary__first_session_on")),
            injection_count=Count("injections", filter=Q(injections__voided_at__isnull=True), distinct=True),
            side_effect_count=_effect_counts("attributed_session"),
            serious_count=_effect_counts("attributed_session", serious=True),
        )
        .order_by("course_id", "sequence", "starts_at")
    )
    return _numbered(rows.iterator(chunk_size=CHUNK))


# --- The score file ------------------------------------------------------------------------------------

# Who gave the score: staff in clinic or on the phone, or the patient.
STAFF, PATIENT = "staff", "patient"
NRS = OutcomeInstrument.PAIN_NRS_CODE
SCORE_SOURCES = {
    OutcomeScore.Source.CLINIC: STAFF,
    OutcomeScore.Source.PHONE: STAFF,
    OutcomeScore.Source.PATIENT: PATIENT,
}


@dataclass
class ScoreRow:
    course_id: int
    instrument: str
    day: object
    value: object
    source: str
    timepoint: str
    redcap_instance: int = 0


SCORE_COLUMNS = [
    _record_id("Pseudonymous course key (the record ID, as in the course file)."),
    *_repeat_columns("scores"),
    Column(
        "score_instrument", "Instrument (catalogue code, e.g. NRS, KOOS).", "text", lambda r: r.instrument
    ),
    Column("score_day", f"{DAY}.", "integer", lambda r: _number(r.day)),
    Column("score_value", "The score, on the instrument's own scale.", "number", lambda r: _number(r.value)),
    Column(
        "score_source",
        "Who gave it: staff (in clinic or by phone) or the patient (patient-reported).",
        "coded",
        lambda r: r.source,
        choices=((STAFF, "Staff (in clinic or by phone)"), (PATIENT, "Patient-reported")),
    ),
    _coded(
        "score_timepoint",
        "Timepoint as recorded with the score. Each treatment's pre-injection pain is a row too (NRS, staff, "
        "timepoint session), as the outcome summaries count it (courses.timeline): the first treatment's "
        "(day 0) is the pain baseline, each later one an outcome point; on the same day a follow-up score "
        "comes after it. A score recorded on or before the first treatment's day is never an outcome. The "
        "pain typed when the course was planned is not a score (see baseline_pain in the course file).",
        lambda r: r.timepoint,
        Timepoint,
    ),
]


def export_scores(courses):
    """Every current score of the courses and each treatment's pre-injection pain, per course by day."""
    for firsts, visits in _chunks(courses):
        scores = defaultdict(list)
        rows = OutcomeScore.objects.filter(course_id__in=list(firsts)).order_by()
        for row in rows.values_list(
            "course_id", "recorded_on", "pk", "instrument__code", "score", "source", "timepoint"
        ):
            scores[row[0]].append(row[1:])
        for course_id, first in firsts.items():
            yield from _course_scores(course_id, first, visits[course_id], scores[course_id])


def _course_scores(course_id, first, visits, scores):
    found = []
    for visit in timeline.treatments(visits):
        if visit.pain_pre is not None:
            on = timeline.local_day(visit.starts_at)
            pain = ScoreRow(course_id, NRS, _days(on, first), visit.pain_pre, STAFF, Timepoint.SESSION)
            # Sorted by day; on the same day the pre-injection score comes first (the summaries' tie rule).
            found.append(((on, 0, visit.pk), pain))
    for on, pk, code, value, source, timepoint in scores:
        score = ScoreRow(course_id, code, _days(on, first), value, SCORE_SOURCES[source], timepoint)
        found.append(((on, 1, pk), score))
    return [row for _, row in sorted(found, key=lambda item: item[0])]


# --- The side-effect file ------------------------------------------------------------------------------


@dataclass
class EventRow:
    course_id: int
    pk: int
    term: str
    category: str
    grade: int
    serious: bool
    serious_criterion: str
    relatedness: str
    onset_day: object
    resolution_day: object
    attributed_treatment: object
    site_region: str
    redcap_instance: int = 0


SIDE_EFFECT_COLUMNS = [
    _record_id("Pseudonymous course key of the session the event is attributed to (the record ID)."),
    *_repeat_columns("side_effects"),
    Column(
        "event_key",
        "Pseudonymous key of the side-effect record (stable across exports with the same research key).",
        "text",
        lambda r: pseudonym("side_effect", r.pk),
    ),
    Column("term", "Side effect (clinic catalogue term).", "text", lambda r: r.term),
    _coded("category", "The term's category.", lambda r: r.category, SideEffectTerm.Category),
    _coded("grade", "Severity grade (CTCAE-style, 1–5).", lambda r: r.grade, Severity),
    Column("serious", "1 when serious, 0 when not.", "yesno", lambda r: int(r.serious)),
    _coded(
        "serious_criterion",
        "Why it is serious (blank when not serious).",
        lambda r: r.serious_criterion,
        SideEffect.SeriousCriterion,
    ),
    _coded("relatedness", "Relatedness to the treatment.", lambda r: r.relatedness, SideEffect.Relatedness),
    Column("onset_day", f"{DAY}, to the onset.", "integer", lambda r: _number(r.onset_day)),
    Column(
        "resolution_day",
        f"{DAY}, to the resolution (blank while unresolved).",
        "integer",
        lambda r: _number(r.resolution_day),
    ),
    Column(
        "attributed_treatment",
        "Treatment number of the session the event is attributed to (courses.timeline numbering: "
        "treatments in the order given; blank when that visit has no number).",
        "integer",
        lambda r: _number(r.attributed_treatment),
    ),
    _coded(
        "site_region",
        "Body region of the site affected (blank when none).",
        lambda r: r.site_region,
        BodyRegion,
    ),
]


def export_side_effects(courses):
    """Current side effects of the courses (by the session they are attributed to), per course by onset."""
    fields = (
        "attributed_session__course_id",
        "pk",
        "term__name",
        "term__category",
        "severity",
        "serious",
        "serious_criterion",
        "relatedness",
        "onset_date",
        "resolved_date",
        "attributed_session_id",
        "site__region",
    )
    for firsts, visits in _chunks(courses):
        numbers = _numbers(visits)
        rows = SideEffect.objects.filter(attributed_session__course_id__in=list(firsts)).order_by(
            "attributed_session__course_id", "onset_date", "pk"
        )
        for course_id, pk, *coded, onset, resolved, session_id, region in rows.values_list(*fields):
            first = firsts[course_id]
            yield EventRow(
                course_id,
                pk,
                *coded,
                onset_day=_days(onset, first),
                resolution_day=_days(resolved, first),
                attributed_treatment=numbers.get(session_id),
                site_region=region or "",
            )


# --- The injection file --------------------------------------------------------------------------------


@dataclass
class InjectionRow:
    course_id: int
    treatment_number: int
    day: object
    site: str
    site_id: int
    region: str
    laterality: str
    spinal_level: str
    volume_ml: object
    dextrose: object
    agents: list = field(default_factory=list)  # [(product name, final %)] sorted by name
    redcap_instance: int = 0


def _agent_columns(slot):
    index = slot - 1
    return [
        Column(
            f"anaesthetic_{slot}_agent",
            f"Local anaesthetic {slot} of the mix, by product name in alphabetical order (blank when fewer).",
            "text",
            lambda r: r.agents[index][0] if len(r.agents) > index else "",
        ),
        Column(
            f"anaesthetic_{slot}_percent",
            f"Final % of anaesthetic {slot} in the mix: its stock % × its volume / the mix's total volume.",
            "number",
            lambda r: _number(r.agents[index][1]) if len(r.agents) > index else "",
            low="0",
            high="100",
        ),
    ]


INJECTION_COLUMNS = [
    _record_id("Pseudonymous course key (the record ID, as in the course file)."),
    *_repeat_columns("injections"),
    Column(
        "treatment_number",
        "Treatment number of the session (courses.timeline numbering: treatments in the order given).",
        "integer",
        lambda r: r.treatment_number,
    ),
    Column("injection_day", f"{DAY}, to the treatment.", "integer", lambda r: _number(r.day)),
    Column("site", "Injection site (clinic catalogue name).", "text", lambda r: r.site),
    Column(
        "site_id",
        "Catalogue id of the site: stable while the catalogue row stands, unlike its name.",
        "integer",
        lambda r: r.site_id,
        title="Site catalogue id",
    ),
    _coded("region", "Body region of the site.", lambda r: r.region, BodyRegion),
    _coded("injection_laterality", "Side injected.", lambda r: r.laterality, Laterality),
    Column(
        "spinal_level",
        "Spinal level for spine sites, as a vertebral level or segment (C1–C7, T1–T12, L1–L5, S1–S5; e.g. "
        "L4-L5, L5-S1). What was typed is not exported: a value that does not read as a level is 'other'.",
        "text",
        lambda r: spinal_level_code(r.spinal_level),
    ),
    Column(
        "volume_ml",
        "Volume injected at the site (mL).",
        "number",
        lambda r: _number(r.volume_ml),
        low="0",
        high="20",
        title="Volume (mL)",
    ),
    Column(
        "injection_dextrose_percent",
        "Final dextrose (glucose) % of the preparation injected (every component's glucose counted); the "
        "session's strongest preparation for injections recorded before a session could hold several.",
        "number",
        lambda r: _number(r.dextrose),
        low="0",
        high="100",
    ),
    Column(
        "anaesthetic_agents",
        f"Local-anaesthetic products in the preparation injected. The first {ANAESTHETIC_SLOTS}, by name, "
        "fill the anaesthetic columns; each agent's % is its own, never added to another's.",
        "integer",
        lambda r: len(r.agents),
    ),
    *(column for slot in range(1, ANAESTHETIC_SLOTS + 1) for column in _agent_columns(slot)),
]


def export_injections(courses):
    """Current injections of the treatments given, per course by treatment number, with the strengths of
    the preparation each came from (courses.session_services.preparation_strengths)."""
    fields = (
        "preparation_id",
        "session_id",
        "pk",
        "site_id",
        "site__name",
        "site__region",
        "laterality",
        "spinal_level",
        "volume_ml",
    )
    for firsts, visits in _chunks(courses):
        given = {visit.pk: visit for course in visits.values() for visit in timeline.treatments(course)}
        numbers = _numbers(visits)
        components = defaultdict(list)
        mixes = PreparationComponent.objects.filter(session__course_id__in=list(firsts)).select_related(
            "lot__product"
        )
        by_session = defaultdict(list)
        for component in mixes.order_by():
            components[component.preparation_id].append(component)
            by_session[component.session_id].append(component)
        strengths = {}
        found = []
        for preparation_id, session_id, pk, site_id, site, region, laterality, level, volume in (
            Injection.objects.filter(session__course_id__in=list(firsts)).order_by().values_list(*fields)
        ):
            visit = given.get(session_id)
            if visit is None:
                continue
            # An injection not tied to a preparation reads the session's whole mix, as before a session
            # could hold several.
            key = preparation_id if preparation_id is not None else ("session", session_id)
            if key not in strengths:
                rows = components[preparation_id] if preparation_id is not None else by_session[session_id]
                strengths[key] = preparation_strengths(rows)
            mix = strengths[key]
            row = InjectionRow(
                visit.course_id,
                numbers[session_id],
                _days(timeline.local_day(visit.starts_at), firsts[visit.course_id]),
                site,
                site_id,
                region,
                laterality,
                level,
                volume,
                visit.final_dextrose_percent if preparation_id is None else mix.final_dextrose_percent,
                list(mix.anaesthetics),
            )
            found.append(((visit.course_id, row.treatment_number, pk), row))
        for _, row in sorted(found, key=lambda item: item[0]):
            yield row


# --- The files and their REDCap dictionary ---------------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    name: str  # the page's ?level= and the REDCap form (instrument) name
    title: str
    description: str
    columns: list
    rows: object  # callable(courses) -> rows in course order

    @property
    def filename_part(self):
        return self.name.replace("_", "-")


# --- The timepoint file --------------------------------------------------------------------------------

TIMEPOINT_STATES = (
    (timepoints.SCORED, "Scored in the window"),
    (timepoints.MISSING, "Missing (window closed)"),
    (timepoints.AWAITING, "Awaiting"),
)


def _if_scored(row, value):
    return "" if row.value is None else value


TIMEPOINT_COLUMNS = [
    _record_id("Pseudonymous course key (the record ID, as in the course file)."),
    *_repeat_columns("timepoints"),
    Column(
        "tp_code",
        "The protocol timepoint (courses.ProtocolTimepoint code: eoc end of course, w6, w12 3 months, w26 6 "
        "months, w52 12 months as seeded; its target and window in days after the last treatment are "
        "tp_target_days, tp_opens_days and tp_closes_days).",
        "text",
        lambda r: r.timepoint.code,
    ),
    Column(
        "tp_target_days",
        "Target: days after the last treatment.",
        "integer",
        lambda r: r.timepoint.target_days,
    ),
    Column(
        "tp_opens_days",
        "The window opens this many days after the last treatment.",
        "integer",
        lambda r: r.timepoint.opens_after_days,
    ),
    Column(
        "tp_closes_days",
        "The window closes this many days after the last treatment.",
        "integer",
        lambda r: r.timepoint.closes_after_days,
    ),
    Column("tp_instrument", "Instrument (catalogue code).", "text", lambda r: r.instrument.code),
    Column(
        "tp_state",
        "scored: a score in the window; missing: the window closed without one; awaiting: the window is "
        "open, or the course is (windows are placed once it is closed). As of the export's day.",
        "coded",
        lambda r: r.state,
        choices=TIMEPOINT_STATES,
    ),
    Column(
        "tp_value",
        "The score nearest the target inside the window (staff-entered or patient-reported).",
        "number",
        lambda r: _number(r.value),
    ),
    Column(
        "tp_day", f"Day of that score: {DAY}.", "integer", lambda r: _number(_days(r.value_on, r.first_on))
    ),
    Column(
        "tp_improvement",
        "Improvement from the baseline, direction-aware (positive = better).",
        "number",
        lambda r: _number(r.improvement),
    ),
    Column(
        "tp_mcid",
        "1 when the improvement meets the instrument's MCID as the catalogue defines it (absolute, or "
        "relative % of baseline), 0 when not; blank when not scored.",
        "yesno",
        lambda r: _if_scored(r, int(r.meets_mcid)),
        title="Responder ≥ MCID at the timepoint",
    ),
    Column(
        "tp_half",
        "1 when the improvement is at least half the room there was to improve, 0 when not; blank when not "
        "scored or when the baseline left no room.",
        "yesno",
        lambda r: "" if r.value is None or not r.evaluable_half else int(r.meets_half),
        title="Responder ≥ 50 % at the timepoint",
    ),
]


def export_timepoints(courses):
    """Each course's value at every protocol timepoint on each measure (outcomes.CourseTimepoint)."""
    rows = (
        CourseTimepoint.objects.filter(course__in=courses.values("pk"))
        .annotate(first_on=F("course__outcome_summary__first_session_on"))
        .select_related("timepoint", "instrument")
        .order_by("course_id", "instrument__code", "timepoint__target_days", "timepoint_id")
    )
    return rows.iterator(chunk_size=CHUNK)


FILES = [
    ExportFile(
        "courses",
        "Course file",
        "One row per treatment course: the patient in bands, the condition, the plan and the pain and "
        "instrument outcome.",
        COURSE_COLUMNS,
        export_courses,
    ),
    ExportFile(
        "sessions",
        "Session file",
        "One row per visit of every status: its pain scores, guidance, mix strengths and counts.",
        SESSION_COLUMNS,
        export_sessions,
    ),
    ExportFile(
        "scores",
        "Score file",
        "One row per score (long format): every current outcome score and each treatment's pre-injection "
        "pain, by day from the first treatment.",
        SCORE_COLUMNS,
        lambda courses: _numbered(export_scores(courses)),
    ),
    ExportFile(
        "side_effects",
        "Side-effect file",
        "One row per current side effect: term, grade, seriousness, relatedness, onset and resolution day, "
        "and the treatment it is attributed to.",
        SIDE_EFFECT_COLUMNS,
        lambda courses: _numbered(export_side_effects(courses)),
    ),
    ExportFile(
        "injections",
        "Injection file",
        "One row per current injection of a treatment given: treatment number, site, side, level, volume "
        "and the mix's dextrose % and % per anaesthetic agent.",
        INJECTION_COLUMNS,
        lambda courses: _numbered(export_injections(courses)),
    ),
    ExportFile(
        "timepoints",
        "Timepoint file",
        "One row per course, protocol timepoint and measure: the value nearest the target inside the window, "
        "or missing or awaiting, and the response there (the dashboard's responder tables).",
        TIMEPOINT_COLUMNS,
        lambda courses: _numbered(export_timepoints(courses)),
    ),
]
FILES_BY_NAME = {export.name: export for export in FILES}

REDCAP_HEADER = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)


def redcap_fields():
    """(form, column) for each variable of the REDCap project, the record ID first.

    REDCap defines a variable on one form only: the record ID on the course form (the other files carry it
    as REDCap's import expects), and its repeating-instrument columns nowhere.
    """
    for export in FILES:
        for column in export.columns:
            if column.system or (column.name == RECORD_ID and export is not FILES[0]):
                continue
            yield export.name, column


def redcap_dictionary():
    """The rows of the REDCap data-dictionary CSV (after REDCAP_HEADER)."""
    for form, column in redcap_fields():
        yield [
            column.name,
            form,
            "",
            column.field_type,
            column.label,
            column.choices_text,
            column.description,
            column.validation,
            column.low,
            column.high,
            "",
            "",
            "y" if column.name == RECORD_ID else "",
            "",
            "",
            "",
            "",
            "",
        ]
