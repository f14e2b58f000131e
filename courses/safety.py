"""Safety gates before an injection: the one place that says what rules it out and what needs a reason.

Absolute (a refusal: no role can override it; the visit is completed as an assessment or cancelled):
- a screening condition the catalogue marks absolute (patients.ScreeningCondition, changed by clinic
  admins in the Django admin; seeded from DOMAIN.md section 7: infection, acute gout, recent fracture and
  an unexplained mass at the site);
- a screening outcome of "deferred" or "not eligible": the practitioner's own decision for this patient,
  cleared only by screening again, whatever the conditions ticked;
- an allergy to anything in the syringe: the products' ingredients and excipients (corn-derived
  dextrose, fish-derived morrhuate, local anaesthetics, latex stoppers, paraben preservatives of
  multi-dose vials, and the other ingredients listed against the patient's other allergies);
- the first treatment of a course with no consent on file that covers it.

Relative (injection allowed with a recorded reason, TreatmentSession.screening_override_reason):
conditions the catalogue marks relative, no screening on record, or a screening older than the protocol
allows.

The session save (courses.session_services), the session page, the alerts banner (patient, course, booking
and session pages) and the demo generators all ask these functions.
"""

import re
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.text import capfirst

from courses import timeline
from patients.models import Consent, Screening

# (screening allergy field, does this lot contain it?, what the lot contains, in words)
ALLERGENS = (
    ("allergy_corn_dextrose", lambda lot: lot.product.corn_derived, "is corn-derived (dextrose / glucose)"),
    ("allergy_fish", lambda lot: lot.product.fish_derived, "is fish-derived"),
    ("allergy_local_anaesthetic", lambda lot: lot.product.local_anaesthetic, "contains a local anaesthetic"),
    ("allergy_latex", lambda lot: lot.product.latex, "has natural rubber latex (vial stopper)"),
    ("allergy_parabens", lambda lot: lot.contains_parabens, "is preserved with parabens (multi-dose vial)"),
)


@dataclass(frozen=True)
class Refusal:
    kind: str  # "screening", "allergy" or "consent"
    message: str
    lot: object = None  # the lot an allergy refusal is about


@dataclass(frozen=True)
class Gates:
    refusals: tuple = ()  # absolute: nothing may be injected
    cautions: tuple = ()  # relative: injecting needs a recorded reason

    @property
    def refused(self):
        return bool(self.refusals)


def _other_allergens(screening):
    """The words of the free-text 'other allergies' worth matching against ingredient lists."""
    terms = (term.strip() for term in re.split(r"[,;/]| and ", screening.allergy_other.lower()))
    return [term for term in terms if len(term) > 3]


def allergy_clashes(screening, lots):
    """(lot, words) for every allergy on the screening that a lot in the syringe would trigger."""
    clashes = []
    if screening is None:
        return clashes
    others = _other_allergens(screening)
    for lot in lots:
        for allergy, contains, what in ALLERGENS:
            if getattr(screening, allergy) and contains(lot):
                label = Screening._meta.get_field(allergy).verbose_name
                clashes.append((lot, f"{label}: {lot.product.name} lot {lot.lot_number} {what}"))
        # The product's name counts too: "lidocaine" typed as another allergy is a lidocaine product.
        ingredients = f"{lot.product.name} {lot.product.other_ingredients}".lower()
        for term in others:
            if term in ingredients:
                clashes.append(
                    (lot, f"allergy to {term}: {lot.product.name} lot {lot.lot_number} contains it")
                )
    return clashes


def latest_screening(patient, *related):
    """The patient's latest screening, with `related` (e.g. "screened_by") joined in."""
    screenings = Screening.objects.filter(patient=patient).order_by("-screened_on", "-id")
    # select_related() without names would follow every foreign key.
    return (screenings.select_related(*related) if related else screenings).first()


def covering_consent(course, day):
    """The consent on file that covers treating `course` on `day`, or None.

    The consent linked to the course when there is one (not voided, signed on or before the day);
    otherwise the patient's latest consent signed on or before the day. Reads the course's consent as
    loaded (select_related it) and queries only when none is linked.
    """
    if course.consent_id:
        consent = course.consent
        return consent if consent.voided_at is None and consent.consented_on <= day else None
    return (
        Consent.objects.filter(patient_id=course.patient_id, consented_on__lte=day)
        .order_by("-consented_on", "-id")
        .first()
    )


def consent_refusal(course, day):
    """Why the first treatment of `course` on `day` cannot go ahead for want of consent (lower case, to
    follow "No injection: "), or ''."""
    if covering_consent(course, day) is not None:
        return ""
    if course.consent_id and course.consent.voided_at is None:
        return (
            f"the course's consent ({course.consent.form_version}, {course.consent.consented_on:%d %b %Y}) "
            f"is dated after this treatment ({day:%d %b %Y}): record a consent signed on or before it and "
            "choose it on the course plan."
        )
    return (
        "no consent on file covers the first treatment of this course: record the patient's informed consent "
        "(patient page, “Record consent”) and choose it on the course plan."
    )


def injection_gates(*, screening, protocol, day, lots, first_treatment, course):
    """The refusals and cautions for injecting `lots` on `day`.

    `first_treatment`: this injection would be the course's first treatment, which needs consent.
    Queries only for the consent (first treatment, none linked) and the severity catalogue (a condition
    ticked on the screening).
    """
    refusals, cautions = [], []
    if screening is None:
        cautions.append("There is no intake screening on record.")
    else:
        if screening.is_due(valid_days=protocol.screening_valid_days, today=day):
            cautions.append(
                f"The screening of {screening.screened_on:%d %b %Y} is older than "
                f"{protocol.screening_valid_days} days: screen again."
            )
        if screening.absolute_reasons:
            refusals.append(
                Refusal(
                    "screening",
                    f"No injection: {', '.join(screening.absolute_reasons)} "
                    f"(screening of {screening.screened_on:%d %b %Y}) rules injection out, whoever asks. "
                    "Complete the visit as an assessment (nothing injected) or cancel it; screen again "
                    "once it has resolved.",
                )
            )
        elif screening.rules_out_injection:
            refusals.append(
                Refusal(
                    "screening",
                    f"No injection: the screening of {screening.screened_on:%d %b %Y} says "
                    f"“{screening.get_outcome_display()}”. Complete the visit as an assessment (nothing "
                    "injected) or cancel it; screen again to change the outcome.",
                )
            )
        if screening.precautions:
            cautions.append(f"Precautions: {', '.join(screening.precautions)}.")
        for lot, words in allergy_clashes(screening, lots):
            refusals.append(
                Refusal(
                    "allergy",
                    f"{capfirst(words)}. Nothing is injected from it, whoever asks: choose another product "
                    "or lot.",
                    lot,
                )
            )
    if first_treatment and (problem := consent_refusal(course, day)):
        refusals.append(Refusal("consent", f"No injection: {problem}"))
    return Gates(refusals=tuple(refusals), cautions=tuple(cautions))


@dataclass
class Alerts:
    """What the alerts banner (templates/patients/_alerts_banner.html) shows."""

    screening: object
    screening_due: bool
    absolute: list = field(default_factory=list)
    precautions: list = field(default_factory=list)
    allergies: list = field(default_factory=list)
    outcome_blocks: bool = False
    consent_problem: str = ""

    @property
    def no_injection(self):
        return bool(self.absolute) or self.outcome_blocks


def alerts(*, screening, protocol, day, course=None, consent_needed=False, consent_missing=False):
    """The banner for a patient (and course): absolute conditions, precautions, allergies, consent.

    `consent_needed`: check the course's consent (its first treatment is still to come);
    `consent_missing`: the patient page's own finding that no consent is on file at all.
    """
    result = Alerts(
        screening=screening,
        screening_due=screening is None
        or screening.is_due(valid_days=protocol.screening_valid_days, today=day),
    )
    if screening is not None:
        result.absolute = screening.absolute_reasons
        result.precautions = screening.precautions
        result.allergies = screening.allergies
        result.outcome_blocks = screening.rules_out_injection
    if course is not None and consent_needed:
        result.consent_problem = capfirst(consent_refusal(course, day))
    elif consent_missing:
        result.consent_problem = "No consent on file: record the patient's informed consent before injecting."
    return result


_UNREAD = object()


def alerts_for(patient, *, protocol, course=None, sessions=None, screening=_UNREAD, consents=None, day=None):
    """The banner of a patient's page, or of a course's (`sessions`: its visits, loaded by the page).

    `screening` and `consents` may be passed when the page has loaded them already. On a course page the
    consent is checked while the course's first treatment is still to come.
    """
    day = day or timezone.localdate()
    if screening is _UNREAD:
        screening = latest_screening(patient, "screened_by")
    if course is not None:
        consent_needed = course.is_open and not any(timeline.is_treatment(s) for s in sessions or ())
        consent_missing = False
    else:
        consent_needed = False
        consent_missing = not (consents if consents is not None else patient.consents.exists())
    return alerts(
        screening=screening,
        protocol=protocol,
        day=day,
        course=course,
        consent_needed=consent_needed,
        consent_missing=consent_missing,
    )
