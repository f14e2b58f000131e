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
    Lot,
    PatientSideEffectReport,
    Preparation,
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
FOREIGN_KEYS = (
    "session",
    "reported_session",
    "preparation",
    "lot",
    "site",
    "term",
    "attributed_session",
    "created_by",
)
PREPARATION_FIELDS = ("label",)

TWO_PLACES = Decimal("0.01")
THREE_PLACES = Decimal("0.001")


# --- Preparation arithmetic ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparationStrengths:
    """What one syringe mix holds: its volume drawn up, its final dextrose (glucose) % and each local
    anaesthetic's own final %, as ((product name, %), ...) sorted by name."""

    volume_ml: Decimal | None
    final_dextrose_percent: Decimal | None
    anaesthetics: tuple = ()

    @property
    def final_anaesthetic_percent(self):
        """The strongest single agent's final % (0 when none is mixed in): agents are never added up."""
        if self.volume_ml is None:
            return None
        return max((percent for _, percent in self.anaesthetics), default=Decimal("0.000"))


def preparation_strengths(components):
    """Final strengths of one syringe mix: the rule the page, the exports, the API and the dashboards share.

    `components` are PreparationComponent rows (saved or not) or anything with `volume_ml` and
    `lot.product`. Final % of an agent = Σ(volume × stock %) over that agent's components / total volume.
    Dextrose counts every component's glucose (Product.glucose_content_percent: P2G's 12.5 % included).
    Each local anaesthetic product keeps its own %: 2 mL lidocaine 1 % in 10 mL is lidocaine 0.2 %.
    """
    total = Decimal("0")
    glucose = Decimal("0")
    amounts = {}
    for component in components:
        volume = Decimal(component.volume_ml)
        product = component.lot.product
        total += volume
        glucose += volume * product.glucose_content_percent
        if product.product_type == Product.ProductType.ANAESTHETIC:
            amount = volume * product.stock_concentration_percent
            amounts[product.name] = amounts.get(product.name, Decimal("0")) + amount
    if not total:
        return PreparationStrengths(None, None)
    return PreparationStrengths(
        volume_ml=total.quantize(TWO_PLACES, rounding=ROUND_HALF_UP),
        final_dextrose_percent=_final_percent(glucose, total, TWO_PLACES),
        anaesthetics=tuple(
            (name, _final_percent(amount, total, THREE_PLACES)) for name, amount in sorted(amounts.items())
        ),
    )


def anaesthetic_strengths(components):
    """{local-anaesthetic product name: its own final %} of one syringe mix (preparation_strengths)."""
    return dict(preparation_strengths(components).anaesthetics)


def session_strengths(preparations):
    """The session's figures from its preparations' strengths, as the dashboards band them: the strongest
    dextrose % injected and the strongest single anaesthetic's %; None when nothing was drawn up."""
    drawn = [strengths for strengths in preparations if strengths.volume_ml is not None]
    if not drawn:
        return PreparationStrengths(None, None)
    agents = {}
    for strengths in drawn:
        for name, percent in strengths.anaesthetics:
            agents[name] = max(agents.get(name, percent), percent)
    return PreparationStrengths(
        volume_ml=sum((s.volume_ml for s in drawn), Decimal("0")),
        final_dextrose_percent=max(s.final_dextrose_percent for s in drawn),
        anaesthetics=tuple(sorted(agents.items())),
    )


def overdrawn(preparations, injections):
    """The volume rule: what is injected from a preparation cannot exceed what was drawn up.

    `preparations` maps a key to the volume drawn up (None or 0: nothing drawn); `injections` are
    (key, volume) pairs. Returns {key: (drawn, injected)} for each preparation injected beyond its volume.
    """
    injected = {}
    for key, volume in injections:
        if key is not None and volume is not None:
            injected[key] = injected.get(key, Decimal("0")) + Decimal(volume)
    return {
        key: (preparations.get(key) or Decimal("0"), total)
        for key, total in injected.items()
        if total > (preparations.get(key) or Decimal("0"))
    }


def overdrawn_message(label, drawn, injected):
    return (
        f"{injected.normalize():f} mL injected from {label}, which holds {drawn.normalize():f} mL drawn up: "
        "check the volumes or the preparation each injection came from."
    )


def _final_percent(amount, total, places):
    """Σ(volume × stock %) / total volume, rounded half up: the final % of an agent in the mix."""
    return (amount / total).quantize(places, rounding=ROUND_HALF_UP)


def injected_volume(injections):
    """The session's total volume: what was injected across every site, or None before any injection."""
    volumes = [Decimal(injection.volume_ml) for injection in injections]
    return sum(volumes, Decimal("0")).quantize(TWO_PLACES) if volumes else None


def preparations_compute(*, session, mixes):
    """For the bulk seeders (courses.demo, clinic.scale_demo), which do not go through session_record:
    `mixes` is [(preparation, its components, its injections)]. Sets each preparation's and the session's
    strengths and the session's total volume with session_record's rules; raises ValueError when a
    preparation is overdrawn (a generator bug, as the page would refuse it)."""
    figures = []
    for preparation, components, injections in mixes:
        strengths = preparation_strengths(components)
        problem = overdrawn({0: strengths.volume_ml}, [(0, i.volume_ml) for i in injections])
        if problem:
            raise ValueError(f"The demo overdrew a preparation: {overdrawn_message('it', *problem[0])}")
        preparation.volume_ml = strengths.volume_ml
        preparation.final_dextrose_percent = strengths.final_dextrose_percent
        for row in [*components, *injections]:
            row.preparation = preparation
        figures.append(strengths)
    session_figures = session_strengths(figures)
    session.final_dextrose_percent = session_figures.final_dextrose_percent
    session.final_anaesthetic_percent = session_figures.final_anaesthetic_percent
    session.total_volume_ml = injected_volume([i for _, _, rows in mixes for i in rows])


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


class _Mixes:
    """The session's preparations during one save: the saved ones that stand, the new ones, and which
    preparation each new component and injection belongs to (errors keyed by row, as session_record's)."""

    def __init__(self, session, existing, new_rows, voids, recorded_by, errors):
        self.errors = errors
        voided = {preparation.pk for preparation, _ in voids}
        self.saved = [p for pk, p in existing["preparations"].items() if pk not in voided]
        self.by_key = {}
        self.new = []
        for index, row in new_rows:
            preparation = Preparation(
                session=session, created_by=recorded_by, label=(row.get("label") or "").strip()[:60]
            )
            self.by_key[str(row.get("key", index))] = preparation
            self.new.append(preparation)
        self.session, self.recorded_by = session, recorded_by
        # Voiding a preparation voids what was drawn into it; its injections must be voided by hand.
        self.cascade_voids = [
            (component, f"Its preparation was voided: {reason}")
            for preparation, reason in voids
            for component in existing["components"].values()
            if component.preparation_id == preparation.pk
        ]
        self.voided_component_ids = {component.pk for component, _ in self.cascade_voids}
        self.voided_preparation_ids = voided
        self.existing = existing

    @property
    def live(self):
        return self.saved + self.new

    def _resolve(self, kind, index, reference):
        if isinstance(reference, Preparation):
            if reference.pk in self.voided_preparation_ids:
                self._error(kind, index, "This preparation is being voided: choose another.")
            elif reference.pk not in self.existing["preparations"]:
                self._error(kind, index, "This preparation does not belong to the session; reload the page.")
            else:
                return self.existing["preparations"][reference.pk]
            return None
        if reference not in (None, ""):
            found = self.by_key.get(str(reference))
            if found is None:
                self._error(kind, index, "Choose one of the session's preparations.")
            return found
        if len(self.live) == 1:
            return self.live[0]
        return None

    def _error(self, kind, index, message):
        self.errors.setdefault(f"{kind}.{index}.preparation", []).append(message)

    def for_component(self, index, reference):
        preparation = self._resolve("components", index, reference)
        if preparation is None and reference in (None, "") and not self.live:
            # The first component of a visit without a preparation: the syringe starts here.
            preparation = Preparation(session=self.session, created_by=self.recorded_by)
            self.new.append(preparation)
        elif preparation is None and reference in (None, ""):
            self._error("components", index, "Choose the preparation this component goes into.")
        return preparation

    def for_injection(self, index, reference):
        preparation = self._resolve("injections", index, reference)
        if preparation is None and reference in (None, "") and len(self.live) > 1:
            self._error("injections", index, "Choose the preparation this injection came from.")
        return preparation

    def label(self, preparation):
        if preparation.label:
            return f"preparation “{preparation.label}”"
        return f"preparation {self.live.index(preparation) + 1}"

    def strengths(self, components):
        """{id(preparation): PreparationStrengths} of every standing preparation from `components`."""
        grouped = {id(p): [] for p in self.live}
        by_pk = {p.pk: p for p in self.saved}
        for component in components:
            preparation = (
                component.preparation if component.pk is None else by_pk.get(component.preparation_id)
            )
            if preparation is not None and id(preparation) in grouped:
                grouped[id(preparation)].append(component)
        return {key: preparation_strengths(rows) for key, rows in grouped.items()}

    def check_volumes(self, built_components, void_components, built_injections, void_injections):
        """The volume rule (overdrawn) on each preparation this save changes; older records are left as
        they were recorded."""
        voided = {c.pk for c, _ in void_components} | self.voided_component_ids
        voided_injections = {i.pk for i, _ in void_injections}
        components = [c for pk, c in self.existing["components"].items() if pk not in voided]
        components += [c for _, c in built_components]
        touched = {id(c.preparation) for _, c in built_components if c.preparation is not None}
        touched |= {id(i.preparation) for _, i in built_injections if i.preparation is not None}
        by_pk = {p.pk: p for p in self.saved}
        touched |= {id(by_pk[c.preparation_id]) for c, _ in void_components if c.preparation_id in by_pk}
        drawn = {key: figures.volume_ml for key, figures in self.strengths(components).items()}
        injected = [
            (id(by_pk[i.preparation_id]), i.volume_ml)
            for pk, i in self.existing["injections"].items()
            if pk not in voided_injections and i.preparation_id in by_pk
        ] + [(id(i.preparation), i.volume_ml) for _, i in built_injections if i.preparation is not None]
        for key, (volume, total) in overdrawn(drawn, injected).items():
            if key not in touched:
                continue
            preparation = next(p for p in self.live if id(p) == key)
            message = overdrawn_message(self.label(preparation), volume, total)
            rows = [index for index, i in built_injections if id(i.preparation) == key]
            for index in rows:
                self.errors.setdefault(f"injections.{index}.volume_ml", []).append(message)
            if not rows:
                self.errors.setdefault(NON_FIELD_ERRORS, []).append(message)
        for preparation in self.voided_preparation_ids:
            if any(
                i.preparation_id == preparation and pk not in voided_injections
                for pk, i in self.existing["injections"].items()
            ):
                self.errors.setdefault(NON_FIELD_ERRORS, []).append(
                    "A voided preparation's injections must be voided with it."
                )
                break


# The caller's prefetches of a session (the page's _load_session) that _standing_rows can stand on.
STANDING_ROWS = {
    "preparations": "preparations",
    "components": "components",
    "injections": "injections",
    "side_effects": "reported_side_effects",
}


def _standing_rows(current, loaded, locked_version):
    """{kind: {pk: row}} of the session's standing rows (components with their lot and product, side
    effects with the session they are attributed to).

    The page read them with the session just before this save took the session's lock: every save raises
    the version under that lock, so when the locked row (`locked_version`, as read under the lock) has the
    version the page read, nothing changed in between and the page's rows stand. Otherwise, or without
    them, they are read again here.
    """
    cache = getattr(loaded, "_prefetched_objects_cache", {})
    if loaded.version == locked_version and all(name in cache for name in STANDING_ROWS.values()):
        return {kind: {row.pk: row for row in cache[name]} for kind, name in STANDING_ROWS.items()}
    return {
        "preparations": {p.pk: p for p in current.preparations.all()},
        "components": {c.pk: c for c in current.components.select_related("lot__product")},
        "injections": {i.pk: i for i in current.injections.all()},
        "side_effects": {s.pk: s for s in current.reported_side_effects.select_related("attributed_session")},
    }


def _patient_reports(session, rows, errors):
    """The waiting patient reports that these new side-effect rows confirm, locked: {row index: report}."""
    wanted = {index: row["patient_report"] for index, row in rows if row.get("patient_report") is not None}
    if not wanted:
        return {}
    ids = {getattr(ref, "pk", ref) for ref in wanted.values()}
    locked = {r.pk: r for r in PatientSideEffectReport.objects.select_for_update().filter(pk__in=ids)}
    found, seen = {}, set()
    for index, ref in wanted.items():
        pk = getattr(ref, "pk", ref)
        report = locked.get(pk)
        problem = None
        if report is None or report.course_id != session.course_id:
            problem = "That patient report belongs to another course."
        elif report.status != PatientSideEffectReport.Status.PENDING:
            problem = report.decided_sentence
        elif pk in seen:
            problem = "Two rows confirm the same patient report: remove one of them."
        if problem:
            errors.setdefault(f"side_effects.{index}.{NON_FIELD_ERRORS}", []).append(problem)
            continue
        seen.add(pk)
        found[index] = report
    return found


def _patient_reports_decide(confirmed, side_effects, voided, by):
    """Mark the confirmed reports with the side effect each became; a report whose side effect is voided
    (entered in error) waits for the practitioner again. Row by row, so the audit trail records each."""
    now = timezone.now()
    for index, report in confirmed.items():
        report.status = PatientSideEffectReport.Status.CONFIRMED
        report.side_effect, report.decided_by, report.decided_at = side_effects[index], by, now
        report.save(update_fields=["status", "side_effect", "decided_by", "decided_at"])
    if voided:
        for report in PatientSideEffectReport.objects.filter(side_effect__in=[s.pk for s, _ in voided]):
            report.status = PatientSideEffectReport.Status.PENDING
            report.side_effect = report.decided_by = report.decided_at = None
            report.save(update_fields=["status", "side_effect", "decided_by", "decided_at"])


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
    preparations=(),
):
    """Save a whole session visit: its fields, new and voided rows, completion, computed totals.

    `data` holds the SESSION_FIELDS plus "complete" (bool) and "assessment_only" (bool: complete it as an
    assessment, nothing injected). Each row list holds dicts: a new row has its
    fields and no "id"; a saved row to void has "id" and "void_reason". `confirmations` maps a warning code
    ("screening", "spacing", "count") to the practitioner's reason.

    `preparations` lists the new syringe mixes ({"key": str, "label": str}) and saved ones to void. A new
    component or injection names its preparation in "preparation": a saved Preparation of this session, the
    key of a new one, or None when there is only one to choose (components without any preparation go into
    a new one). What each preparation's injections add up to may not exceed its volume drawn up (overdrawn).

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
    loaded, session = session, current
    if session.status in (SessionStatus.CANCELLED, SessionStatus.NO_SHOW):
        raise ValidationError(f"A {session.get_status_display().lower()} session cannot be logged.")

    errors = {}
    complete = bool(data.get("complete"))
    for field in SESSION_FIELDS:
        if field in data:
            setattr(session, field, data[field])
    session.version = expected_version + 1

    existing = _standing_rows(session, loaded, expected_version)
    new_preparations, void_preparations = _voids(
        "preparations", preparations, existing["preparations"], errors
    )
    new_components, void_components = _voids("components", components, existing["components"], errors)
    new_injections, void_injections = _voids("injections", injections, existing["injections"], errors)
    new_side_effects, void_side_effects = _voids(
        "side_effects", side_effects, existing["side_effects"], errors
    )

    day = session_day(session)
    mixes = _Mixes(session, existing, new_preparations, void_preparations, recorded_by, errors)
    built_components = []
    for index, row in new_components:
        component = PreparationComponent(
            session=session, created_by=recorded_by, **{f: row.get(f) for f in COMPONENT_FIELDS}
        )
        component.preparation = mixes.for_component(index, row.get("preparation"))
        if component.lot_id and (reason := component.lot.unusable_reason(day)):
            errors.setdefault(f"components.{index}.lot", []).append(
                f"{component.lot} cannot be used: {reason}."
            )
        built_components.append((index, component))
    built_injections = []
    for index, row in new_injections:
        values = {f: row.get(f) for f in INJECTION_FIELDS}
        values["spinal_level"] = (values["spinal_level"] or "").strip()
        injection = Injection(session=session, created_by=recorded_by, **values)
        injection.preparation = mixes.for_injection(index, row.get("preparation"))
        built_injections.append((index, injection))
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
    confirmed_reports = _patient_reports(session, new_side_effects, errors)

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
    if not errors:
        mixes.check_volumes(built_components, void_components, built_injections, void_injections)
    if errors:
        raise ValidationError(errors)

    voided_ids = {
        "components": {c.pk for c, _ in void_components} | mixes.voided_component_ids,
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

    strengths = mixes.strengths(all_components)
    figures = session_strengths(strengths.values())
    session.final_dextrose_percent = figures.final_dextrose_percent
    session.final_anaesthetic_percent = figures.final_anaesthetic_percent
    session.total_volume_ml = injected_volume(all_injections)
    session.save()

    for instance, reason in void_components + mixes.cascade_voids + void_injections + void_side_effects:
        instance.void(by=recorded_by, reason=reason)
    for preparation, reason in void_preparations:
        preparation.void(by=recorded_by, reason=reason)
    # Row by row, so the audit trail (which listens to saves) records each entry.
    for preparation in mixes.live:
        figures = strengths.get(id(preparation)) or PreparationStrengths(None, None)
        if preparation.pk is None or (preparation.volume_ml, preparation.final_dextrose_percent) != (
            figures.volume_ml,
            figures.final_dextrose_percent,
        ):
            preparation.volume_ml = figures.volume_ml
            preparation.final_dextrose_percent = figures.final_dextrose_percent
            preparation.save()
    for _, row in built_components + built_injections + built_side_effects:
        row.save()
    _patient_reports_decide(confirmed_reports, dict(built_side_effects), void_side_effects, recorded_by)

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


# --- Repeat the last treatment -------------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatPlan:
    """The course's previous treatment as initial data for a new visit's forms (nothing is saved).

    `preparations`: [{"label", "components": [{"lot", "volume_ml", "product", "note"}]}]; a component whose
    lot cannot be used today has a usable lot of the same product instead, or None with the note saying so.
    `injections`: the INJECTION_FIELDS plus "preparation", the index of its preparation (or None).
    """

    source: object  # the TreatmentSession repeated, or None when the course has no earlier treatment
    preparations: list
    injections: list
    notes: list


def repeat_last_treatment(session):
    """What the course's previous treatment drew up and injected, with each lot swapped for one usable on
    this visit's day (Lot.objects.usable_on; the soonest to expire first) where it no longer is."""
    day = session_day(session)
    earlier = [
        s
        for s in timeline.treatments(
            TreatmentSession.objects.filter(course_id=session.course_id).exclude(pk=session.pk)
        )
        if s.starts_at < session.starts_at
    ]
    if not earlier:
        return RepeatPlan(None, [], [], ["This course has no earlier treatment to repeat."])
    source = earlier[-1]
    preparations = list(source.preparations.all())
    components = list(source.components.select_related("lot__product"))
    injections = list(source.injections.select_related("site"))
    usable = {}
    products = {c.lot.product_id for c in components}
    for lot in Lot.objects.usable_on(day).filter(product_id__in=products).order_by("expiry_date", "pk"):
        usable.setdefault(lot.product_id, lot)
    notes = []
    index_of = {preparation.pk: index for index, preparation in enumerate(preparations)}
    planned = [{"label": p.label, "components": []} for p in preparations]
    for component in components:
        lot, note = component.lot, ""
        if reason := lot.unusable_reason(day) or ("" if lot.product.active else "product withdrawn"):
            lot = usable.get(lot.product_id)
            if lot is None:
                note = (
                    f"{component.lot} cannot be used ({reason}) and no other lot of "
                    f"{component.lot.product.name} is usable: choose a lot."
                )
            else:
                note = f"Lot {component.lot.lot_number} {reason}: lot {lot.lot_number} put in its place."
            notes.append(note)
        target = index_of.get(component.preparation_id)
        if target is None:  # a record from before preparations: one syringe
            planned.append({"label": "", "components": []})
            index_of[component.preparation_id] = target = len(planned) - 1
        planned[target]["components"].append(
            {"lot": lot, "volume_ml": component.volume_ml, "product": component.lot.product, "note": note}
        )
    order = [index for index, preparation in enumerate(planned) if preparation["components"]]
    kept = {old: new for new, old in enumerate(order)}
    planned = [planned[index] for index in order]
    rows = []
    for injection in injections:
        row = {field: getattr(injection, field) for field in INJECTION_FIELDS}
        row["preparation"] = kept.get(index_of.get(injection.preparation_id))
        rows.append(row)
    return RepeatPlan(source, planned, rows, notes)


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
