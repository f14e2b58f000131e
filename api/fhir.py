"""A patient's record as HL7 FHIR R4 resources: one mapping for the patient's Bundle and the research export.

The same builders serve both outputs; an `Output` decides what identifies: `Identified` (the Bundle: record
ids, calendar dates, names, contact details, MRN, lot numbers) or `Deidentified` (the research NDJSON:
pseudonymous ids from outcomes.exports.pseudonym, days from the course's first treatment in an extension
instead of any calendar date, no names, contact details, MRN, lots or free text).

Codes are given only where verified (README "FHIR"): LOINC 72514-3 for pain NRS, SNOMED CT laterality, and
HL7's own code systems. Everything else is text with a coding in the clinic's code system
(settings.FHIR_CODE_SYSTEM_BASE/<kind>); an injection site adds the SNOMED CT code its catalogue row carries
(seeded only where verified, courses/migrations/0011).
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from clinic.choices import Laterality
from courses import timeline
from courses.models import (
    CourseStatus,
    Injection,
    OutcomeInstrument,
    OutcomeScore,
    PreparationComponent,
    SessionStatus,
    Severity,
    SideEffect,
    TreatmentCourse,
    TreatmentSession,
)
from outcomes.exports import age_band, pseudonym, spinal_level_code
from patients.models import Patient

LOINC = "http://loinc.org"
PAIN_NRS_LOINC = ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
HL7 = "http://terminology.hl7.org/CodeSystem"
WORKFLOW_EPISODE = "http://hl7.org/fhir/StructureDefinition/workflow-episodeOfCare"
# Fixed, so a record keeps its bundle fullUrl (urn:uuid) from one download to the next.
PLACES = Decimal("0.001")
URN_NAMESPACE = uuid.UUID("6f1c53c4-6a55-4c1e-9d0e-3b0a2f8c9a11")

GENDER = {
    Patient.Sex.FEMALE: "female",
    Patient.Sex.MALE: "male",
    Patient.Sex.OTHER: "other",
    Patient.Sex.NOT_STATED: "unknown",
}
EPISODE_STATUS = {
    CourseStatus.PLANNED: "planned",
    CourseStatus.ACTIVE: "active",
    CourseStatus.COMPLETED: "finished",
    CourseStatus.STOPPED: "finished",
}
CAREPLAN_STATUS = {
    CourseStatus.PLANNED: "active",
    CourseStatus.ACTIVE: "active",
    CourseStatus.COMPLETED: "completed",
    CourseStatus.STOPPED: "revoked",
}
ACTIVITY_STATUS = {
    SessionStatus.SCHEDULED: "scheduled",
    SessionStatus.CHECKED_IN: "in-progress",
    SessionStatus.COMPLETED: "completed",
    SessionStatus.CANCELLED: "cancelled",
    SessionStatus.NO_SHOW: "cancelled",
}
# The R4 bodysite-laterality value set (SNOMED CT); midline and "not applicable" have no code there.
LATERALITY_SNOMED = {
    Laterality.LEFT: "419161000",
    Laterality.RIGHT: "419465000",
    Laterality.BILATERAL: "51440002",
}
# HL7's three-level severity covers grades 1-3; grades 4 and 5 keep the clinic's grade (and are serious).
SEVERITY_HL7 = {Severity.MILD: "mild", Severity.MODERATE: "moderate", Severity.SEVERE: "severe"}
SERIOUSNESS_HL7 = {
    SideEffect.SeriousCriterion.DEATH: "SeriousResultsInDeath",
    SideEffect.SeriousCriterion.LIFE_THREATENING: "SeriousIsLifeThreatening",
    SideEffect.SeriousCriterion.HOSPITALISATION: "SeriousResultsInHospitalization",
    SideEffect.SeriousCriterion.DISABILITY: "SeriousResultsInDisability",
    # "Medically important" has no code of its own in HL7's list: the general "Serious".
    SideEffect.SeriousCriterion.MEDICALLY_IMPORTANT: "Serious",
}
OUTCOME_HL7 = {
    SideEffect.Outcome.RESOLVED: "resolved",
    SideEffect.Outcome.RESOLVING: "recovering",
    SideEffect.Outcome.NOT_RESOLVED: "ongoing",
    SideEffect.Outcome.SEQUELAE: "resolvedWithSequelae",
    SideEffect.Outcome.FATAL: "fatal",
    SideEffect.Outcome.UNKNOWN: "unknown",
}


# --- Codes and values ---------------------------------------------------------------------------------


def clinic_system(kind):
    return f"{settings.FHIR_CODE_SYSTEM_BASE.rstrip('/')}/{kind}"


def extension_url(name):
    return f"{settings.FHIR_EXTENSION_BASE.rstrip('/')}/{name}"


def clinic_concept(kind, code, text, *codings):
    """Text with the clinic's own coding (and any verified codings before it)."""
    coding = [*codings, {"system": clinic_system(kind), "code": str(code), "display": str(text)}]
    return {"coding": coding, "text": str(text)}


def number(value):
    """A JSON number without binary noise: 3, 2.5, 0.125."""
    value = Decimal(str(value)).normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def quantity(value, unit, code):
    return {"value": number(value), "unit": unit, "system": UCUM, "code": code}


def percent(value):
    """A strength in %, as the clinic states it (w/v is not asserted): X % per 1."""
    return {"numerator": quantity(value, "%", "%"), "denominator": {"value": 1, "system": UCUM, "code": "1"}}


def extension(name, **value):
    return {"url": extension_url(name), **value}


def add_extension(element, name, **value):
    element.setdefault("extension", []).append(extension(name, **value))


# --- What identifies --------------------------------------------------------------------------------


class Identified:
    """The clinical record: record ids, calendar dates and times, names and contact details."""

    deidentified = False

    def id(self, kind, pk):
        return f"{kind.replace('_', '-')}-{pk}"  # FHIR ids: letters, digits, '-' and '.'.

    def full_url(self, resource):
        return f"urn:uuid:{uuid.uuid5(URN_NAMESPACE, resource['resourceType'] + '/' + resource['id'])}"

    def reference(self, resource_type, kind, pk):
        return {"reference": self.full_url({"resourceType": resource_type, "id": self.id(kind, pk)})}

    def when(self, element, name, value, first, *, day_extension="relative-day"):
        if value is not None:
            element[name] = moment(value)

    def period(self, element, name, start, end, first):
        period = {key: moment(value) for key, value in (("start", start), ("end", end)) if value is not None}
        if period:
            element[name] = period


class Deidentified(Identified):
    """The research export: pseudonymous ids, and days from the course's first treatment (day 0) in an
    extension instead of any calendar date, as outcomes.exports counts them."""

    deidentified = True

    def id(self, kind, pk):
        return pseudonym(kind, pk)

    def full_url(self, resource):
        return f"{resource['resourceType']}/{resource['id']}"

    def reference(self, resource_type, kind, pk):
        return {"reference": f"{resource_type}/{self.id(kind, pk)}"}

    def when(self, element, name, value, first, *, day_extension="relative-day"):
        days = relative_day(value, first)
        if days is not None:
            add_extension(element, day_extension, valueInteger=days)

    def period(self, element, name, start, end, first):
        self.when(element, name, start, first)
        self.when(element, name, end, first, day_extension="end-relative-day")


def moment(value):
    """A FHIR date for a date, a dateTime in the clinic's time zone for a datetime."""
    if hasattr(value, "hour"):
        return timezone.localtime(value).isoformat()
    return value.isoformat()


def relative_day(value, first):
    if value is None or first is None:
        return None
    day = timeline.local_day(value) if hasattr(value, "hour") else value
    return (day - first).days


# --- Loading: a fixed number of queries per batch of courses -------------------------------------------


@dataclass
class Records:
    """The current (not voided) rows of some courses, grouped for the builders."""

    courses: list
    visits: dict = field(default_factory=lambda: defaultdict(list))  # course id -> sessions
    components: dict = field(default_factory=lambda: defaultdict(list))  # session id -> components
    injections: dict = field(default_factory=lambda: defaultdict(list))  # session id -> injections
    side_effects: dict = field(default_factory=lambda: defaultdict(list))  # course id -> side effects
    scores: dict = field(default_factory=lambda: defaultdict(list))  # course id -> scores


def load(courses):
    """Records of `courses` (a queryset); voided rows are left out by the models' default managers, as the
    pages leave them out."""
    records = Records(list(courses.select_related("patient", "condition", "practitioner").order_by("pk")))
    ids = [course.pk for course in records.courses]
    for visit in TreatmentSession.objects.filter(course_id__in=ids).order_by("starts_at", "pk"):
        records.visits[visit.course_id].append(visit)
    for component in PreparationComponent.objects.filter(session__course_id__in=ids).select_related(
        "lot__product"
    ):
        records.components[component.session_id].append(component)
    for injection in Injection.objects.filter(session__course_id__in=ids).select_related("site"):
        records.injections[injection.session_id].append(injection)
    effects = SideEffect.objects.filter(attributed_session__course_id__in=ids).select_related(
        "term", "attributed_session", "reported_session"
    )
    for effect in effects.order_by("onset_date", "pk"):
        records.side_effects[effect.attributed_session.course_id].append(effect)
    scores = OutcomeScore.objects.filter(course_id__in=ids).select_related("instrument", "session")
    for score in scores.order_by("recorded_on", "pk"):
        records.scores[score.course_id].append(score)
    return records


# --- The builders -------------------------------------------------------------------------------------


def patient_resource(patient, courses, out):
    resource = {"resourceType": "Patient", "id": out.id("patient", patient.pk), "gender": GENDER[patient.sex]}
    if out.deidentified:
        starts = [course.start_date for course in courses]
        if starts:
            band = age_band(patient.date_of_birth, min(starts))
            add_extension(resource, "age-band-at-first-course", valueString=band)
        return resource
    resource["identifier"] = [{"use": "usual", "system": settings.FHIR_MRN_SYSTEM, "value": patient.mrn}]
    resource["active"] = not patient.archived
    resource["name"] = [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}]
    if patient.preferred_name:
        resource["name"].append({"use": "usual", "given": [patient.preferred_name]})
    resource["birthDate"] = patient.date_of_birth.isoformat()
    telecom = [{"system": "phone", "value": patient.phone}] if patient.phone else []
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if telecom:
        resource["telecom"] = telecom
    if patient.address:
        resource["address"] = [{"text": patient.address}]
    if patient.emergency_contact_name or patient.emergency_contact_phone:
        contact = {
            "relationship": [
                {"coding": [{"system": f"{HL7}/v2-0131", "code": "C", "display": "Emergency Contact"}]}
            ]
        }
        if patient.emergency_contact_name:
            contact["name"] = {"text": patient.emergency_contact_name}
        if patient.emergency_contact_phone:
            contact["telecom"] = [{"system": "phone", "value": patient.emergency_contact_phone}]
        resource["contact"] = [contact]
    return resource


def first_treatment_day(visits):
    first = timeline.first_treatment(visits)
    return timeline.local_day(first.starts_at) if first else None


def course_resources(course, records, out, *, seen_lots):
    """Every resource of one course, in a reading order: the episode and plan, then each treatment's
    encounter, medications, administration, procedures and pain, then side effects and scores."""
    visits = records.visits[course.pk]
    first = first_treatment_day(visits)
    patient = out.reference("Patient", "patient", course.patient_id)
    numbers = timeline.treatment_numbers(visits)
    treatments = timeline.treatments(visits)
    yield episode_of_care(course, first, patient, out)
    yield care_plan(course, visits, numbers, first, patient, out)
    administered = {}
    for visit in treatments:
        yield encounter(course, visit, numbers[visit.pk], first, patient, out)
        components = records.components[visit.pk]
        for component in components:
            if component.lot_id not in seen_lots:
                seen_lots.add(component.lot_id)
                yield lot_medication(component.lot, out)
        if components:
            yield preparation(visit, components, out)
            yield administration(visit, records.injections[visit.pk], first, patient, out)
            administered[visit.pk] = out.reference("MedicationAdministration", "administration", visit.pk)
        for injection in records.injections[visit.pk]:
            yield procedure(injection, visit, bool(components), first, patient, out)
        yield from session_pain(visit, first, patient, out)
    given = {visit.pk for visit in treatments}
    for effect in records.side_effects[course.pk]:
        yield adverse_event(effect, given, administered, first, patient, out)
    for score in records.scores[course.pk]:
        yield score_observation(score, given, first, patient, out)


def episode_of_care(course, first, patient, out):
    resource = {
        "resourceType": "EpisodeOfCare",
        "id": out.id("course", course.pk),
        "status": EPISODE_STATUS[course.status],
        "type": [clinic_concept("care-type", "prolotherapy-course", "Prolotherapy course")],
        "diagnosis": [{"condition": {"display": course.condition.name}}],
        "patient": patient,
    }
    out.period(resource, "period", course.start_date, course.end_date, first)
    if not out.deidentified:
        resource["careManager"] = {"display": str(course.practitioner)}
    return resource


def care_plan(course, visits, numbers, first, patient, out):
    resource = {
        "resourceType": "CarePlan",
        "id": out.id("careplan", course.pk),
        "extension": [
            {"url": WORKFLOW_EPISODE, "valueReference": out.reference("EpisodeOfCare", "course", course.pk)}
        ],
        "status": CAREPLAN_STATUS[course.status],
        "intent": "plan",
        "title": str(course),
        "description": f"{course.planned_sessions} treatments, {course.interval_days} days apart",
        "subject": patient,
    }
    out.period(resource, "period", course.start_date, course.end_date, first)
    activities = []
    for visit in visits:
        number = numbers.get(visit.pk)
        detail = {
            "code": clinic_concept("activity", "prolotherapy-treatment", "Prolotherapy treatment"),
            "status": ACTIVITY_STATUS[visit.status],
            "description": f"Treatment {number}" if number else visit_label(visit),
        }
        if visit.status == SessionStatus.NO_SHOW:
            detail["statusReason"] = clinic_concept("activity-status-reason", "no-show", "No-show")
        out.period(detail, "scheduledPeriod", visit.starts_at, visit.ends_at, first)
        activity = {"detail": detail}
        if timeline.is_treatment(visit):
            activity["outcomeReference"] = [out.reference("Encounter", "treatment", visit.pk)]
        activities.append(activity)
    for number in range(len(numbers) + 1, course.planned_sessions + 1):
        detail = {
            "code": clinic_concept("activity", "prolotherapy-treatment", "Prolotherapy treatment"),
            "status": "not-started",
            "description": f"Treatment {number} (not booked yet)",
        }
        activities.append({"detail": detail})
    if activities:
        resource["activity"] = activities
    return resource


def visit_label(visit):
    if visit.status == SessionStatus.COMPLETED:
        return "Assessment (nothing injected)"
    return f"Visit ({visit.get_status_display().lower()})"


def encounter(course, visit, number, first, patient, out):
    resource = {
        "resourceType": "Encounter",
        "id": out.id("treatment", visit.pk),
        "extension": [extension("treatment-number", valueInteger=number)],
        "status": "finished",
        "class": {"system": f"{HL7}/v3-ActCode", "code": "AMB", "display": "ambulatory"},
        "type": [clinic_concept("encounter-type", "prolotherapy-treatment", "Prolotherapy treatment")],
        "subject": patient,
        "episodeOfCare": [out.reference("EpisodeOfCare", "course", course.pk)],
    }
    out.period(resource, "period", visit.starts_at, visit.ends_at, first)
    if not out.deidentified:
        resource["participant"] = [{"individual": {"display": str(visit.practitioner)}}]
    return resource


def lot_medication(lot, out):
    product = lot.product
    resource = {
        "resourceType": "Medication",
        "id": out.id("lot", lot.pk),
        "code": clinic_concept("product", product.pk, product.name),
    }
    add_extension(resource, "stock-strength", valueRatio=percent(product.stock_concentration_percent))
    if not out.deidentified:
        resource["batch"] = {"lotNumber": lot.lot_number, "expirationDate": lot.expiry_date.isoformat()}
    return resource


def preparation(visit, components, out):
    """The syringe mix: each component's lot as an ingredient with its final strength in the preparation
    it was drawn into (a visit may hold several)."""
    totals = defaultdict(Decimal)
    for component in components:
        totals[component.preparation_id] += Decimal(component.volume_ml)
    ingredients = []
    for component in components:
        product = component.lot.product
        total = totals[component.preparation_id]
        ingredient = {
            "itemReference": out.reference("Medication", "lot", component.lot_id),
            "isActive": product.product_type != product.ProductType.DILUENT,
            "strength": percent(
                (product.stock_concentration_percent * Decimal(component.volume_ml) / total).quantize(PLACES)
            ),
        }
        add_extension(ingredient, "volume-drawn", valueQuantity=quantity(component.volume_ml, "mL", "mL"))
        ingredients.append(ingredient)
    names = ", ".join(component.lot.product.name for component in components)
    return {
        "resourceType": "Medication",
        "id": out.id("preparation", visit.pk),
        "code": {"text": f"Prolotherapy preparation ({names})"},
        "ingredient": ingredients,
    }


def administration(visit, injections, first, patient, out):
    resource = {
        "resourceType": "MedicationAdministration",
        "id": out.id("administration", visit.pk),
        "status": "completed",
        "medicationReference": out.reference("Medication", "preparation", visit.pk),
        "subject": patient,
        "context": out.reference("Encounter", "treatment", visit.pk),
    }
    if out.deidentified:
        # effective[x] is required: de-identified it is a Period carrying only the relative day.
        resource["effectivePeriod"] = {}
        out.when(resource["effectivePeriod"], "start", visit.starts_at, first)
    else:
        resource["effectiveDateTime"] = moment(visit.starts_at)
    dosage = {"text": f"{len(injections)} injection{'s' if len(injections) != 1 else ''}"}
    if visit.total_volume_ml is not None:
        dosage["dose"] = quantity(visit.total_volume_ml, "mL", "mL")
    resource["dosage"] = dosage
    return resource


def body_site(injection, out):
    site = injection.site
    text = f"{site.name} ({site.get_region_display()})"
    # De-identified, the typed level leaves only as a vertebral level (the research export has no free text).
    level = spinal_level_code(injection.spinal_level) if out.deidentified else injection.spinal_level
    if level:
        text += f", {level}"
    text += f", {injection.get_laterality_display().lower()}"
    coded = [{"system": SNOMED, "code": site.snomed_code}] if site.snomed_code else []
    concept = clinic_concept("injection-site", site.pk, site.name, *coded)
    concept["text"] = text
    code = LATERALITY_SNOMED.get(injection.laterality)
    if code:
        laterality = {
            "coding": [{"system": SNOMED, "code": code}],
            "text": injection.get_laterality_display(),
        }
        add_extension(concept, "laterality", valueCodeableConcept=laterality)
    return concept


def procedure(injection, visit, prepared, first, patient, out):
    resource = {
        "resourceType": "Procedure",
        "id": out.id("injection", injection.pk),
        "extension": [extension("injected-volume", valueQuantity=quantity(injection.volume_ml, "mL", "mL"))],
        "status": "completed",
        "code": clinic_concept("procedure", "prolotherapy-injection", "Prolotherapy injection"),
        "subject": patient,
        "encounter": out.reference("Encounter", "treatment", visit.pk),
        "bodySite": [body_site(injection, out)],
    }
    out.when(resource, "performedDateTime", visit.starts_at, first)
    if prepared:
        resource["usedReference"] = [out.reference("Medication", "preparation", visit.pk)]
    return resource


def pain_observation(kind, pk, value, when, timing, encounter_ref, first, patient, out, *, performer=None):
    resource = {
        "resourceType": "Observation",
        "id": out.id(kind, pk),
        "extension": [extension("timepoint", valueCodeableConcept=timing)],
        "status": "final",
        "category": [
            {"coding": [{"system": f"{HL7}/observation-category", "code": "survey", "display": "Survey"}]}
        ],
        "subject": patient,
    }
    out.when(resource, "effectiveDateTime", when, first)
    if encounter_ref:
        resource["encounter"] = encounter_ref
    if performer:
        resource["performer"] = [performer]
    resource["valueQuantity"] = {"value": number(value), "unit": "score", "system": UCUM, "code": "{score}"}
    return resource


def nrs_code():
    code, display = PAIN_NRS_LOINC
    return {"coding": [{"system": LOINC, "code": code, "display": display}], "text": "Pain NRS (0-10)"}


def session_pain(visit, first, patient, out):
    encounter_ref = out.reference("Encounter", "treatment", visit.pk)
    for kind, value, code, text in (
        ("pain-pre", visit.pain_pre, "pre-injection", "Before injecting"),
        ("pain-post", visit.pain_post, "post-injection", "After injecting"),
    ):
        if value is None:
            continue
        timing = clinic_concept("timepoint", code, text)
        resource = pain_observation(
            kind, visit.pk, value, visit.starts_at, timing, encounter_ref, first, patient, out
        )
        resource["code"] = nrs_code()
        yield order(resource)


def score_observation(score, given, first, patient, out):
    instrument = score.instrument
    timing = clinic_concept("timepoint", score.timepoint, score.get_timepoint_display())
    encounter_ref = (
        out.reference("Encounter", "treatment", score.session_id) if score.session_id in given else None
    )
    performer = patient if score.source == OutcomeScore.Source.PATIENT else None
    resource = pain_observation(
        "score",
        score.pk,
        score.score,
        score.recorded_on,
        timing,
        encounter_ref,
        first,
        patient,
        out,
        performer=performer,
    )
    if instrument.code == OutcomeInstrument.PAIN_NRS_CODE:
        resource["code"] = nrs_code()
    else:
        resource["code"] = clinic_concept("instrument", instrument.code, instrument.name)
    return order(resource)


def order(resource):
    """Observation elements in the specification's order (code before subject), for a human reader."""
    head = ("resourceType", "id", "extension", "status", "category", "code")
    return {**{key: resource[key] for key in head if key in resource}, **resource}


def adverse_event(effect, given, administered, first, patient, out):
    attributed = effect.attributed_session_id
    grade = Severity(effect.severity)
    severity_codings = []
    if grade in SEVERITY_HL7:
        severity_codings.append({"system": f"{HL7}/adverse-event-severity", "code": SEVERITY_HL7[grade]})
    if effect.serious:
        seriousness = clinic_concept(
            "seriousness",
            effect.serious_criterion,
            effect.get_serious_criterion_display(),
            {"system": f"{HL7}/adverse-event-seriousness", "code": SERIOUSNESS_HL7[effect.serious_criterion]},
        )
    else:
        seriousness = {
            "coding": [{"system": f"{HL7}/adverse-event-seriousness", "code": "Non-serious"}],
            "text": "Non-serious",
        }
    resource = {
        "resourceType": "AdverseEvent",
        "id": out.id("side_effect", effect.pk),
        "actuality": "actual",
        "event": clinic_concept("side-effect", effect.term_id, effect.term.name),
        "subject": patient,
    }
    if attributed in given:
        resource["encounter"] = out.reference("Encounter", "treatment", attributed)
    out.when(resource, "date", effect.onset_date, first)
    out.when(
        resource,
        "recordedDate",
        effect.reported_session.starts_at,
        first,
        day_extension="recorded-relative-day",
    )
    if effect.resolved_date and not out.deidentified:
        add_extension(resource, "resolution-date", valueDate=effect.resolved_date.isoformat())
    elif effect.resolved_date:
        out.when(resource, "resolution", effect.resolved_date, first, day_extension="resolution-relative-day")
    resource["seriousness"] = seriousness
    resource["severity"] = clinic_concept("severity-grade", int(grade), grade.label, *severity_codings)
    resource["outcome"] = clinic_concept(
        "side-effect-outcome",
        effect.outcome,
        effect.get_outcome_display(),
        {"system": f"{HL7}/adverse-event-outcome", "code": OUTCOME_HL7[effect.outcome]},
    )
    if attributed in administered:
        resource["suspectEntity"] = [
            {
                "instance": administered[attributed],
                "causality": [
                    {
                        "assessment": clinic_concept(
                            "relatedness", effect.relatedness, effect.get_relatedness_display()
                        )
                    }
                ],
            }
        ]
    return resource


# --- The patient's Bundle -----------------------------------------------------------------------------


def patient_records(patient):
    return load(TreatmentCourse.objects.filter(patient=patient))


def patient_resources(patient, records, out):
    yield patient_resource(patient, records.courses, out)
    seen_lots = set()
    for course in records.courses:
        yield from course_resources(course, records, out, seen_lots=seen_lots)


def patient_bundle(patient):
    """A `collection` Bundle of everything the clinic holds clinically about the patient (voided rows left
    out), each entry's fullUrl a urn:uuid that references inside the bundle point to."""
    out = Identified()
    entries = [
        {"fullUrl": out.full_url(resource), "resource": resource}
        for resource in patient_resources(patient, patient_records(patient), out)
    ]
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": timezone.localtime().isoformat()},
        "type": "collection",
        "timestamp": timezone.localtime().isoformat(),
        "entry": entries,
    }
