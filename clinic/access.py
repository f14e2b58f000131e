"""The access log: who opened which patient's record, when and from where.

Entries are django-auditlog ACCESS entries filed under the patient (so "who opened this patient" is one
indexed lookup), with the record actually opened described in additional_data. Detail views call
`log_access(request, obj)` once, after the object is loaded and the role check has passed.
"""

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist

from clinic.network import client_ip


def patient_of(obj):
    """The patient a clinical record belongs to (the record itself for a patient)."""
    from patients.models import Patient

    if isinstance(obj, Patient):
        return obj
    for path in ("patient", "course.patient", "session.patient", "reported_session.patient"):
        value = obj
        try:
            for attribute in path.split("."):
                value = getattr(value, attribute)
        except (AttributeError, ObjectDoesNotExist):
            continue
        if isinstance(value, Patient):
            return value
    raise ValueError(f"Cannot tell which patient {type(obj).__name__} belongs to: pass patient=.")


def log_access(request, obj, *, patient=None, what=""):
    """Record that request.user opened `obj` (a patient, course, session, export...) of `patient`.

    `what` names the kind of access when it is not plain viewing, e.g. "JSON export".
    """
    patient = patient or patient_of(obj)
    user = request.user if request.user.is_authenticated else None
    record_type = ContentType.objects.get_for_model(obj)
    return LogEntry.objects.log_create(
        patient,
        force_log=True,
        action=LogEntry.Action.ACCESS,
        changes=None,
        actor=user,
        actor_email=getattr(user, "email", None),
        remote_addr=client_ip(request),
        additional_data={
            "record_type": f"{record_type.app_label}.{record_type.model}",
            "record_type_id": record_type.pk,
            "record_id": obj.pk,
            "record": str(obj)[:200],
            "what": what,
            "path": request.get_full_path()[:500],
        },
    )


def log_event(request, what):
    """Record an export or download that names no one patient (e.g. a de-identified research file).

    The entry is filed under the member of staff who made it, so it shows in "what did this user open"
    with `what` saying what was taken, and the full path (with its filters) saying which rows.
    """
    user = request.user
    if not user.is_authenticated:
        raise ValueError("Only a signed-in user's export can be logged.")
    return LogEntry.objects.log_create(
        user,
        force_log=True,
        action=LogEntry.Action.ACCESS,
        changes=None,
        actor=user,
        actor_email=getattr(user, "email", None),
        remote_addr=client_ip(request),
        serialized_data=None,
        additional_data={
            "record_type": "",
            "record": "",
            "what": what,
            "path": request.get_full_path()[:500],
        },
    )


def patient_access(patient):
    """Access entries for one patient, newest first."""
    return (
        LogEntry.objects.filter(
            action=LogEntry.Action.ACCESS,
            content_type=ContentType.objects.get_for_model(patient),
            object_pk=str(patient.pk),
        )
        .select_related("actor")
        .order_by("-timestamp", "-id")
    )


def user_access(user):
    """Everything one member of staff opened, newest first."""
    return (
        LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=user)
        .select_related("content_type")
        .order_by("-timestamp", "-id")
    )
