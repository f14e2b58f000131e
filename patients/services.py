from django.db import transaction
from django.db.models import F

from patients.models import MrnSequence

MRN_PREFIX = "PT"


@transaction.atomic
def mrn_allocate(*, count=1):
    """Reserve `count` consecutive medical record numbers and return them.

    The counter row is locked for the rest of the transaction, so two registrations at the same
    instant never get the same number, and numbers are never handed out twice.
    """
    MrnSequence.objects.filter(pk=1).update(last_value=F("last_value") + count)
    last = MrnSequence.objects.select_for_update().get(pk=1).last_value
    return [f"{MRN_PREFIX}-{value:06d}" for value in range(last - count + 1, last + 1)]
