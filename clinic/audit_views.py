"""Clinic admins' view of the audit trail: a record's history, who opened a patient, what a user opened."""

from auditlog.registry import auditlog
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinic.access import patient_access, user_access
from clinic.history import readable_rows, timeline_entries
from clinic.inputs import page_number
from patients.models import Patient

PAGE_SIZE = 50
AUDIT_PERMISSION = "auditlog.view_logentry"

# Record pages to go back to, for models without get_absolute_url.
RECORD_PAGES = {
    "patients.patient": "patients:patient-detail",
    "courses.treatmentcourse": "courses:course-detail",
}


def record_url(obj):
    """The page of a record, or None when it has none."""
    if hasattr(obj, "get_absolute_url"):
        return obj.get_absolute_url()
    name = RECORD_PAGES.get(obj._meta.label_lower)
    try:
        return reverse(name, args=[obj.pk]) if name else None
    except NoReverseMatch:
        return None


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(page_number(request.GET.get("page")))


@require_GET
@permission_required(AUDIT_PERMISSION, raise_exception=True)
def history(request, content_type_id, object_id):
    """Every change to one audited record: who, when, from where, each field before → after; for a
    patient, one timeline with every record under them (clinic.history)."""
    content_type = get_object_or_404(ContentType, pk=content_type_id)
    model = content_type.model_class()
    if model is None or not auditlog.contains(model):
        raise Http404("No history is kept for this kind of record.")
    manager = getattr(model, "all_objects", model._default_manager)  # voided entries keep their history
    obj = get_object_or_404(manager, pk=object_id)
    is_patient = isinstance(obj, Patient)
    page = _page(request, timeline_entries(obj))
    return render(
        request,
        "clinic/history.html",
        {
            "object": obj,
            "object_url": record_url(obj),
            "kind": model._meta.verbose_name,
            "page": page,
            "rows": readable_rows(page),
            "patient": obj if is_patient else None,
            "timeline": is_patient,
        },
    )


def _record_label(entry):
    data = entry.additional_data or {}
    label = data.get("record", "")
    if data.get("what"):
        label = f"{label} ({data['what']})" if label else data["what"]
    return label


@require_GET
@permission_required(AUDIT_PERMISSION, raise_exception=True)
def patient_access_log(request, pk):
    """Who opened this patient's record, and which part of it."""
    patient = get_object_or_404(Patient, pk=pk)
    page = _page(request, patient_access(patient))
    rows = [{"entry": entry, "record": _record_label(entry)} for entry in page]
    context = {"patient": patient, "patient_url": record_url(patient), "page": page, "rows": rows}
    return render(request, "clinic/patient_access.html", context)


@require_GET
@permission_required(AUDIT_PERMISSION, raise_exception=True)
def user_access_log(request, pk):
    """Every patient record one member of staff opened."""
    staff = get_object_or_404(get_user_model(), pk=pk)
    page = _page(request, user_access(staff))
    # Exports naming no one patient (log_event) are filed under the user, not a patient.
    patient_type = ContentType.objects.get_for_model(Patient)
    patients = Patient.objects.in_bulk(
        [int(entry.object_pk) for entry in page if entry.content_type_id == patient_type.pk]
    )
    rows = []
    for entry in page:
        is_patient = entry.content_type_id == patient_type.pk
        rows.append(
            {
                "entry": entry,
                "patient": patients.get(int(entry.object_pk)) if is_patient else None,
                "record": _record_label(entry),
                "event": not is_patient,
            }
        )
    return render(request, "clinic/user_access.html", {"staff": staff, "page": page, "rows": rows})


def _current_lockouts():
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
    ).order_by("-attempt_time")


@require_GET
@permission_required("axes.view_accessattempt", raise_exception=True)
def lockouts(request):
    """Usernames locked out of signing in from an address, with their unlock buttons."""
    rows = [
        {"attempt": attempt, "until": attempt.attempt_time + settings.AXES_COOLOFF_TIME}
        for attempt in _current_lockouts()[:200]
    ]
    return render(request, "clinic/lockouts.html", {"rows": rows})


@require_POST
@permission_required("clinic.change_user", raise_exception=True)
def lockout_unlock(request, pk):
    """Lift one lockout now (the user phoned the admin), instead of waiting for the cool-off."""
    attempt = get_object_or_404(AccessAttempt, pk=pk)
    axes_reset(ip=attempt.ip_address, username=attempt.username)
    messages.success(request, f"{attempt.username} can sign in again from {attempt.ip_address}.")
    return redirect("clinic:lockouts")
