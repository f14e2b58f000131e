"""The appointment book's rules, shared by session logging and front-desk scheduling.

A practitioner cannot be in two appointments at once, nor can a patient. Every write that puts a
session in the diary goes through `slot_claim()` inside its transaction.
"""

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from clinic.models import User
from courses.models import LIVE_SESSION_STATUSES, TreatmentSession
from patients.models import Patient


class SlotTaken(ValidationError):
    """The time overlaps another live appointment of the practitioner or the patient."""


def overlapping_sessions(*, starts_at, ends_at, practitioner=None, patient=None, exclude_pks=()):
    """Live sessions of this practitioner or patient that overlap [starts_at, ends_at)."""
    who = Q()
    if practitioner is not None:
        who |= Q(practitioner=practitioner)
    if patient is not None:
        who |= Q(patient=patient)
    return (
        TreatmentSession.objects.filter(
            who, status__in=LIVE_SESSION_STATUSES, starts_at__lt=ends_at, ends_at__gt=starts_at
        )
        .exclude(pk__in=exclude_pks)
        .select_related("patient", "practitioner")
    )


def slot_claim(*, starts_at, ends_at, practitioner, patient, exclude_pks=()):
    """Check, under lock, that the slot is free for both diaries; raise SlotTaken if not.

    Call inside a transaction, before saving the session. On PostgreSQL the practitioner's and
    the patient's rows are locked (always in that order, so two bookings cannot deadlock), which
    queues concurrent bookings for either diary until this transaction ends. SQLite runs writes
    in IMMEDIATE transactions, which already serialise writers.
    """
    User.objects.select_for_update().filter(pk=practitioner.pk).exists()
    Patient.objects.select_for_update().filter(pk=patient.pk).exists()
    clash = overlapping_sessions(
        starts_at=starts_at,
        ends_at=ends_at,
        practitioner=practitioner,
        patient=patient,
        exclude_pks=exclude_pks,
    ).first()
    if clash is None:
        return
    start, end = timezone.localtime(clash.starts_at), timezone.localtime(clash.ends_at)
    if clash.practitioner_id == practitioner.pk:
        raise SlotTaken(
            f"Slot taken: {clash.practitioner} already has an appointment "
            f"{start:%H:%M}–{end:%H:%M} on {start:%d %b %Y}.",
            code="slot_taken",
        )
    raise SlotTaken(
        f"Slot taken: the patient already has an appointment at {start:%H:%M} on {start:%d %b %Y}.",
        code="slot_taken",
    )
