from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.inputs import page_number
from questionnaires.alerts import alert_acknowledge, alerts_open
from questionnaires.fhir_import import parse_json
from questionnaires.fhir_import import questionnaire_import as import_resource
from questionnaires.forms import FhirImportForm
from questionnaires.models import Assignment, UrgentAlert
from questionnaires.selectors import follow_ups_to_chase
from questionnaires.services import assignment_hand_over, assignment_resend


@require_http_methods(["GET", "POST"])
@permission_required("questionnaires.add_questionnaire", raise_exception=True)
def questionnaire_import(request):
    """A clinic admin imports a FHIR R4 Questionnaire: every item or nothing, with every problem listed."""
    form = FhirImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                questionnaire = import_resource(
                    resource=parse_json(data["text"]),
                    scoring=data["scoring"],
                    min_answered=data["min_answered"],
                    instrument=data["instrument"],
                    higher_is_better=data["higher_is_better"],
                    code=data["code"],
                    copyright_note=data["copyright_note"],
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(
                    request, f"Imported {questionnaire.name} with {questionnaire.items.count()} questions."
                )
                return redirect(reverse("admin:questionnaires_questionnaire_change", args=[questionnaire.pk]))
        status = 400
        messages.error(request, "Nothing was imported: see the messages below.")
    return render(request, "questionnaires/import.html", {"form": form}, status=status)


def _course_page(assignment):
    return redirect(reverse("courses:course-detail", args=[assignment.course_id]) + "#questionnaires")


@require_POST
@permission_required("questionnaires.send_assignment", raise_exception=True)
def assignment_send_again(request, pk):
    """Front desk or a practitioner sends the invitation again (through the outbox, with a new link)."""
    assignment = get_object_or_404(
        Assignment.objects.select_related("course__patient", "questionnaire"), pk=pk
    )
    first = assignment.invited_at is None
    again = "" if first else " again"
    try:
        assignment_resend(assignment=assignment, by=request.user)
    except ValidationError as error:
        messages.error(
            request, f"“{assignment.questionnaire.name}” was not sent{again}: {' '.join(error.messages)}"
        )
    else:
        messages.success(
            request,
            f"“{assignment.questionnaire.name}” will be e-mailed{again} to {assignment.course.patient.email}"
            + (" now." if first else " with a new link; the earlier link stops working."),
        )
    return _course_page(assignment)


@require_POST
@permission_required("questionnaires.send_assignment", raise_exception=True)
def assignment_tablet(request, pk):
    """Hand the clinic tablet to the patient: a new link for this questionnaire, the member of staff signed
    out (their session flushed, so nothing of the staff site stays on the tablet), and the patient's page,
    where the patient confirms their date of birth as with an e-mailed link."""
    assignment = get_object_or_404(
        Assignment.objects.select_related("course__patient", "questionnaire"), pk=pk
    )
    try:
        token = assignment_hand_over(assignment=assignment, by=request.user)
    except ValidationError as error:
        messages.error(
            request, f"“{assignment.questionnaire.name}” cannot be filled in now: {' '.join(error.messages)}"
        )
        return _course_page(assignment)
    logout(request)
    return redirect("answer:start", token)


@require_GET
@permission_required("questionnaires.view_urgentalert", raise_exception=True)
def urgent_alerts(request):
    """Check-ins that need a practitioner today and nobody has acknowledged yet, oldest first; the
    signed-in practitioner's own first."""
    alerts = list(alerts_open())
    alerts.sort(key=lambda alert: alert.practitioner_id != request.user.pk)
    return render(
        request,
        "questionnaires/urgent_alerts.html",
        {"alerts": alerts, "can_acknowledge": request.user.has_perm("questionnaires.change_urgentalert")},
    )


@require_POST
@permission_required("questionnaires.change_urgentalert", raise_exception=True)
def urgent_alert_acknowledge(request, pk):
    alert = get_object_or_404(UrgentAlert, pk=pk)
    try:
        alert_acknowledge(alert=alert, by=request.user)
    except ValidationError as error:
        messages.error(request, f"Not acknowledged: {' '.join(error.messages)}")
    else:
        messages.success(request, "Acknowledged: the alert is recorded with your name and the time.")
    next_url = request.POST.get("next", "")
    if next_url == "list":
        return redirect("questionnaires:urgent-alerts")
    return redirect(reverse("courses:course-detail", args=[alert.course_id]) + "#urgent")


CHASE_PAGE_SIZE = 50


@require_GET
@permission_required("scheduling.view_worklists", raise_exception=True)
def follow_ups_missing(request):
    """The work list of follow-up questionnaires to chase: open and not answered, or (?closed=1) closed
    unanswered lately; with the patient's phone number, paginated."""
    closed = request.GET.get("closed") == "1"
    rows = follow_ups_to_chase(timezone.now(), closed=closed)
    page = Paginator(rows, CHASE_PAGE_SIZE).get_page(page_number(request.GET.get("page")))
    return render(
        request,
        "questionnaires/follow_ups_missing.html",
        {"page": page, "closed": closed},
    )
