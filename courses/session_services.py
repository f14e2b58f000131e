"""Recording a treatment session: the preparation, the injections and the side effects, in one save."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.changes import Change, announce
from courses import safety, timeline
from courses.models import (
    CourseStatus,
    Injection,
    PreparationComponent,
    Product,
    ProtocolSettings,
    SessionStatus,
    SideEffect,
    TreatmentSession,
)
from courses.safety import latest_screening
from scheduling import diary

# Session fields the practitioner types on the logging page.
SESSION_FIELDS = (
    "pain_pre",
    "pain_post",
    "guidance",
    "anaesthetic_use",
    "took_nsaids",
    "took_anticoagulants",
    "took_opioids",
    "medication_notes",
    "aftercare_nsaid_avoid_days",
    "aftercare_no_ice_days",
    "aftercare_activity_restriction_days",
    "aftercare_heat",
    "aftercare_notes",
    "notes",
)
COMPONENT_FIELDS = ("lot", "volume_ml")
INJECTION_FIELDS = ("site", "laterality", "spinal_level", "volume_ml", "needle_gauge", "passes")
SIDE_EFFECT_FIELDS = (
    "attributed_session",
    "term",
    "onset_date",
    "resolved_date",
    "severity",
    "serious",
    "serious_criterion",
    "site",
    "laterality",
    "action_taken",
    "outcome",
    "relatedness",
    "notes",
)
FOREIGN_KEYS = ("session", "reported_session", "lot", "site", "term", "attributed_session", "created_by")

TWO_PLACES = Decimal("0.01")
THREE_PLACES = Decimal("0.001")


# --- Preparation arithmetic ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparationSummary:
    volume_ml: Decimal | None
    final_dextrose_percent: Decimal | None
    final_anaesthetic_percent: Decimal | None


def preparation_summary(components):
    """Final concentrations of a syringe mix.

    `components` are PreparationComponent rows (saved or not) or anything with `volume_ml` and
    `lot.product`. Final % of an agent = Σ(volume × stock %) over that agent's components / total volume.
    """
    total = Decimal("0")
    dextrose = Decimal("0")
    anaesthetic = Decimal("0")
    for component in components:
        volume = Decimal(component.volume_ml)
        product = component.lot.product
        total += volume
        if product.product_type == Product.ProductType.DEXTROSE:
            dextrose += volume * product.stock_concentration_percent
        elif product.product_type == Product.ProductType.ANAESTHETIC:
            anaesthetic += volume * product.stock_concentration_percent
    if not total:
        return PreparationSummary(None, None, None)
    return PreparationSummary(
        volume_ml=total.quantize(TWO_PLACES, rounding=ROUND_HALF_UP),
        final_dextrose_percent=_final_percent(dextrose, total, TWO_PLACES),
        final_anaesthetic_percent=_final_percent(anaesthetic, total, THREE_PLACES),
    )


def anaesthetic_strengths(components):
    """{local-anaesthetic product name: its own final %} of a syringe mix (the research export's per-agent
    columns).

    The same rule as `preparation_summary`, kept per product: 1 mL lidocaine 1 % and 1 mL bupivacaine 0.5 %
    with 3 mL dextrose are lidocaine 0.2 % and bupivacaine 0.1 %. The summary's anaesthetic % adds agents up,
    which describes no agent's dose, so it is never used per agent.
    """
    total = Decimal("0")
    amounts = {}
    for component in components:
        volume = Decimal(component.volume_ml)
        product = component.lot.product
        total += volume
        if product.product_type == Product.ProductType.ANAESTHETIC:
            amount = volume * product.stock_concentration_percent
            amounts[product.name] = amounts.get(product.name, Decimal("0")) + amount
    if not total:
        return {}
    return {name: _final_percent(amount, total, THREE_PLACES) for name, amount in amounts.items()}


def _final_percent(amount, total, places):
    """Σ(volume × stock %) / total volume, rounded half up: the final % of an agent in the mix."""
    return (amount / total).quantize(places, rounding=ROUND_HALF_UP)


def injected_volume(injections):
    """The session's total volume: what was injected across every site, or None before any injection."""
    volumes = [Decimal(injection.volume_ml) for injection in injections]
    return sum(volumes, Decimal("0")).quantize(TWO_PLACES) if volumes else None


# --- Warnings that need a recorded reason -------------------------------------------------------------


@dataclass(frozen=True)
class SessionWarning:
    code: str  # "screening", "spacing" or "count": names the confirmation and the reason field
    title: str
    details: tuple

    @property
    def reason_field(self):
        return f"{self.code}_override_reason"


class SessionConflict(Exception):
    """The session changed since the practitioner opened it."""

    def __init__(self, *, changed_by, changed_at):
        self.changed_by = changed_by
        self.changed_at = changed_at
        when = timezone.localtime(changed_at).strftime("%H:%M") if changed_at else "a moment ago"
        who = (changed_by.get_full_name() or changed_by.get_username()) if changed_by else "someone else"
        super().__init__(
            f"This session was changed by {who} at {when} — reload to see their changes; "
            "your entries are kept below."
        )


class ConfirmationRequired(Exception):
    """The save is valid but crosses a clinical warning that needs a recorded reason first."""

    def __init__(self, warnings):
        self.warnings = warnings
        super().__init__("; ".join(warning.title for warning in warnings))


def session_day(session):
    return timezone.localtime(session.starts_at).date()


def allergy_clashes(screening, lots):
    """In words, the allergies on the screening that a lot in the syringe would trigger (courses.safety)."""
    return [words for _, words in safety.allergy_clashes(screening, lots)]


def session_gates(*, session, screening, protocol, lots, first_treatment):
    """The safety gates (courses.safety) for injecting `lots` at this visit, judged on its day."""
    return safety.injection_gates(
        screening=screening,
        protocol=protocol,
        day=session_day(session),
        lots=lots,
        first_treatment=first_treatment,
        course=session.course,
    )


def session_warnings(*, session, gates, protocol, previous, completed_before, completing):
    """Warnings for this save. `completing` means the save completes the session for the first time.

    `gates` are the injection's safety gates (None when nothing is injected): their refusals are not
    warnings, no reason lets them through; their cautions are. All inputs are loaded: no queries.
    """
    warnings = []
    day = session_day(session)
    if gates is not None and gates.cautions:
        warnings.append(SessionWarning("screening", "Injecting needs a screening override", gates.cautions))
    if completing and not session.assessment_only:
        course = session.course
        if previous is not None:
            # Judged on the days the treatments were actually given (courses.timeline's window).
            window = timeline.spacing_window(course, protocol)
            gap = (day - session_day(previous)).days
            fits, words = window.judge(gap)
            if not fits:
                warnings.append(
                    SessionWarning(
                        "spacing",
                        "Outside the course's spacing window",
                        (
                            f"{words}: treatment {previous.sequence} was given on "
                            f"{session_day(previous):%d %b %Y}.",
                        ),
                    )
                )
        if completed_before + 1 > course.planned_sessions:
            warnings.append(
                SessionWarning(
                    "count",
                    "More treatments than planned",
                    (
                        f"Completing this makes {completed_before + 1} treatments given; "
                        f"the course is planned for {course.planned_sessions}.",
                    ),
                )
            )
    return warnings


# --- The save -------------------------------------------------------------------------------------------


def _last_editor(session):
    """Who most probably made the session's latest change: the newest author among its rows."""
    candidates = []
    if session.completed_at:
        candidates.append((session.completed_at, session.completed_by))
    for model, link in (
        (PreparationComponent, "session"),
        (Injection, "session"),
        (SideEffect, "reported_session"),
    ):
        rows = model.all_objects.filter(**{link: session}).select_related("created_by", "voided_by")
        for row in rows.order_by("-created_at")[:1]:
            candidates.append((row.created_at, row.created_by))
        for row in rows.filter(voided_at__isnull=False).order_by("-voided_at")[:1]:
            candidates.append((row.voided_at, row.voided_by))
    candidates = [c for c in candidates if c[1] is not None]
    return max(candidates, key=lambda c: c[0])[1] if candidates else None


def _row_errors(errors, kind, index, error):
    for field, messages in (
        error.message_dict.items() if hasattr(error, "error_dict") else [(NON_FIELD_ERRORS, error.messages)]
    ):
        errors.setdefault(f"{kind}.{index}.{field}", []).extend(messages)


def _voids(kind, rows, existing, errors):
    """Split `rows` into new rows and (instance, reason) pairs to void."""
    new, voids = [], []
    for index, row in enumerate(rows):
        if not row.get("id"):
            new.append((index, row))
            continue
        instance = existing.get(row["id"])
        if instance is None:
            errors.setdefault(f"{kind}.{index}.{NON_FIELD_ERRORS}", []).append(
                "This entry no longer belongs to the session; reload the page."
            )
        elif not (row.get("void_reason") or "").strip():
            errors.setdefault(f"{kind}.{index}.void_reason", []).append("Say why this entry is voided.")
        else:
            voids.append((instance, row["void_reason"].strip()))
    return new, voids


def _refusal_errors(gates, built_components):
    """Refusals as errors: an allergy beside the new syringe row it is about, the rest above the form."""
    errors = {}
    rows = {id(component.lot): index for index, component in built_components}
    for refusal in gates.refusals:
        index = rows.get(id(refusal.lot)) if refusal.lot is not None else None
        key = f"components.{index}.lot" if index is not None else NON_FIELD_ERRORS
        errors.setdefault(key, []).append(refusal.message)
    return errors


@transaction.atomic
def session_record(
    *,
    session,
    data,
    components,
    injections,
    side_effects,
    recorded_by,
    expected_version,
    confirmations,
):
    """Save a whole session visit: its fields, new and voided rows, completion, computed totals.

    `data` holds the SESSION_FIELDS plus "complete" (bool) and "assessment_only" (bool: complete it as an
    assessment, nothing injected). Each row list holds dicts: a new row has its
    fields and no "id"; a saved row to void has "id" and "void_reason". `confirmations` maps a warning code
    ("screening", "spacing", "count") to the practitioner's reason.

    Raises SessionConflict when `expected_version` is stale, ValidationError keyed by session field or by
    "<kind>.<row index>.<field>" (also for an injection the safety gates refuse: courses.safety, no reason
    or role overrides it), and ConfirmationRequired when a warning still lacks its reason.
    Nothing is saved in any of those cases.
    """
    # The row lock is the optimistic-lock claim: a concurrent save of the same session waits here until
    # this transaction ends, then reads the version this one wrote and is refused as a conflict.
    current = (
        TreatmentSession.objects.select_for_update(of=("self",))
        .select_related("course__condition", "course__consent", "patient", "completed_by")
        .get(pk=session.pk)
    )
    if current.version != expected_version:
        raise SessionConflict(changed_by=_last_editor(current), changed_at=current.updated_at)
    session = current
    if session.status in (SessionStatus.CANCELLED, SessionStatus.NO_SHOW):
        raise ValidationError(f"A {session.get_status_display().lower()} session cannot be logged.")

    errors = {}
    complete = bool(data.get("complete"))
    for field in SESSION_FIELDS:
        if field in data:
            setattr(session, field, data[field])
    session.version = expected_version + 1

    existing = {
        "components": {c.pk: c for c in session.components.select_related("lot__product")},
        "injections": {i.pk: i for i in session.injections.all()},
        "side_effects": {s.pk: s for s in session.reported_side_effects.select_related("attributed_session")},
    }
    new_components, void_components = _voids("components", components, existing["components"], errors)
    new_injections, void_injections = _voids("injections", injections, existing["injections"], errors)
    new_side_effects, void_side_effects = _voids(
        "side_effects", side_effects, existing["side_effects"], errors
    )

    day = session_day(session)
    built_components = []
    for index, row in new_components:
        component = PreparationComponent(
            session=session, created_by=recorded_by, **{f: row.get(f) for f in COMPONENT_FIELDS}
        )
        if component.lot_id and (reason := component.lot.unusable_reason(day)):
            errors.setdefault(f"components.{index}.lot", []).append(
                f"{component.lot} cannot be used: {reason}."
            )
        built_components.append((index, component))
    built_injections = []
    for index, row in new_injections:
        values = {f: row.get(f) for f in INJECTION_FIELDS}
        values["spinal_level"] = (values["spinal_level"] or "").strip()
        built_injections.append((index, Injection(session=session, created_by=recorded_by, **values)))
    built_side_effects = []
    for index, row in new_side_effects:
        values = {f: row.get(f) for f in SIDE_EFFECT_FIELDS}
        for text in ("serious_criterion", "laterality", "notes"):
            values[text] = values[text] or ""
        values["serious"] = bool(values["serious"])
        side_effect = SideEffect(reported_session=session, created_by=recorded_by, **values)
        attributed = values["attributed_session"]
        if attributed is not None and not timeline.may_be_attributed(session, attributed):
            errors.setdefault(f"side_effects.{index}.attributed_session", []).append(
                "Attribute it to this visit or an earlier treatment of this patient."
            )
        elif problem := timeline.onset_problem(attributed, values["onset_date"]):
            errors.setdefault(f"side_effects.{index}.onset_date", []).append(problem)
        built_side_effects.append((index, side_effect))

    # Field validators and clean() run here. Foreign keys arrive as loaded catalogue rows and the
    # CheckConstraints mirror the validators and are enforced by the database in this same transaction, so
    # neither is re-queried: validation reads nothing more however many rows the visit has.
    for kind, built, required in (
        ("components", built_components, ("lot",)),
        ("injections", built_injections, ("site",)),
        ("side_effects", built_side_effects, ("term", "attributed_session")),
    ):
        for index, row in built:
            for field in required:
                if getattr(row, f"{field}_id") is None:
                    errors.setdefault(f"{kind}.{index}.{field}", []).append("This field is required.")
            try:
                row.full_clean(exclude=[*FOREIGN_KEYS, *required], validate_constraints=False)
            except ValidationError as error:
                _row_errors(errors, kind, index, error)
        if kind == "components":
            for index, component in built:
                if component.volume_ml is not None and component.volume_ml > 200:
                    errors.setdefault(f"components.{index}.volume_ml", []).append(
                        "A component is at most 200 mL."
                    )

    first_completion = complete and session.status != SessionStatus.COMPLETED
    if first_completion and session_day(session) > timezone.localdate():
        # A visit happens when it happens: a visit booked for a later day is moved to now first (the diary
        # service, with its guards), so it is dated, numbered and spaced by the day it was given.
        raise ValidationError(
            f"This visit is booked for {session_day(session):%a %d %b %Y}. If the patient is here now, "
            "choose “The patient is here now” to move the visit to now, then complete it.",
            code="not_today",
        )
    if first_completion:
        session.status = SessionStatus.COMPLETED
        session.completed_at = timezone.now()
        session.completed_by = recorded_by
    try:
        # The session's relations are loaded rows, and its constraints mirror clean() and the validators.
        session.full_clean(
            exclude=["course", "patient", "practitioner", "completed_by", "created_by"],
            validate_constraints=False,
        )
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)

    voided_ids = {
        "components": {c.pk for c, _ in void_components},
        "injections": {i.pk for i, _ in void_injections},
    }
    kept_components = [c for pk, c in existing["components"].items() if pk not in voided_ids["components"]]
    kept_injections = [i for pk, i in existing["injections"].items() if pk not in voided_ids["injections"]]
    all_components = kept_components + [c for _, c in built_components]
    all_injections = kept_injections + [i for _, i in built_injections]

    protocol = ProtocolSettings.load()
    # The course's other visits, once: the treatments given (how many, which came last before this one),
    # and the visits to number again when this one is completed.
    others = list(
        TreatmentSession.objects.filter(course_id=session.course_id)
        .exclude(pk=session.pk)
        .order_by("starts_at")
    )
    given_others = timeline.treatments(others)
    earlier = [s for s in given_others if s.starts_at < session.starts_at]
    # A later edit that adds no syringe or site (notes, a side effect) is not a new injection.
    injecting = bool(built_components or built_injections) or (
        first_completion and bool(all_components or all_injections)
    )
    if first_completion and data.get("assessment_only"):
        if all_components or all_injections:
            raise ValidationError(
                "An assessment records nothing injected: remove the preparation and injections "
                "(or void the saved ones), or complete the session as a treatment."
            )
        session.assessment_only = True
    elif injecting and session.assessment_only:
        raise ValidationError("This visit was completed as an assessment: nothing can be injected on it.")
    gates = None
    if injecting:
        gates = session_gates(
            session=session,
            screening=latest_screening(session.patient),
            protocol=protocol,
            lots=[c.lot for c in all_components],
            first_treatment=not earlier,
        )
        if gates.refused:
            raise ValidationError(_refusal_errors(gates, built_components))
    warnings = session_warnings(
        session=session,
        gates=gates,
        protocol=protocol,
        previous=earlier[-1] if earlier else None,
        completed_before=len(given_others),
        completing=first_completion,
    )
    missing = []
    for warning in warnings:
        reason = (confirmations.get(warning.code) or "").strip()
        if not reason and not getattr(session, warning.reason_field):
            missing.append(warning)
        elif reason:
            setattr(session, warning.reason_field, reason[:300])
    if missing:
        raise ConfirmationRequired(missing)

    summary = preparation_summary(all_components)
    session.final_dextrose_percent = summary.final_dextrose_percent
    session.final_anaesthetic_percent = summary.final_anaesthetic_percent
    session.total_volume_ml = injected_volume(all_injections)
    session.save()

    for instance, reason in void_components + void_injections + void_side_effects:
        instance.void(by=recorded_by, reason=reason)
    # Row by row, so the audit trail (which listens to saves) records each entry.
    for _, row in built_components + built_injections + built_side_effects:
        row.save()

    course = session.course
    changes = [Change.TREATMENT, Change.SIDE_EFFECTS]
    if first_completion and not session.assessment_only and course.status == CourseStatus.PLANNED:
        # The first treatment starts the course (courses.timeline).
        course.status = CourseStatus.ACTIVE
        course.save(update_fields=["status", "updated_at"])
        changes.append(Change.STATUS)
    if first_completion:
        # Treatments given are numbered in the order given, before the visits still booked.
        diary.visits_renumber(course, sessions=[*others, session])
    # A side effect may be put down to a treatment of another of the patient's courses: that course's
    # figures change too.
    affected = {course.pk} | {
        row.attributed_session.course_id for _, row in built_side_effects if row.attributed_session_id
    }
    affected |= {instance.attributed_session.course_id for instance, _ in void_side_effects}
    announce(*changes, courses=affected)
    return session


def next_appointment(session):
    """The course's next scheduled or checked-in session after this one, or None."""
    return (
        TreatmentSession.objects.filter(
            course_id=session.course_id,
            status__in=(SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN),
            starts_at__gt=session.starts_at,
        )
        .select_related("practitioner")
        .order_by("starts_at")
        .first()
    )


def handout_days(session):
    """The longest restriction advised, so the handout can say when normal life resumes."""
    days = [
        d
        for d in (
            session.aftercare_nsaid_avoid_days,
            session.aftercare_no_ice_days,
            session.aftercare_activity_restriction_days,
        )
        if d
    ]
    return max(days) if days else 0


def resume_date(session):
    days = handout_days(session)
    return session_day(session) + datetime.timedelta(days=days) if days else None
