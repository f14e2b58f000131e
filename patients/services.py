from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from patients.models import Consent, MrnSequence, Patient, Screening

MRN_PREFIX = "PT"


@transaction.atomic
def mrn_allocate(*, count=1):
    """Reserve `count` consecutive medical record numbers and return them.

    The counter row is locked for the rest of the transaction, so two registrations at the same
    instant never get the same number, and numbers are never handed out twice.
    """
    if not MrnSequence.objects.filter(pk=1).update(last_value=F("last_value") + count):
        # The counter row comes from a migration; if it was lost (a flushed database), carry on
        # after the highest number already issued rather than handing one out twice.
        highest = Patient.objects.order_by("-mrn").values_list("mrn", flat=True).first()
        start = int(highest.rsplit("-", 1)[-1]) if highest else 0
        MrnSequence.objects.get_or_create(pk=1, defaults={"last_value": start})
        MrnSequence.objects.filter(pk=1).update(last_value=F("last_value") + count)
    last = MrnSequence.objects.select_for_update().get(pk=1).last_value
    return [f"{MRN_PREFIX}-{value:06d}" for value in range(last - count + 1, last + 1)]


# Fields staff may set on a patient; the MRN, archive stamps and search columns are the app's.
PATIENT_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "address",
    "emergency_contact_name",
    "emergency_contact_phone",
    "preferred_contact",
    "reminders_allowed",
    "primary_practitioner",
    "notes",
)


def _set_fields(instance, fields, allowed):
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"Unexpected fields: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(instance, name, value)


@transaction.atomic
def patient_create(*, created_by, **fields):
    """Register a patient with a fresh medical record number."""
    patient = Patient(created_by=created_by)
    _set_fields(patient, fields, PATIENT_FIELDS)
    patient.refresh_search_fields()
    # Validate before taking a number, so a rejected registration does not burn one.
    patient.full_clean(exclude=["mrn"])
    patient.mrn = mrn_allocate()[0]
    patient.full_clean()
    patient.save()
    return patient


@transaction.atomic
def patient_update(*, patient, **fields):
    _set_fields(patient, fields, PATIENT_FIELDS)
    patient.refresh_search_fields()
    patient.full_clean()
    patient.save()
    return patient


@transaction.atomic
def patient_archive(*, patient, by, reason):
    """Hide a patient from day-to-day lists; every record stays."""
    if patient.archived:
        raise ValidationError("This patient is already archived.")
    patient.archived = True
    patient.archived_reason = (reason or "").strip()
    patient.archived_at = timezone.now()
    patient.archived_by = by
    patient.full_clean()
    patient.save()
    return patient


@transaction.atomic
def patient_restore(*, patient, by):
    if not patient.archived:
        raise ValidationError("This patient is not archived.")
    patient.archived = False
    patient.archived_reason = ""
    patient.archived_at = None
    patient.archived_by = None
    patient.full_clean()
    patient.save()
    return patient


SCREENING_FIELDS = (
    "screened_on",
    *Screening.DEFER_FIELDS,
    *Screening.PRECAUTION_FIELDS,
    "anticoagulant_drug",
    *Screening.ALLERGY_FIELDS,
    "allergy_other",
    "outcome",
    "notes",
)


@transaction.atomic
def screening_record(*, patient, screened_by, **fields):
    if patient.archived:
        raise ValidationError("Restore the patient before recording a screening.")
    screening = Screening(patient=patient, screened_by=screened_by, created_by=screened_by)
    _set_fields(screening, fields, SCREENING_FIELDS)
    screening.full_clean()
    screening.save()
    return screening


CONSENT_FIELDS = ("consented_on", "form_version", "scope", "document", "notes")


@transaction.atomic
def consent_record(*, patient, taken_by, **fields):
    if patient.archived:
        raise ValidationError("Restore the patient before recording a consent.")
    consent = Consent(patient=patient, taken_by=taken_by, created_by=taken_by)
    _set_fields(consent, fields, CONSENT_FIELDS)
    consent.full_clean()
    consent.save()
    return consent
