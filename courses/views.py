from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.access import log_access
from clinic.changes import Change, announce
from clinic.forms import apply_service_errors
from clinic.inputs import page_number, record_id
from courses import safety, selectors, services
from courses.forms import (
    CompleteForm,
    CourseFilterForm,
    CourseForm,
    ExtendForm,
    LotSearchForm,
    OutcomeScoreForm,
    ProtocolSettingsForm,
    StopForm,
    WalkInForm,
)
from courses.models import CourseStatus, Lot, OutcomeScore, ProtocolSettings, TreatmentCourse
from patients.models import Patient
from scheduling import diary

COURSE_LIST_PAGE_SIZE = 25


def _with_choices(form, **loaded):
    """Load each model choice list of a course-page form once, with a plain query (iterating a
    ModelChoiceField's queryset opens a server-side cursor on PostgreSQL at every render), or take it
    from `loaded` (field name: the objects already in hand). The form renders with crispy."""
    for name, field in form.fields.items():
        if isinstance(field, django_forms.ModelChoiceField) and not hasattr(field, "_choices"):
            iterator = field.iterator(field)
            blank = [("", field.empty_label)] if field.empty_label is not None else []
            objects = loaded.get(name, field.queryset)
            field.choices = blank + [iterator.choice(obj) for obj in objects]
    return form


def _get_course(pk):
    try:
        return selectors.course_for_page(pk)
    except TreatmentCourse.DoesNotExist:
        raise Http404("No such course.") from None


@require_GET
@permission_required("courses.view_treatmentcourse", raise_exception=True)
def course_list(request):
    """Courses to work on: by default the signed-in practitioner's open courses."""
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = "open"
        if request.user.is_practitioner and "practitioner" not in data:
            data["practitioner"] = str(request.user.pk)
    form = CourseFilterForm(data)
    courses = TreatmentCourse.objects.for_list().order_by("-start_date", "-id")
    if form.is_valid():
        status = form.cleaned_data["status"]
        if status == "open":
            courses = courses.open()
        elif status in CourseStatus.values:
            courses = courses.filter(status=status)
        if form.cleaned_data["practitioner"]:
            courses = courses.filter(practitioner=form.cleaned_data["practitioner"])
        if form.cleaned_data["deviation"]:
            courses = courses.filter(is_protocol_deviation=True)
    page = Paginator(courses, COURSE_LIST_PAGE_SIZE).get_page(page_number(request.GET.get("page")))
    query = data.copy()
    query.pop("page", None)
    return render(
        request,
        "courses/course_list.html",
        {"form": form, "page": page, "querystring": query.urlencode()},
    )


@require_http_methods(["GET", "POST"])
@permission_required("courses.add_treatmentcourse", raise_exception=True)
def course_create(request):
    patient_pk = record_id(request.GET.get("patient") or request.POST.get("patient"))
    if patient_pk is None:
        messages.info(request, "Choose the patient first, then plan the course from their page.")
        return redirect(_patient_list_url())
    patient = get_object_or_404(Patient, pk=patient_pk)
    protocol = ProtocolSettings.load()
    if request.method == "POST":
        form = CourseForm(request.POST, patient=patient, protocol=protocol)
        if form.is_valid():
            try:
                course = services.course_create(
                    patient=patient, created_by=request.user, **_plan(form.cleaned_data)
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, f"Course planned: {course}.")
                return redirect("courses:course-detail", course.pk)
    else:
        initial = {
            "planned_sessions": protocol.default_sessions,
            "interval_days": protocol.default_interval_days,
            "start_date": timezone.localdate(),
            "consent": patient.consents.first(),
        }
        if request.user.is_practitioner:
            initial["practitioner"] = request.user
        form = CourseForm(initial=initial, patient=patient, protocol=protocol)
    return render(
        request,
        "courses/course_form.html",
        {"form": form, "patient": patient, "course": None, "protocol": protocol},
    )


def _plan(cleaned):
    return {name: cleaned[name] for name in services.PLAN_FIELDS if name in cleaned}


def _patient_list_url():
    try:
        return reverse("patients:patient-list")
    except NoReverseMatch:
        return reverse("courses:course-list")


@require_http_methods(["GET", "POST"])
@permission_required("courses.change_treatmentcourse", raise_exception=True)
def course_edit(request, pk):
    course = _get_course(pk)
    protocol = ProtocolSettings.load()
    if not course.is_open:
        messages.error(request, f"This course is {course.get_status_display().lower()}: its plan is closed.")
        return redirect("courses:course-detail", course.pk)
    form = CourseForm(request.POST or None, instance=course, patient=course.patient, protocol=protocol)
    if request.method == "POST" and form.is_valid():
        # The form edited `course` in place; the service reloads it under lock and applies the plan.
        try:
            course = services.course_update(
                course=course, updated_by=request.user, **_plan(form.cleaned_data)
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Course plan saved.")
            return redirect("courses:course-detail", course.pk)
    return render(
        request,
        "courses/course_form.html",
        {"form": form, "patient": course.patient, "course": course, "protocol": protocol},
    )


def _detail_context(request, course, **forms):
    clinical = request.user.has_perm("courses.view_clinical")
    protocol = ProtocolSettings.load()
    sessions = selectors.course_sessions(course, clinical=clinical)
    progress = selectors.course_progress(course, sessions, protocol)
    context = {
        "course": course,
        "patient": course.patient,
        "protocol": protocol,
        "sessions": sessions,
        "progress": progress,
        "clinical": clinical,
        "can_change": request.user.has_perm("courses.change_treatmentcourse"),
        "can_log": clinical and request.user.has_perm("courses.change_treatmentsession"),
        "extensions": list(course.extensions.select_related("created_by")),
        "next_sequence": selectors.next_sequence(sessions),
    }
    # Front desk sees only that a practitioner must review (templates/patients/_alerts_banner.html).
    context["alerts"] = safety.alerts_for(course.patient, protocol=protocol, course=course, sessions=sessions)
    if clinical:
        scores = selectors.course_scores(course)
        nrs = selectors.pain_instrument()
        instruments = selectors.score_instruments(course, nrs)
        pain_baseline, instrument_baseline = selectors.course_baselines(course, sessions, scores, nrs)
        context.update(
            scores=scores,
            pain_baseline=pain_baseline,
            instrument_baseline=instrument_baseline,
            responses=selectors.course_responses(course, sessions, scores, nrs),
            trend=selectors.course_trend(course, sessions, scores, nrs),
            timepoint_values=selectors.course_timepoints(course),
            can_score=request.user.has_perm("courses.add_outcomescore"),
            can_void_score=request.user.has_perm("courses.change_outcomescore"),
        )
    if context["can_change"]:
        context.update(
            complete_form=_with_choices(forms.get("complete_form") or CompleteForm()),
            stop_form=_with_choices(forms.get("stop_form") or StopForm()),
            extend_form=_with_choices(
                forms.get("extend_form")
                or ExtendForm(initial={"to_sessions": min(course.planned_sessions + 1, 20)})
            ),
        )
    if clinical and context.get("can_score"):
        context["score_form"] = _with_choices(
            forms.get("score_form") or OutcomeScoreForm(course=course), instrument=instruments
        )
    if context["can_log"]:
        context["walk_in_form"] = forms.get("walk_in_form") or WalkInForm(
            initial={"practitioner": request.user if request.user.is_practitioner else course.practitioner}
        )
    context["open_action"] = forms.get("open_action", "")
    return context


@require_GET
@permission_required("courses.view_treatmentcourse", raise_exception=True)
def course_detail(request, pk):
    course = _get_course(pk)
    log_access(request, course)
    return render(request, "courses/course_detail.html", _detail_context(request, course))


def _render_with_errors(request, course, **forms):
    messages.error(request, "Nothing was changed: see the messages below.")
    return render(
        request, "courses/course_detail.html", _detail_context(request, course, **forms), status=400
    )


@require_POST
@permission_required("courses.change_treatmentcourse", raise_exception=True)
def course_activate(request, pk):
    course = _get_course(pk)
    try:
        services.course_activate(course=course, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Course started.")
    return redirect("courses:course-detail", course.pk)


@require_POST
@permission_required("courses.change_treatmentcourse", raise_exception=True)
def course_complete(request, pk):
    course = _get_course(pk)
    form = CompleteForm(request.POST)
    if form.is_valid():
        try:
            services.course_complete(course=course, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Course completed. Follow-up scores can still be added.")
            return redirect("courses:course-detail", course.pk)
    return _render_with_errors(request, course, complete_form=form, open_action="complete")


@require_POST
@permission_required("courses.change_treatmentcourse", raise_exception=True)
def course_stop(request, pk):
    course = _get_course(pk)
    form = StopForm(request.POST)
    if form.is_valid():
        try:
            services.course_stop(course=course, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Course stopped.")
            return redirect("courses:course-detail", course.pk)
    return _render_with_errors(request, course, stop_form=form, open_action="stop")


@require_POST
@permission_required("courses.change_treatmentcourse", raise_exception=True)
@permission_required("courses.add_courseextension", raise_exception=True)
def course_extend(request, pk):
    course = _get_course(pk)
    form = ExtendForm(request.POST)
    if form.is_valid():
        try:
            extension = services.course_extend(course=course, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Course extended to {extension.to_sessions} sessions.")
            return redirect("courses:course-detail", course.pk)
    return _render_with_errors(request, course, extend_form=form, open_action="extend")


@require_POST
@permission_required("courses.add_outcomescore", raise_exception=True)
def score_add(request, pk):
    course = _get_course(pk)
    form = OutcomeScoreForm(request.POST, course=course)
    if form.is_valid():
        try:
            services.outcome_score_record(course=course, recorded_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Score recorded.")
            return redirect(reverse("courses:course-detail", args=[course.pk]) + "#scores")
    return _render_with_errors(request, course, score_form=form, open_action="score")


@require_POST
@permission_required("courses.change_outcomescore", raise_exception=True)
def score_void(request, pk, score_pk):
    course = _get_course(pk)
    score = get_object_or_404(OutcomeScore, pk=score_pk, course=course)
    try:
        services.outcome_score_void(score=score, by=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Score of {score.recorded_on:%d %b %Y} voided; it stays on record.")
    return redirect(reverse("courses:course-detail", args=[course.pk]) + "#scores")


@require_POST
@permission_required("courses.add_treatmentsession", raise_exception=True)
@permission_required("courses.view_clinical", raise_exception=True)
def session_walk_in(request, pk):
    """Start a session now for a patient who has nothing booked, then open the logging page."""
    course = _get_course(pk)
    form = WalkInForm(request.POST)
    if form.is_valid():
        try:
            session = diary.visit_walk_in(
                course=course,
                practitioner=form.cleaned_data["practitioner"],
                spacing_reason=form.cleaned_data["spacing_reason"],
                by=request.user,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Treatment {session.sequence} started: the patient is checked in.")
            return redirect(_session_log_url(session, course))
    return _render_with_errors(request, course, walk_in_form=form, open_action="walk-in")


def _session_log_url(session, course):
    try:
        return reverse("courses:session-log", args=[session.pk])
    except NoReverseMatch:
        # The logging page ships separately; until then the course page is the place to go back to.
        return reverse("courses:course-detail", args=[course.pk])


@require_GET
@permission_required("courses.view_clinical", raise_exception=True)
def course_trend_data(request, pk):
    course = _get_course(pk)
    log_access(request, course, what="pain trend data")
    sessions = selectors.course_sessions(course, clinical=False)
    scores = selectors.course_scores(course)
    return JsonResponse(selectors.course_trend(course, sessions, scores))


@require_GET
@permission_required("courses.view_clinical", raise_exception=True)
@permission_required("courses.view_lot", raise_exception=True)
def lot_recall(request):
    """Every patient and session that received a lot: search by lot number, then pick the lot."""
    form = LotSearchForm(request.GET)
    lots = list(form.lots())
    lot = None
    recipients = []
    lot_pk = request.GET.get("lot")
    if lot_pk:
        lot_pk = record_id(lot_pk)
        if lot_pk is None:
            raise Http404("No such lot.")
        lot = get_object_or_404(Lot.objects.select_related("product"), pk=lot_pk)
    elif len(lots) == 1:
        lot = lots[0]
    if lot is not None:
        recipients = list(selectors.lot_recipients(lot))
    patients = {c.session.patient_id for c in recipients}
    return render(
        request,
        "courses/lot_recall.html",
        {
            "form": form,
            "lots": lots,
            "lot": lot,
            "recipients": recipients,
            "patient_count": len(patients),
            "recalled_lots": []
            if form.has_query
            else list(Lot.objects.filter(recalled=True).select_related("product")),
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required("courses.change_protocolsettings", raise_exception=True)
def protocol_settings(request):
    protocol = ProtocolSettings.load()
    form = ProtocolSettingsForm(request.POST or None, instance=protocol)
    if request.method == "POST" and form.is_valid():
        form.save()
        # The spacing window and the protocol's ranges feed the adherence figures.
        announce(Change.CATALOGUE)
        messages.success(request, "Protocol settings saved. New courses are checked against them.")
        return redirect("courses:protocol-settings")
    return render(request, "courses/protocol_settings.html", {"form": form})
