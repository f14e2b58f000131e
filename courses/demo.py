"""Demo courses for `seed_demo`: past sessions with preparations, sites, side effects and pain trends.

Figures follow DOMAIN.md: 3–8 sessions 14–21 days apart (a few deviations, with reasons), dextrose
12.5–25% with lidocaine in about three courses of four, 0.5–6 mL per site, side effects at the rates of
the practitioner survey (post-injection flare the most common) with one or two serious events, about one
course in ten lost to follow-up, and roughly half the courses responding on pain and on their outcome
instrument. Future sessions of active courses are left to the scheduling demo, which books them.

Measured on the default demo (300 patients, seed 2026) through the dashboard's definition: see
tests/courses/test_demo.py for the ranges kept.
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from clinic.changes import Change, announce
from courses import safety
from courses.models import (
    FOLLOW_UP_WEEKS,
    AnaestheticUse,
    Condition,
    CourseStatus,
    Guidance,
    Injection,
    InjectionSite,
    Lot,
    NoShowFollowUp,
    OutcomeInstrument,
    OutcomeScore,
    Preparation,
    PreparationComponent,
    Product,
    ProtocolSettings,
    SessionStatus,
    SideEffect,
    SideEffectTerm,
    StopReason,
    Timepoint,
    TreatmentCourse,
    TreatmentSession,
)
from courses.session_services import preparations_compute
from courses.sites import laterality_problem
from patients.models import Consent, Patient, Screening
from scheduling.demo import DemoDiary

# condition: (weight, region, sites, instrument code, chance of responding)
CONDITIONS = {
    "Knee osteoarthritis": (
        18,
        "knee",
        [
            "Knee intra-articular",
            "MCL femoral",
            "MCL tibial",
            "Pes anserine",
            "Coronary ligament medial",
            "Patellar tendon",
            "LCL femoral",
        ],
        "WOMAC",
        0.6,
    ),
    "Low back pain": (
        16,
        "lumbar_pelvis",
        [
            "Supraspinous / interspinous",
            "Facet capsule",
            "Iliolumbar ligament",
            "Posterior SI ligaments",
            "Iliac crest / thoracolumbar fascia",
        ],
        "ODI",
        0.46,
    ),
    "Sacroiliac joint dysfunction": (
        6,
        "lumbar_pelvis",
        [
            "Posterior SI ligaments",
            "Long dorsal SI ligament",
            "SI joint intra-articular",
            "Sacrotuberous ligament",
            "Iliolumbar ligament",
        ],
        "ODI",
        0.55,
    ),
    "Neck pain": (
        7,
        "cervical",
        [
            "Nuchal line / occiput",
            "Facet capsule",
            "Spinous / interspinous",
            "Transverse processes",
            "Levator scapulae insertion",
            "Upper trapezius attachment",
        ],
        "NDI",
        0.5,
    ),
    "Lateral epicondylosis (tennis elbow)": (
        8,
        "elbow_wrist_hand",
        ["Common extensor origin", "Lateral supracondylar ridge", "Annular ligament"],
        "PRTEE",
        0.65,
    ),
    "Rotator cuff tendinopathy / partial tear": (
        9,
        "shoulder",
        [
            "Supraspinatus enthesis",
            "Infraspinatus enthesis",
            "Subscapularis enthesis",
            "Bicipital groove",
            "Glenohumeral intra-articular",
        ],
        "QDASH",
        0.59,
    ),
    "Achilles tendinopathy": (5, "ankle_foot", ["Achilles insertion", "Achilles peritendon"], "VISA-A", 0.55),
    "Plantar fasciitis / heel spur": (5, "ankle_foot", ["Plantar fascia origin"], None, 0.6),
    "Hip osteoarthritis": (
        5,
        "hip",
        ["Hip intra-articular", "Greater trochanter", "Adductor / pubic"],
        "WOMAC",
        0.5,
    ),
    "Ligament sprain / sports injury": (4, "ankle_foot", ["ATFL", "CFL", "Deltoid ligament"], None, 0.65),
    "TMJ dysfunction": (3, "head", ["TMJ intra-articular", "TMJ capsule", "TMJ disc attachment"], None, 0.55),
    "Wrist and hand pain": (
        4,
        "elbow_wrist_hand",
        ["Wrist / TFCC", "First CMC", "Finger joints"],
        "QDASH",
        0.5,
    ),
    "Degenerative disc disease": (
        3,
        "lumbar_pelvis",
        ["Supraspinous / interspinous", "Facet capsule", "Iliolumbar ligament"],
        "ODI",
        0.4,
    ),
    "Meniscal tear": (
        3,
        "knee",
        ["Coronary ligament medial", "Coronary ligament lateral", "Knee intra-articular"],
        "KOOS",
        0.5,
    ),
}
SPINE_REGIONS = {"cervical", "thoracic", "lumbar_pelvis"}
SPINAL_LEVELS = {
    "cervical": ["C2–C3", "C3–C4", "C4–C5", "C5–C6", "C6–C7"],
    "thoracic": ["T4–T5", "T5–T6", "T6–T7"],
    "lumbar_pelvis": ["L3–L4", "L4–L5", "L5–S1"],
}
# Typical baseline for each instrument (lower-is-better ones start high, higher-is-better low).
INSTRUMENT_BASELINES = {
    "WOMAC": (40, 70),
    "ODI": (30, 55),
    "NDI": (15, 30),
    "PRTEE": (45, 75),
    "QDASH": (35, 65),
    "VISA-A": (30, 55),
    "KOOS": (30, 55),
}
LOTS = [
    # product, lot number, months to expiry, recalled note
    ("Dextrose 50%", "DX50-24117", 14, ""),
    ("Dextrose 50%", "DX50-25032", 22, ""),
    ("Lidocaine 1%", "LD1-7731", 12, ""),
    ("Lidocaine 1%", "LD1-8025", 20, "Manufacturer recall: particulate matter in some vials (demo)."),
    ("Sodium chloride 0.9% (saline)", "NS-55102", 18, ""),
]
# Side-effect terms with the chance per session (Dagenais 2006: flare in ~70% of patients over a
# course, stiffness 25%, bruising 5%), severity weights and days to resolve.
SIDE_EFFECT_RATES = [
    ("Post-injection pain / flare", 0.3, (1, 1, 1, 2), (1, 4)),
    ("Stiffness", 0.08, (1, 1, 2), (1, 3)),
    ("Bruising", 0.02, (1,), (3, 10)),
    ("Swelling", 0.03, (1, 1, 2), (1, 4)),
    ("Numbness", 0.01, (1,), (0, 2)),
    ("Vasovagal syncope", 0.006, (1, 2), (0, 0)),
    ("Nerve irritation or injury", 0.002, (2,), (7, 30)),
    ("Injection-site infection", 0.001, (2,), (7, 14)),
]
# Rare serious events (DOMAIN.md §6), placed on chosen sessions rather than rolled per session so the demo
# always has a few: term, events per 1000 completed sessions (at least one), grade, serious criterion,
# action, days from the session to onset, days to resolve, needs an intra-articular injection.
SERIOUS_EVENTS = [
    (
        "Vasovagal syncope",
        1.5,
        3,
        "medically_important",
        "review",
        (0, 0),
        (0, 1),
        False,
        "Fainted after the injections; reviewed in the emergency department, discharged the same day.",
    ),
    (
        "Septic joint",
        1.0,
        3,
        "hospitalisation",
        "referral",
        (2, 4),
        (14, 28),
        True,
        "Hot swollen joint two days later; admitted for washout and intravenous antibiotics.",
    ),
]
# Share of courses whose syringe holds no local anaesthetic (dextrose and saline only): the practitioner
# or patient preferred none, a topical cream or a separate skin bleb, or an anaesthetic allergy.
NO_ANAESTHETIC_SHARE = 0.25
NO_ANAESTHETIC_USES = [AnaestheticUse.NONE, AnaestheticUse.NONE, AnaestheticUse.TOPICAL, AnaestheticUse.BLEB]
# How a course's outcome-instrument change follows its pain change: disability and function scores improve
# less than pain (Rabago 2013: WOMAC 15 points on 0–100 against pain falling by about half).
INSTRUMENT_SHARE_OF_PAIN_GAIN = (0.4, 0.95)
# Chance the outcome questionnaire is repeated at the last session of a closed course.
END_OF_TREATMENT_INSTRUMENT = 0.85
# Courses stopped early whose patient is never reached for a follow-up score.
STOPPED_EARLY_NOT_FOLLOWED = 0.5
# Stopping odds per course (cumulative thresholds of one roll): stop reason, sessions before stopping.
# Lost to follow-up is about one course in ten, with the patients who stop after one session.
STOP_ODDS = [
    (0.05, StopReason.NO_RESPONSE),
    (0.08, StopReason.PATIENT_CHOICE),
    (0.16, StopReason.LOST_TO_FOLLOW_UP),
    (0.172, StopReason.ADVERSE_EVENT),
]
GOAL_MET_ODDS = 0.2  # responders only, above the stops
DEVIATIONS = [
    (10, 14, "Multi-site chronic pain; the patient asked for a longer course after discussion."),
    (6, 7, "Weekly sessions as in the Klein 1993 protocol; the patient is only in the area for six weeks."),
    (4, 28, "Four-weekly on the referring rheumatologist's advice."),
    (6, 30, "Monthly visits: the patient travels from the islands."),
]
STOP_NOTES = {
    StopReason.NO_RESPONSE: "No change in pain after three sessions; referred back to physiotherapy.",
    StopReason.PATIENT_CHOICE: "Patient chose to stop: travel and work commitments.",
    StopReason.GOAL_MET: "Back to running; no further sessions wanted.",
    StopReason.LOST_TO_FOLLOW_UP: "Did not return calls after missing the next appointment.",
    StopReason.ADVERSE_EVENT: "Stopped after a post-injection reaction at the last session.",
}
DAY_START = datetime.time(9, 0)


def _lots(today):
    products = {p.name: p for p in Product.objects.filter(name__in={row[0] for row in LOTS})}
    lots = {}
    for product_name, number, months, recall_note in LOTS:
        # The recalled lot was in use before its recall, so past sessions drew from it.
        lot, _ = Lot.objects.get_or_create(
            product=products[product_name],
            lot_number=number,
            defaults={
                "expiry_date": today + datetime.timedelta(days=30 * months),
                "recalled": bool(recall_note),
                "recall_note": recall_note,
            },
        )
        lots[number] = lot
    return lots


def latest_screenings():
    """{patient id: latest screening}, with the severity catalogue read once."""
    screenings = Screening.prime_severities(Screening.objects.order_by("screened_on", "id"))
    return {screening.patient_id: screening for screening in screenings}


def treatable(patient, screening, lots):
    """Whether the app would inject this patient from the demo's lots (courses.safety): screened, nothing
    ruling injection out, no allergy to anything in them. Keeps the screening for check_gates()."""
    patient._demo_screening = screening
    return (
        screening is not None
        and not screening.blocks_injection
        and not safety.allergy_clashes(screening, list(lots))
    )


def injectable(patients, lots):
    """The patients of a list the app would inject from `lots` (courses.safety): for benchmark pools."""
    screenings = Screening.prime_severities(
        Screening.objects.filter(patient__in=patients).order_by("screened_on", "id")
    )
    latest = {screening.patient_id: screening for screening in screenings}
    return [patient for patient in patients if treatable(patient, latest.get(patient.pk), lots)]


def check_gates(session, mix, *, protocol, first):
    """Put a generated treatment through the app's own safety gates: a refusal is a generator bug; the
    cautions (precautions, a screening due) get the reason a practitioner would record."""
    gates = safety.injection_gates(
        screening=session.patient._demo_screening,
        protocol=protocol,
        day=timezone.localdate(session.starts_at),
        lots=[component.lot for component in mix],
        first_treatment=first,
        course=session.course,
    )
    if gates.refused:
        raise ValueError(f"The demo made a visit the app refuses: {gates.refusals[0].message}")
    if gates.cautions:
        session.screening_override_reason = (
            "Reviewed with the patient at the visit; no change since screening."
        )


def _decimal(value, places="0.1"):
    return Decimal(str(value)).quantize(Decimal(places))


def seed(*, users, rng, patients=None, stdout=None):
    """Courses with their past sessions for the demo patients; skipped when courses exist."""
    if TreatmentCourse.objects.exists():
        if stdout:
            stdout.write("Demo courses already present; skipped.")
        return
    today = timezone.localdate()
    practitioners = [users["practitioner"], users["dr.chen"], users["dr.patel"]]
    conditions = {c.name: c for c in Condition.objects.filter(name__in=CONDITIONS)}
    sites = {(s.region, s.name): s for s in InjectionSite.objects.all()}
    instruments = {i.code: i for i in OutcomeInstrument.objects.all()}
    terms = {t.name: t for t in SideEffectTerm.objects.all()}
    nrs = instruments[OutcomeInstrument.PAIN_NRS_CODE]
    lots = _lots(today)
    protocol = ProtocolSettings.load()
    diary = DemoDiary(rng, protocol, first_day=today - datetime.timedelta(days=3 * 365), last_day=today)

    deferred = set(
        Screening.objects.filter(
            outcome__in=[Screening.Outcome.DEFERRED, Screening.Outcome.NOT_ELIGIBLE]
        ).values_list("patient_id", flat=True)
    )
    consents = {}
    for consent in Consent.objects.order_by("consented_on"):
        consents[consent.patient_id] = consent
    screenings = latest_screenings()
    candidates = [
        p
        for p in Patient.objects.active().order_by("id")
        if p.pk in consents and p.pk not in deferred and treatable(p, screenings.get(p.pk), lots.values())
    ]
    names = list(CONDITIONS)
    weights = [CONDITIONS[name][0] for name in names]

    plans = []  # (course, course plan details)
    for patient in candidates:
        if rng.random() > 0.85:
            continue
        name = rng.choices(names, weights)[0]
        _, region, site_names, instrument_code, respond_chance = CONDITIONS[name]
        consent = consents[patient.pk]
        start = consent.consented_on + datetime.timedelta(days=rng.randint(0, 21))
        if rng.random() < 0.05:
            start = today + datetime.timedelta(days=rng.randint(3, 20))  # planned, not yet begun
        planned, interval, reason = rng.choice([3, 4, 5, 5, 6, 6, 6, 8]), rng.choice([14, 14, 21]), ""
        if rng.random() < 0.06:
            planned, interval, reason = rng.choice(DEVIATIONS)
        if region in SPINE_REGIONS:
            laterality = rng.choice(["midline", "bilateral"])
        elif region == "head":
            laterality = rng.choice(["left", "right", "bilateral"])
        else:
            laterality = rng.choice(["left", "right", "right", "left", "bilateral"])
        instrument = instruments.get(instrument_code) if instrument_code else None
        baseline_instrument = None
        if instrument is not None:
            low, high = INSTRUMENT_BASELINES[instrument.code]
            baseline_instrument = _decimal(rng.uniform(low, high))
        practitioner = patient.primary_practitioner or rng.choice(practitioners)
        course = TreatmentCourse(
            patient=patient,
            condition=conditions[name],
            body_region=region,
            laterality=laterality,
            practitioner=practitioner,
            planned_sessions=planned,
            interval_days=interval,
            outcome_instrument=instrument,
            baseline_pain=rng.choice([5, 6, 6, 7, 7, 7, 8, 8, 9]),
            baseline_instrument_score=baseline_instrument,
            goals=rng.choice(
                [
                    "Walk 5 km without pain",
                    "Sleep through the night",
                    "Return to tennis",
                    "Lift grandchildren",
                    "Work a full day at the desk",
                    "Garden without flare-ups",
                    "",
                ]
            ),
            consent=consent,
            start_date=start,
            deviation_reason=reason,
            status=CourseStatus.PLANNED,
            created_by=practitioner,
            created_at=timezone.make_aware(datetime.datetime.combine(consent.consented_on, DAY_START)),
        )
        course.full_clean()
        responds = rng.random() < respond_chance
        plans.append((course, site_names, responds))
    TreatmentCourse.objects.bulk_create([course for course, _, _ in plans])

    sessions, session_plans = [], []
    for course, site_names, responds in plans:
        gain, stop_reason, stop_after = stop_plan(course, responds, rng)
        count = min(stop_after or course.planned_sessions, course.planned_sessions)
        course_sessions = past_visits(course, count, gain, diary, today, rng, missed=sessions)
        sessions += course_sessions
        session_plans.append((course, site_names, course_sessions, gain, stop_reason, count))
    TreatmentSession.objects.bulk_create(sessions)

    preparations, components, injections, side_effects, scores = [], [], [], [], []
    injected = []  # (session, its injections) for placing the serious events
    for course, site_names, course_sessions, gain, stop_reason, count in session_plans:
        for index, session in enumerate(course_sessions):
            course_injections = _injections(course, session, site_names, sites, rng)
            injections += course_injections
            injected.append((session, course_injections))
            mixes = _preparations(session, course_injections, lots, rng)
            mix = [component for _, rows, _ in mixes for component in rows]
            check_gates(session, mix, protocol=protocol, first=index == 0)
            components += mix
            preparations_compute(session=session, mixes=mixes)
            preparations += [preparation for preparation, _, _ in mixes]
            reported = course_sessions[index + 1] if index + 1 < len(course_sessions) else session
            side_effects += _side_effects(session, reported, course_injections, terms, rng)
        _close(course, course_sessions, stop_reason, count, today)
        scores += _follow_ups(course, course_sessions, gain, nrs, today, rng)
    side_effects += serious_events(injected, terms, rng)
    TreatmentSession.objects.bulk_update(
        [s for s in sessions if s.status == SessionStatus.COMPLETED],
        [
            "final_dextrose_percent",
            "final_anaesthetic_percent",
            "total_volume_ml",
            "screening_override_reason",
        ],
        batch_size=500,
    )
    TreatmentCourse.objects.bulk_update(
        [course for course, *_ in session_plans],
        ["status", "stop_reason", "end_date", "closing_note"],
        batch_size=500,
    )
    Preparation.objects.bulk_create(preparations, batch_size=1000)
    PreparationComponent.objects.bulk_create(components, batch_size=1000)
    Injection.objects.bulk_create(injections, batch_size=1000)
    SideEffect.objects.bulk_create(side_effects, batch_size=1000)
    OutcomeScore.objects.bulk_create(scores, batch_size=1000)
    # Bulk inserts bypass the services: announce the change once, as they would (outcomes/refresh.py).
    announce(
        Change.TREATMENT, Change.SIDE_EFFECTS, Change.SCORES, courses=[course for course, *_ in session_plans]
    )
    if stdout:
        by_status = {
            status: sum(1 for course, *_ in session_plans if course.status == status)
            for status in CourseStatus.values
        }
        stdout.write(
            f"Demo courses: {len(plans)} ({', '.join(f'{n} {s}' for s, n in by_status.items())}), "
            f"{len(sessions)} past sessions, {len(injections)} injections, {len(side_effects)} side effects, "
            f"{len(scores)} follow-up scores."
        )


def past_visits(course, count, gain, diary, today, rng, *, missed):
    """The course's treatments given before today (at most `count`), placed by the demo diary
    (scheduling.demo.DemoDiary) as the front desk would have booked them; about one visit in twenty-five
    is missed first (a no-show or a cancellation, appended to `missed`) and rebooked a few days later."""
    given = []
    previous_day = None
    for sequence in range(1, count + 1):
        not_before = None
        if rng.random() < 0.04:
            starts, reason = diary.next_treatment(course, previous_day)
            if starts is None or timezone.localdate(starts) >= today:
                break
            missed.append(_missed_session(course, sequence, starts, rng, spacing_reason=reason))
            not_before = timezone.localdate(starts) + datetime.timedelta(days=rng.randint(3, 7))
        starts, reason = diary.next_treatment(
            course, previous_day, not_before=not_before, jitter=rng.choice([-1, 0, 0, 0, 1, 2])
        )
        if starts is None or timezone.localdate(starts) >= today:
            break
        if not_before is not None and missed[-1].status == SessionStatus.NO_SHOW:
            # The front desk called and rebooked: the no-show leaves the call-back list.
            missed[-1].no_show_follow_up = NoShowFollowUp.REBOOKED
            missed[-1].no_show_follow_up_at = missed[-1].starts_at + datetime.timedelta(hours=2)
            missed[-1].no_show_follow_up_by = course.created_by
        progress = sequence / course.planned_sessions
        pain = course.baseline_pain * (1 - gain * (progress - 1 / course.planned_sessions) * 1.1)
        pain_pre = max(0, min(10, round(pain + rng.choice([-1, 0, 0, 0, 1]))))
        if sequence == 1:
            pain_pre = course.baseline_pain
        session = _completed_session(course, sequence, starts, pain_pre, rng)
        session.spacing_override_reason = reason
        given.append(session)
        previous_day = timezone.localdate(starts)
    return given


def stop_plan(course, responds, rng):
    """How a course goes: (share of pain relieved by the end, stop reason or "", sessions before stopping)."""
    gain = rng.uniform(0.55, 0.92) if responds else rng.uniform(-0.1, 0.3)
    roll = rng.random()
    reason = next((reason for threshold, reason in STOP_ODDS if roll < threshold), "")
    if not reason and responds and roll < GOAL_MET_ODDS:
        reason = StopReason.GOAL_MET
    if reason == StopReason.NO_RESPONSE:
        return min(gain, 0.1), reason, 3
    if reason == StopReason.PATIENT_CHOICE:
        return gain, reason, rng.randint(1, 3)
    if reason == StopReason.LOST_TO_FOLLOW_UP:
        # Most patients lost never come back after their first treatment.
        return gain, reason, rng.choice([1, 1, 2])
    if reason == StopReason.ADVERSE_EVENT:
        return gain, reason, rng.randint(1, 2)
    if reason == StopReason.GOAL_MET:
        return gain, reason, max(2, course.planned_sessions - 2)
    return gain, "", None


def anaesthetic_use_for(course, rng):
    """The course's local-anaesthetic habit, chosen at its first session and kept for the others."""
    use = getattr(course, "_demo_anaesthetic_use", None)
    if use is None:
        use = (
            rng.choice(NO_ANAESTHETIC_USES)
            if rng.random() < NO_ANAESTHETIC_SHARE
            else AnaestheticUse.IN_PREPARATION
        )
        course._demo_anaesthetic_use = use
    return use


def _missed_session(course, sequence, starts, rng, *, spacing_reason=""):
    no_show = rng.random() < 0.6
    return TreatmentSession(
        spacing_override_reason=spacing_reason,
        course=course,
        patient=course.patient,
        sequence=sequence,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(minutes=30),
        practitioner=course.practitioner,
        status=SessionStatus.NO_SHOW if no_show else SessionStatus.CANCELLED,
        cancel_reason="" if no_show else rng.choice(["Patient unwell", "Car broke down", "Childcare"]),
        cancelled_at=None if no_show else starts - datetime.timedelta(days=1),
        no_show_at=starts + datetime.timedelta(minutes=15) if no_show else None,
        created_by=course.created_by,
        created_at=starts - datetime.timedelta(days=14),
    )


def _completed_session(course, sequence, starts, pain_pre, rng, *, anaesthetic_use=None):
    anaesthetic_use = anaesthetic_use or anaesthetic_use_for(course, rng)
    return TreatmentSession(
        course=course,
        patient=course.patient,
        sequence=sequence,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(minutes=30),
        practitioner=course.practitioner,
        status=SessionStatus.COMPLETED,
        pain_pre=pain_pre,
        pain_post=max(0, pain_pre - rng.randint(1, 4)) if rng.random() < 0.5 else None,
        guidance=Guidance.ULTRASOUND if rng.random() < 0.3 else Guidance.LANDMARK,
        anaesthetic_use=anaesthetic_use,
        took_nsaids=rng.random() < 0.1,
        took_anticoagulants=False,
        took_opioids=rng.random() < 0.04,
        aftercare_nsaid_avoid_days=rng.choice([3, 7, 7, 10, 14]),
        aftercare_no_ice_days=rng.choice([None, 3, 7]),
        aftercare_activity_restriction_days=rng.choice([None, 2, 3]),
        aftercare_heat=rng.random() < 0.5,
        checked_in_at=starts - datetime.timedelta(minutes=5),
        completed_at=starts + datetime.timedelta(minutes=25),
        completed_by=course.practitioner,
        created_by=course.created_by,
        created_at=starts - datetime.timedelta(days=14),
    )


def _injections(course, session, site_names, sites, rng):
    region = course.body_region
    chosen = rng.sample(site_names, k=rng.randint(min(2, len(site_names)), min(6, len(site_names))))
    sides = ["left", "right"] if course.laterality == "bilateral" else [course.laterality]
    rows = []
    for name in chosen:
        site = sites[(region, name)]
        for side in sides:
            if site.needs_spinal_level or region in SPINE_REGIONS:
                side = (
                    "midline"
                    if "interspinous" in name.lower()
                    else rng.choice(["left", "right", "bilateral"])
                )
            if site.structure_type == InjectionSite.StructureType.INTRA_ARTICULAR:
                volume = (
                    rng.choice([4, 5, 5, 6])
                    if region in {"knee", "hip", "shoulder"}
                    else rng.choice([0.5, 1])
                )
            elif region == "elbow_wrist_hand":
                volume = rng.choice([0.5, 0.5, 1])
            else:
                volume = rng.choice([0.5, 1, 1, 1.5, 2, 3])
            if problem := laterality_problem(site, side):
                raise ValueError(f"The demo made an injection the app refuses: {problem}")
            rows.append(
                Injection(
                    session=session,
                    site=site,
                    laterality=side,
                    spinal_level=rng.choice(SPINAL_LEVELS.get(region, [""]))
                    if site.needs_spinal_level
                    else "",
                    volume_ml=_decimal(volume, "0.01"),
                    needle_gauge=22 if region == "lumbar_pelvis" else rng.choice([25, 27, 27, 30]),
                    created_by=session.practitioner,
                    created_at=session.completed_at,
                )
            )
    return rows


def _preparations(session, injections, lots, rng):
    """The syringes holding what was injected: dextrose 50% stock, lidocaine 1% (when the session mixes a
    local anaesthetic in), saline to volume. A visit injecting inside a joint and around it draws up two,
    25% for inside and the usual strength around it (Rabago 2013): [(preparation, components, injections)]."""
    if not injections:
        return []
    dextrose_target = Decimal(str(rng.choice([12.5, 15, 15, 15, 20, 25])))
    lidocaine_target = Decimal(str(rng.choice([0.1, 0.2, 0.2, 0.25, 0.5])))
    day = session.starts_at.date()
    recalled_window = day.toordinal() % 29 == 0  # a few sessions drew from the lot recalled later
    lidocaine = lots["LD1-8025"] if recalled_window else lots["LD1-7731"]
    dextrose_lot = lots[rng.choice(["DX50-24117", "DX50-25032"])]
    inside = [i for i in injections if i.site.structure_type == InjectionSite.StructureType.INTRA_ARTICULAR]
    around = [i for i in injections if i not in inside]
    if inside and around:
        groups = [("Intra-articular", inside, Decimal("25")), ("Around the joint", around, dextrose_target)]
    else:
        groups = [("", injections, dextrose_target)]
    mixes = []
    for label, rows, target in groups:
        total = sum((i.volume_ml for i in rows), Decimal("0"))
        dextrose_ml = (total * target / 50).quantize(Decimal("0.01"))
        lidocaine_ml = max(Decimal("0.05"), (total * lidocaine_target).quantize(Decimal("0.01")))
        if session.anaesthetic_use != AnaestheticUse.IN_PREPARATION:
            lidocaine_ml = Decimal("0")
        saline_ml = total - dextrose_ml - lidocaine_ml
        parts = [(dextrose_lot, dextrose_ml), (lidocaine, lidocaine_ml)]
        if saline_ml > 0:
            parts.append((lots["NS-55102"], saline_ml))
        preparation = Preparation(
            session=session, label=label, created_by=session.practitioner, created_at=session.completed_at
        )
        components = [
            PreparationComponent(
                session=session,
                preparation=preparation,
                lot=lot,
                volume_ml=volume,
                created_by=session.practitioner,
                created_at=session.completed_at,
            )
            for lot, volume in parts
            if volume > 0
        ]
        mixes.append((preparation, components, rows))
    return mixes


def serious_events(injected, terms, rng):
    """SERIOUS_EVENTS placed on chosen completed sessions: `injected` is [(session, its injections)]."""
    rows = []
    taken = set()
    for (
        name,
        per_1000,
        grade,
        criterion,
        action,
        onset_days,
        resolve,
        intra_articular,
        note,
    ) in SERIOUS_EVENTS:
        candidates = [
            (session, injections)
            for session, injections in injected
            if id(session) not in taken
            and (
                not intra_articular
                or any(
                    i.site.structure_type == InjectionSite.StructureType.INTRA_ARTICULAR for i in injections
                )
            )
        ]
        if name not in terms or not candidates:
            continue
        for session, injections in rng.sample(
            candidates, k=min(len(candidates), max(1, round(len(injected) * per_1000 / 1000)))
        ):
            taken.add(id(session))
            site = (
                next(
                    (
                        i
                        for i in injections
                        if i.site.structure_type == InjectionSite.StructureType.INTRA_ARTICULAR
                    ),
                    None,
                )
                if intra_articular
                else None
            )
            onset = session.starts_at.date() + datetime.timedelta(days=rng.randint(*onset_days))
            rows.append(
                SideEffect(
                    reported_session=session,
                    attributed_session=session,
                    term=terms[name],
                    onset_date=onset,
                    resolved_date=onset + datetime.timedelta(days=rng.randint(*resolve)),
                    severity=grade,
                    serious=True,
                    serious_criterion=criterion,
                    site=site.site if site else None,
                    laterality=site.laterality if site else "",
                    action_taken=action,
                    outcome=SideEffect.Outcome.RESOLVED,
                    relatedness=SideEffect.Relatedness.RELATED,
                    notes=note,
                    created_by=session.practitioner,
                    created_at=session.completed_at,
                )
            )
    return rows


def _side_effects(session, reported, injections, terms, rng):
    rows = []
    day = session.starts_at.date()
    for name, chance, severities, resolve in SIDE_EFFECT_RATES:
        if rng.random() >= chance or name not in terms:
            continue
        onset = day + datetime.timedelta(days=rng.choice([0, 0, 1]))
        severity = rng.choice(severities)
        injection = rng.choice(injections) if injections else None
        rows.append(
            SideEffect(
                reported_session=reported,
                attributed_session=session,
                term=terms[name],
                onset_date=onset,
                resolved_date=onset + datetime.timedelta(days=rng.randint(*resolve)),
                severity=severity,
                site=injection.site if injection and name != "Vasovagal syncope" else None,
                laterality=injection.laterality if injection and name != "Vasovagal syncope" else "",
                action_taken=SideEffect.Action.ADVICE if severity == 1 else SideEffect.Action.MEDICATION,
                outcome=SideEffect.Outcome.RESOLVED,
                relatedness=SideEffect.Relatedness.RELATED,
                created_by=reported.practitioner,
                created_at=reported.completed_at or reported.starts_at,
            )
        )
    return rows


def _close(course, course_sessions, stop_reason, count, today):
    if not course_sessions:
        return  # not started yet: stays planned
    last_day = course_sessions[-1].starts_at.date()
    if stop_reason and len(course_sessions) >= count:
        course.status = CourseStatus.STOPPED
        course.stop_reason = stop_reason
        course.end_date = min(today, last_day + datetime.timedelta(days=course.interval_days))
        course.closing_note = STOP_NOTES[stop_reason]
    elif len(course_sessions) >= course.planned_sessions:
        course.status = CourseStatus.COMPLETED
        course.end_date = last_day
    else:
        course.status = CourseStatus.ACTIVE


def _instrument_score(course, achieved):
    """The course's instrument score when `achieved` of its room to improve (pain-wise) was reached."""
    instrument, base = course.outcome_instrument, course.baseline_instrument_score
    if instrument.higher_is_better:
        value = base + (instrument.max_score - base) * Decimal(str(achieved))
    else:
        value = base * (1 - Decimal(str(achieved)))
    return min(instrument.max_score, max(instrument.min_score, _decimal(value)))


def _follow_ups(course, course_sessions, gain, nrs, today, rng):
    """The outcome questionnaire at the last session of a closed course, then scores 6, 12, 26 and 52 weeks
    after the last session; some patients are lost along the way."""
    instrument = course.outcome_instrument
    tracked = instrument is not None and course.baseline_instrument_score is not None
    # Disability and function improve less than pain: a per-course share of the pain gain.
    share = rng.uniform(*INSTRUMENT_SHARE_OF_PAIN_GAIN)
    rows = []
    closed = course.status == CourseStatus.COMPLETED or (
        course.status == CourseStatus.STOPPED and course.stop_reason != StopReason.LOST_TO_FOLLOW_UP
    )
    if tracked and closed and len(course_sessions) >= 2 and rng.random() < END_OF_TREATMENT_INSTRUMENT:
        last = course_sessions[-1]
        achieved = 1 - last.pain_pre / course.baseline_pain if course.baseline_pain else 0
        value = _instrument_score(course, max(-0.2, achieved * share + rng.uniform(-0.05, 0.05)))
        score = _score(course, instrument, value, last.starts_at.date(), Timepoint.SESSION, "clinic")
        score.session = last
        rows.append(score)
    # Completed and goal-met courses are followed up; the clinic also phones about half of those stopped
    # early (no response, an adverse event, the patient's choice), who answer less often and gained less.
    stopped_early = course.status == CourseStatus.STOPPED and course.stop_reason not in (
        StopReason.GOAL_MET,
        StopReason.LOST_TO_FOLLOW_UP,
    )
    followed = course.status == CourseStatus.COMPLETED or course.stop_reason == StopReason.GOAL_MET
    if not followed and (not stopped_early or rng.random() < STOPPED_EARLY_NOT_FOLLOWED):
        return rows
    lost_each_time = 0.3 if stopped_early else 0.12
    last_day = course_sessions[-1].starts_at.date()
    for timepoint, weeks in FOLLOW_UP_WEEKS.items():
        on = last_day + datetime.timedelta(weeks=weeks)
        if on > today or rng.random() < lost_each_time:
            break  # not due yet, or lost to follow-up from here on
        # The effect holds to 6 weeks, then fades a little (Yelland 2004: 46 % ≥ 50 % better at 12 months).
        drift = {
            Timepoint.WEEK_6: 0.0,
            Timepoint.WEEK_12: -0.05,
            Timepoint.WEEK_26: -0.1,
            Timepoint.WEEK_52: -0.15,
        }
        achieved = max(-0.2, min(0.95, gain + drift[timepoint] + rng.uniform(-0.1, 0.1)))
        pain = max(0, min(10, round(course.baseline_pain * (1 - achieved))))
        source = rng.choice(
            [OutcomeScore.Source.CLINIC, OutcomeScore.Source.PHONE, OutcomeScore.Source.PATIENT]
        )
        rows.append(_score(course, nrs, pain, on, timepoint, source))
        if tracked:
            value = _instrument_score(course, max(-0.2, achieved * share + rng.uniform(-0.05, 0.05)))
            rows.append(_score(course, instrument, value, on, timepoint, source))
    return rows


def _score(course, instrument, value, on, timepoint, source):
    return OutcomeScore(
        course=course,
        instrument=instrument,
        score=_decimal(value),
        recorded_on=on,
        timepoint=timepoint,
        source=source,
        created_by=course.practitioner,
        created_at=timezone.make_aware(datetime.datetime.combine(on, datetime.time(12, 0))),
    )
