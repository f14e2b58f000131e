import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.access import log_access
from clinic.forms import apply_service_errors
from clinic.inputs import page_number, record_id
from clinic.models import User
from clinic.pagination import CountedPagePaginator
from courses import safety
from courses.models import ProtocolSettings
from patients import selectors, services
from patients.forms import ArchiveForm, ConsentForm, PatientForm, ScreeningForm
from patients.models import Consent, Patient, Screening
from patients.record_export import patient_record

PAGE_SIZE = 25
# The complete-record export answers patients' right-of-access requests; clinic admins hold it.
RECORD_EXPORT_PERMISSION = "patients.export_patient_record"
STATUS_FILTERS = {"active": "Active", "archived": "Archived", "all": "All"}


def _patient(pk):
    return get_object_or_404(Patient.objects.select_related("primary_practitioner", "archived_by"), pk=pk)


def _search_page(patients, number):
    """A page of search results and their total in one query (clinic.pagination), instead of a COUNT
    and then the page: both would run the same name/phone match over the whole registry."""
    paginator = CountedPagePaginator(patients, PAGE_SIZE)
    number = max(1, page_number(number))
    try:
        return paginator.page(number)
    except EmptyPage:
        return paginator.get_page(number)  # past the end: the last page, as Paginator.get_page does


@permission_required("patients.view_patient", raise_exception=True)
@require_safe
def patient_list(request):
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "active")
    if status not in STATUS_FILTERS:
        status = "active"
    sort = request.GET.get("sort", selectors.DEFAULT_SORT)
    if sort.lstrip("-") not in selectors.SORTS:
        sort = selectors.DEFAULT_SORT
    practitioners = list(User.objects.practitioners())
    practitioner = None
    practitioner_id = request.GET.get("practitioner", "")
    if (practitioner_pk := record_id(practitioner_id)) is not None:
        practitioner = next((p for p in practitioners if p.pk == practitioner_pk), None)
    patients = selectors.patient_list(query=query, status=status, practitioner=practitioner, sort=sort)
    if query:
        page = _search_page(patients, request.GET.get("page"))
    else:
        page = Paginator(patients, PAGE_SIZE).get_page(page_number(request.GET.get("page")))
    context = {
        "page": page,
        "query": query,
        "status": status,
        "status_filters": STATUS_FILTERS,
        "sort": sort,
        "practitioners": practitioners,
        "practitioner": practitioner,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "patients/_patient_rows.html", context)
    return render(request, "patients/patient_list.html", context)


@permission_required("patients.view_patient", raise_exception=True)
@require_safe
def patient_detail(request, pk):
    patient = _patient(pk)
    log_access(request, patient)
    context = {"patient": patient}
    if request.user.has_perm("patients.view_consent"):
        context["consents"] = list(Consent.objects.filter(patient=patient).select_related("taken_by"))
    if request.user.has_perm("patients.view_screening"):
        screenings = Screening.prime_severities(
            Screening.objects.filter(patient=patient).select_related("screened_by")
        )
        latest = screenings[0] if screenings else None
        protocol = ProtocolSettings.load()
        context.update(
            screenings=screenings,
            screening=latest,
            screening_due=latest is None or latest.is_due(valid_days=protocol.screening_valid_days),
            screening_valid_days=protocol.screening_valid_days,
            alerts=safety.alerts_for(
                patient, protocol=protocol, screening=latest, consents=context.get("consents")
            ),
        )
    if request.user.has_perm("courses.view_treatmentcourse"):
        courses = selectors.patient_courses(patient)
        upcoming = [c.next_session_at for c in courses if c.next_session_at]
        context.update(
            current_courses=[c for c in courses if c.is_current],
            past_courses=[c for c in courses if not c.is_current],
            next_appointment=min(upcoming) if upcoming else None,
        )
    return render(request, "patients/patient_detail.html", context)


@permission_required("patients.add_patient", raise_exception=True)
@require_http_methods(["GET", "POST"])
def patient_create(request):
    # Set once the possible duplicates have been shown, so the confirmation box stays on the form.
    asked = request.method == "POST" and request.POST.get("duplicates_shown") == "1"
    form = PatientForm(request.POST or None, show_duplicate_confirmation=asked)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "confirm_not_duplicate"}
        duplicates = selectors.possible_duplicates(
            given_name=data["given_name"],
            family_name=data["family_name"],
            date_of_birth=data["date_of_birth"],
            phone=data["phone"],
        )
        if duplicates and not form.cleaned_data.get("confirm_not_duplicate"):
            if asked:
                form.add_error(
                    "confirm_not_duplicate",
                    "Open the possible duplicates above, or tick this box if this is a different person.",
                )
            else:
                form = PatientForm(request.POST, show_duplicate_confirmation=True)
                form.is_valid()
        else:
            try:
                patient = services.patient_create(created_by=request.user, **data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, f"{patient.full_name} registered as {patient.mrn}.")
                return redirect("patients:patient-detail", pk=patient.pk)
    return render(request, "patients/patient_form.html", {"form": form, "duplicates": duplicates})


@permission_required("patients.change_patient", raise_exception=True)
@require_http_methods(["GET", "POST"])
def patient_edit(request, pk):
    patient = _patient(pk)
    if patient.archived:
        messages.error(request, "Archived patients cannot be edited; restore the patient first.")
        return redirect("patients:patient-detail", pk=patient.pk)
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(patient=patient, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"{patient.full_name}'s details saved.")
            return redirect("patients:patient-detail", pk=patient.pk)
    return render(request, "patients/patient_form.html", {"form": form, "patient": patient})


@permission_required("patients.archive_patient", raise_exception=True)
@require_http_methods(["GET", "POST"])
def patient_archive(request, pk):
    patient = _patient(pk)
    if patient.archived:
        messages.info(request, f"{patient.full_name} is already archived.")
        return redirect("patients:patient-detail", pk=patient.pk)
    form = ArchiveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_archive(patient=patient, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"{patient.full_name} archived. Every record is kept.")
            return redirect("patients:patient-detail", pk=patient.pk)
    return render(request, "patients/patient_archive.html", {"form": form, "patient": patient})


@permission_required("patients.restore_patient", raise_exception=True)
@require_POST
def patient_restore(request, pk):
    patient = _patient(pk)
    try:
        services.patient_restore(patient=patient, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{patient.full_name} restored to the active list.")
    return redirect("patients:patient-detail", pk=patient.pk)


@permission_required("patients.add_screening", raise_exception=True)
@require_http_methods(["GET", "POST"])
def screening_create(request, pk):
    patient = _patient(pk)
    if patient.archived:
        messages.error(request, "Restore the patient before recording a screening.")
        return redirect("patients:patient-detail", pk=patient.pk)
    form = ScreeningForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.screening_record(patient=patient, screened_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Screening recorded.")
            return redirect(reverse("patients:patient-detail", args=[patient.pk]) + "#screening")
    return render(request, "patients/screening_form.html", {"form": form, "patient": patient})


@permission_required("patients.add_consent", raise_exception=True)
@require_http_methods(["GET", "POST"])
def consent_create(request, pk):
    patient = _patient(pk)
    if patient.archived:
        messages.error(request, "Restore the patient before recording a consent.")
        return redirect("patients:patient-detail", pk=patient.pk)
    form = ConsentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_record(patient=patient, taken_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Consent recorded.")
            return redirect(reverse("patients:patient-detail", args=[patient.pk]) + "#consents")
    return render(request, "patients/consent_form.html", {"form": form, "patient": patient})


@permission_required("patients.view_consent", raise_exception=True)
@require_safe
def consent_document(request, pk):
    """The scanned consent form, to signed-in staff allowed to see consents; never a public URL."""
    consent = get_object_or_404(Consent.objects.select_related("patient"), pk=pk)
    if not consent.document:
        raise Http404("No scanned form for this consent.")
    try:
        handle = consent.document.open("rb")
    except FileNotFoundError as error:
        raise Http404("The scanned form is missing from storage.") from error
    log_access(request, consent, what="scanned consent form")
    extension = consent.document.name.rsplit(".", 1)[-1]
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"consent-{consent.patient.mrn}-{consent.consented_on:%Y-%m-%d}.{extension}",
        content_type=mimetypes.types_map.get(f".{extension}", "application/octet-stream"),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@permission_required(RECORD_EXPORT_PERMISSION, raise_exception=True)
@require_safe
def patient_record_page(request, pk):
    """The patient's complete record as a printable page (right of access)."""
    patient = _patient(pk)
    log_access(request, patient, what="complete record (printable)")
    record = patient_record(patient, exported_by=request.user)
    return render(request, "patients/patient_record.html", {"patient": patient, "record": record})


@permission_required(RECORD_EXPORT_PERMISSION, raise_exception=True)
@require_safe
def patient_record_json(request, pk):
    """The patient's complete record as a JSON download (right of access)."""
    patient = _patient(pk)
    log_access(request, patient, what="complete record (JSON)")
    record = patient_record(patient, exported_by=request.user)
    response = JsonResponse(record.as_dict(), json_dumps_params={"indent": 2, "ensure_ascii": False})
    stamp = f"{timezone.localdate():%Y%m%d}"
    response["Content-Disposition"] = f'attachment; filename="patient-record-{patient.mrn}-{stamp}.json"'
    response["Cache-Control"] = "private, no-store"
    return response
