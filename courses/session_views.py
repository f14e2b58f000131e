"""The session-logging page (with the patient in the chair) and the patient's aftercare handout."""

import json

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.access import log_access
from clinic.inputs import record_id
from clinic.next_url import safe_next
from courses import safety, timeline
from courses import services as course_services
from courses.forms import PatientReportDismissForm
from courses.models import (
    LIVE_SESSION_STATUSES,
    Injection,
    PatientSideEffectReport,
    PreparationComponent,
    ProtocolSettings,
    SessionStatus,
    SideEffect,
    TreatmentSession,
)
from courses.selectors import earlier_treatment_sites
from courses.session_forms import (
    FORMSETS,
    ConfirmationForm,
    PreparationFormSet,
    SessionCatalogue,
    SessionForm,
    VoidForm,
    preparation_title,
)
from courses.session_services import (
    ConfirmationRequired,
    SessionConflict,
    allergy_clashes,
    injected_volume,
    latest_screening,
    next_appointment,
    preparation_strengths,
    repeat_last_treatment,
    resume_date,
    session_day,
    session_gates,
    session_record,
    session_warnings,
)
from courses.sites import body_chart

EDIT_PERMISSIONS = ("courses.change_treatmentsession", "courses.view_clinical", "courses.add_injection")


def _reverse_or_none(name, *args):
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _load_session(pk):
    """The session with everything the page shows, in a fixed number of queries."""
    return get_object_or_404(
        TreatmentSession.objects.select_related(
            "course__condition", "course__consent", "patient", "practitioner", "completed_by"
        ).prefetch_related(
            "preparations",
            Prefetch(
                "components",
                queryset=PreparationComponent.objects.select_related("lot__product"),
            ),
            Prefetch("injections", queryset=Injection.objects.select_related("site")),
            Prefetch(
                "reported_side_effects",
                queryset=SideEffect.objects.select_related("term", "site", "attributed_session"),
            ),
        ),
        pk=pk,
    )


class _Visit:
    """What the page knows around the session, each read on first use: a valid save reads none of it."""

    def __init__(self, session):
        self.session = session

    @cached_property
    def course_sessions(self):
        return list(
            TreatmentSession.objects.filter(course_id=self.session.course_id).order_by(
                "starts_at", "sequence"
            )
        )

    @cached_property
    def attributable(self):
        """This visit and the course's earlier treatments: what a side effect can be put down to."""
        return timeline.attributable(self.session, self.course_sessions)

    @cached_property
    def default_attribution(self):
        return timeline.default_attribution(self.session, self.course_sessions).pk

    @cached_property
    def protocol(self):
        return ProtocolSettings.load()

    @cached_property
    def screening(self):
        return latest_screening(self.session.patient, "screened_by")  # the page names who screened


def _context(request, session, *, forms, visit, can_edit, editing, warnings=()):
    course_sessions, screening, protocol = visit.course_sessions, visit.screening, visit.protocol
    completed_earlier = [
        s
        for s in timeline.treatments(course_sessions)
        if s.starts_at < session.starts_at and s.pk != session.pk
    ]
    booked_day = session_day(session)
    open_visit = session.status in (SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN)
    components = list(session.components.all())
    injections = list(session.injections.all())
    preparations = _saved_preparations(session, components, injections)
    first_to_come = not completed_earlier and not timeline.is_treatment(session)
    if "void_form" in forms:
        for kind, rows in forms["void_form"].saved.items():
            for row in rows:
                row.void_controls = forms["void_form"].bound(kind, row)
    return {
        "page_title": _visit_title(session),
        "visit_numbered": session.status in LIVE_SESSION_STATUSES and not session.assessment_only,
        "move_to_now_url": reverse("scheduling:session-move-to-now", args=[session.pk])
        if can_edit and open_visit and booked_day != timezone.localdate() and session.course.is_open
        else "",
        "booked_later": booked_day > timezone.localdate(),
        "warning_codes": [warning.code for warning in warnings],
        "session": session,
        "course": session.course,
        "patient": session.patient,
        "alerts": safety.alerts(
            screening=screening,
            protocol=protocol,
            day=booked_day,
            course=session.course,
            consent_needed=open_visit and first_to_come,
        ),
        "allergy_clashes": allergy_clashes(screening, [c.lot for c in components]),
        "previous_session": completed_earlier[-1] if completed_earlier else None,
        "repeat_url": "?repeat=1" if editing and completed_earlier and _may_repeat(session) else "",
        "completed_count": len(timeline.treatments(course_sessions)),
        "components": components,
        "injections": injections,
        "side_effects": list(session.reported_side_effects.all()),
        "preparations": preparations,
        "summary": preparation_strengths(components) if len(preparations) < 2 else None,
        "injected_volume": injected_volume(injections),
        "can_edit": can_edit,
        "editing": editing,
        "warnings": warnings,
        "course_url": _reverse_or_none("courses:course-detail", session.course_id),
        "patient_url": _reverse_or_none("patients:patient-detail", session.patient_id),
        "handout_url": reverse("courses:session-handout", args=[session.pk]),
        "chart": _body_chart(session, forms["catalogue"], completed_earlier)
        if "catalogue" in forms
        else None,
        "patient_reports": _patient_reports(forms),
        **forms,
    }


def _body_chart(session, catalogue, earlier_treatments):
    """The session page's body chart: the catalogue's sites, zoomed to the course's region."""
    return body_chart(
        catalogue.sites.values(),
        region=session.course.body_region,
        previous=earlier_treatment_sites(earlier_treatments),
    )


def _patient_reports(forms):
    """The patient's waiting check-in reports, each with the row it would fill, minus those a row on the
    page already confirms."""
    if "catalogue" not in forms:
        return []
    on_page = {
        form.report.pk
        for form in forms["side_effects_formset"].forms
        if form.report is not None and not (form.is_bound and form["DELETE"].value())
    }
    return [
        {"report": report, "fill_json": json.dumps(report_initial(report))}
        for report in forms["catalogue"].patient_reports.values()
        if report.pk not in on_page
    ]


def _may_repeat(session):
    """The last treatment is offered as a start only on a visit with nothing injected yet."""
    return (
        session.status != SessionStatus.COMPLETED
        and not session.components.all()
        and not session.injections.all()
    )


def _visit_title(session):
    if session.assessment_only:
        return "Assessment visit"
    if session.status in (SessionStatus.CANCELLED, SessionStatus.NO_SHOW):
        return f"{session.get_status_display()} visit"
    return f"Treatment {session.sequence}"


def _saved_preparations(session, components, injections):
    """The session's standing preparations as the page lists them: number and label, their components,
    strengths per agent (preparation_strengths) and the volume injected from each."""
    listed = []
    for number, preparation in enumerate(session.preparations.all(), start=1):
        mine = [c for c in components if c.preparation_id == preparation.pk]
        from_it = [i for i in injections if i.preparation_id == preparation.pk]
        title = preparation_title(number, preparation.label)
        for injection in from_it:
            injection.preparation_title = title
        listed.append(
            {
                "key": f"s{preparation.pk}",
                "title": title,
                "preparation": preparation,
                "components": mine,
                "strengths": preparation_strengths(mine),
                "injected": injected_volume(from_it),
            }
        )
    return listed


def _repeat_initial(plan):
    """The forms' initial rows from repeat_last_treatment(): nothing is saved until the practitioner saves."""
    preparations = [{"label": p["label"]} for p in plan.preparations]
    components = [
        {
            "preparation": f"n{index}",
            "lot": row["lot"].pk if row["lot"] else None,
            "volume_ml": row["volume_ml"],
            "note": row["note"],
        }
        for index, p in enumerate(plan.preparations)
        for row in p["components"]
    ]
    injections = [
        {
            **{name: value for name, value in row.items() if name not in ("site", "preparation")},
            "site": row["site"].pk,
            "preparation": "" if row["preparation"] is None else f"n{row['preparation']}",
        }
        for row in plan.injections
    ]
    return {"preparations": preparations, "components": components, "injections": injections}


def report_initial(report):
    """A side-effect row filled from a patient's check-in report, for the practitioner to check and grade."""
    return {
        "term": report.term_id,
        "attributed_session": report.session_id,
        "onset_date": report.reported_on.isoformat(),
        "severity": report.grade or 1,
        "notes": f"Reported by the patient in the check-in of {report.reported_on:%d %b %Y}: "
        f"{report.description}"[:1000],
        "patient_report": report.pk,
    }


def _requested_reports(request, catalogue):
    """The waiting reports named by `?report=` (the "Check and add" links without the page's script);
    anything else named there is left out with a message."""
    wanted = request.GET.getlist("report")[:30]
    found = []
    for value in wanted:
        report = catalogue.patient_reports.get(record_id(value))
        if report is None:
            messages.warning(request, "A patient report named in the address is no longer waiting.")
        elif report not in found:
            found.append(report)
    return found


def _build_forms(request, session, visit, data=None, repeat=None):
    catalogue = SessionCatalogue(session, attributable_sessions=lambda: visit.attributable)
    initial = _repeat_initial(repeat) if repeat is not None else {}
    if data is None and "report" in request.GET:
        initial["side_effects"] = [report_initial(r) for r in _requested_reports(request, catalogue)]
    saved = {
        "preparations": list(session.preparations.all()),
        "components": list(session.components.all()),
        "injections": list(session.injections.all()),
        "side_effects": list(session.reported_side_effects.all()),
    }
    forms = {
        "form": SessionForm(data, instance=session, initial={"version": session.version}),
        "confirm_form": ConfirmationForm(data, session=session),
        "void_form": VoidForm(data, saved=saved),
    }
    # A client that sends no preparations formset (one syringe, as before several were possible) has its
    # components go into the session's preparation, or a new one.
    preparation_data = data if data is None or "preparations-TOTAL_FORMS" in data else None
    first_syringe = [{}] if not saved["preparations"] else []
    forms["preparations_formset"] = PreparationFormSet(
        preparation_data,
        prefix="preparations",
        initial=initial.get("preparations") or (first_syringe if data is None else None),
        form_kwargs={"catalogue": catalogue},
    )
    catalogue.new_preparations = forms["preparations_formset"].total_form_count()
    for prefix, formset_class in FORMSETS:
        kwargs = {"catalogue": catalogue}
        if prefix == "side_effects":
            kwargs["default_attribution"] = lambda: visit.default_attribution
        forms[f"{prefix}_formset"] = formset_class(
            data, prefix=prefix, form_kwargs=kwargs, initial=initial.get(prefix)
        )
    forms["catalogue"] = catalogue
    return forms


def _preparation_rows(forms, rows):
    """The new preparations to save, each named by its form's key ("n<index>"): an untouched one is kept when
    a component goes into it. Injections naming a new preparation with nothing drawn into it name none (as
    on a visit whose syringe is not recorded)."""
    named = {row.get("preparation") for row in rows["components"]}
    formset = forms["preparations_formset"]
    kept, keyed = [], []
    for index, form in enumerate(formset.forms):
        key = f"n{index}"
        if form in formset.deleted_forms or not (form.has_changed() or key in named):
            continue
        kept.append(form)
        keyed.append({**form.row(), "key": key})
    saving = {row["key"] for row in keyed}
    for row in rows["injections"]:
        if isinstance(row.get("preparation"), str) and row["preparation"] not in saving:
            row["preparation"] = None
    return keyed, kept


def _apply_errors(forms, error):
    """Put service errors beside the fields they name: '<kind>.<index>.<field>' or a session field."""
    form = forms["form"]
    rows = forms.pop("_rows")
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, messages_ in error.message_dict.items():
        kind, _, rest = key.partition(".")
        if rest and kind in rows:
            index, _, field = rest.partition(".")
            target = rows[kind][int(index)]
            if target is None or field == "void_reason":
                form.add_error(None, messages_)
                continue
            field = None if field == NON_FIELD_ERRORS or field not in target.fields else field
            target.add_error(field, messages_)
        elif key in form.fields:
            form.add_error(key, messages_)
        else:
            form.add_error(None, messages_)


@require_http_methods(["GET", "POST"])
def session_log(request, pk):
    """Log a visit: session fields, preparation, injections and side effects since the last visit."""
    if not request.user.has_perms(("courses.view_treatmentsession", "courses.view_clinical")):
        raise PermissionDenied
    can_edit = request.user.has_perms(EDIT_PERMISSIONS)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied

    session = _load_session(pk)
    if request.method == "GET":
        log_access(request, session)
    visit = _Visit(session)
    loggable = session.status not in (SessionStatus.CANCELLED, SessionStatus.NO_SHOW)
    editing = (
        can_edit
        and loggable
        and (
            session.status != SessionStatus.COMPLETED
            or request.GET.get("edit") == "1"
            or request.method == "POST"
        )
    )
    context_kwargs = {"visit": visit, "can_edit": can_edit and loggable, "editing": editing}

    if request.method == "GET" or not editing:
        if request.method == "POST":
            messages.error(request, f"A {session.get_status_display().lower()} session cannot be logged.")
            return redirect("courses:session-log", session.pk)
        repeat = None
        if editing and request.GET.get("repeat") == "1" and _may_repeat(session):
            repeat = repeat_last_treatment(session)
        forms = _build_forms(request, session, visit, repeat=repeat) if editing else {}
        context = _context(request, session, forms=forms, **context_kwargs)
        context["repeat"] = repeat
        return render(request, "courses/session_log.html", context)

    forms = _build_forms(request, session, visit, data=request.POST)
    action = request.POST.get("action")
    complete = action in ("complete", "assessment")
    valid = all(
        f.is_valid()
        for f in (
            forms["form"],
            forms["confirm_form"],
            forms["void_form"],
            *(forms[f"{prefix}_formset"] for prefix, _ in FORMSETS),
        )
    ) and (not forms["preparations_formset"].is_bound or forms["preparations_formset"].is_valid())
    warnings = ()
    if valid:
        rows, row_forms = {}, {}
        for prefix, _ in FORMSETS:
            formset = forms[f"{prefix}_formset"]
            kept = [f for f in formset.forms if f.has_changed() and f not in formset.deleted_forms]
            voids = forms["void_form"].rows(prefix)
            rows[prefix] = voids + [f.row() for f in kept]
            row_forms[prefix] = [None] * len(voids) + kept
        voids = forms["void_form"].rows("preparations")
        new_preparations, kept = _preparation_rows(forms, rows)
        rows["preparations"] = voids + new_preparations
        row_forms["preparations"] = [None] * len(voids) + kept
        data = {name: forms["form"].cleaned_data.get(name) for name in forms["form"].Meta.fields}
        data["complete"] = complete
        data["assessment_only"] = action == "assessment"
        try:
            saved = session_record(
                session=session,
                data=data,
                components=rows["components"],
                injections=rows["injections"],
                side_effects=rows["side_effects"],
                preparations=rows["preparations"],
                recorded_by=request.user,
                expected_version=forms["form"].cleaned_data["version"],
                confirmations=forms["confirm_form"].cleaned_data,
            )
        except SessionConflict as conflict:
            messages.error(request, str(conflict))
        except ConfirmationRequired as needed:
            warnings = needed.warnings
            messages.warning(request, "Check the warnings below and give a reason for each to save.")
        except ValidationError as error:
            forms["_rows"] = row_forms
            _apply_errors(forms, error)
            messages.error(request, "Nothing was saved: correct the entries marked below.")
        else:
            done = "completed" if complete else "saved"
            messages.success(request, f"{_visit_title(saved)} {done}.")
            return redirect("courses:session-log", session.pk)
    else:
        messages.error(request, "Nothing was saved: correct the entries marked below.")
    if not warnings:
        warnings = _preview_warnings(session, forms, visit, complete and action != "assessment")
    context = _context(request, session, forms=forms, warnings=warnings, **context_kwargs)
    context["complete_requested"] = complete
    return render(request, "courses/session_log.html", context)


def _preview_warnings(session, forms, visit, complete):
    """The warnings this save will meet, so their reason fields are on the page next time."""
    course_sessions = visit.course_sessions
    new_lots = []
    completing = complete and session.status != SessionStatus.COMPLETED
    injecting = completing and (bool(session.components.all()) or bool(session.injections.all()))
    for prefix in ("components", "injections"):
        formset = forms[f"{prefix}_formset"]
        for form in formset.forms:
            if form.has_changed() and form.is_valid() and not form.cleaned_data.get("DELETE"):
                injecting = True
                if prefix == "components" and form.cleaned_data.get("lot"):
                    new_lots.append(form.cleaned_data["lot"])
    given = [s for s in timeline.treatments(course_sessions) if s.pk != session.pk]
    earlier = [s for s in given if s.starts_at < session.starts_at]
    gates = None
    if injecting:
        gates = session_gates(
            session=session,
            screening=visit.screening,
            protocol=visit.protocol,
            lots=[c.lot for c in session.components.all()] + new_lots,
            first_treatment=not earlier,
        )
    return session_warnings(
        session=session,
        gates=gates,
        protocol=visit.protocol,
        previous=earlier[-1] if earlier else None,
        completed_before=len(given),
        completing=completing,
    )


@require_GET
def session_handout(request, pk):
    """The patient's aftercare sheet: advice given, what to expect, warning signs, next appointment."""
    if not request.user.has_perms(("courses.view_treatmentsession", "courses.view_clinical")):
        raise PermissionDenied
    session = get_object_or_404(
        TreatmentSession.objects.select_related(
            "course__condition", "patient", "practitioner"
        ).prefetch_related(Prefetch("injections", queryset=Injection.objects.select_related("site"))),
        pk=pk,
    )
    log_access(request, session, what="aftercare handout")
    injections = list(session.injections.all())
    regions = {injection.site.region for injection in injections}
    risk_notes = sorted({injection.site.risk_note for injection in injections if injection.site.risk_note})
    return render(
        request,
        "courses/session_handout.html",
        {
            "session": session,
            "patient": session.patient,
            "course": session.course,
            "injections": injections,
            "thoracic": "thoracic" in regions or any("pneumothorax" in note.lower() for note in risk_notes),
            "spinal": bool(regions & {"cervical", "thoracic", "lumbar_pelvis"}),
            "next_session": next_appointment(session),
            "resume_on": resume_date(session),
            "back_url": reverse("courses:session-log", args=[session.pk]),
        },
    )


@require_POST
def patient_report_dismiss(request, pk):
    """The practitioner decides a patient's check-in report is not a side effect, saying why."""
    if not request.user.has_perms(("courses.change_patientsideeffectreport", "courses.view_clinical")):
        raise PermissionDenied
    report = get_object_or_404(PatientSideEffectReport.objects.select_related("course"), pk=pk)
    back = safe_next(request, reverse("courses:course-detail", args=[report.course_id]))
    form = PatientReportDismissForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The report was not dismissed: " + " ".join(form.errors["reason"]))
        return redirect(back)
    try:
        course_services.patient_report_dismiss(
            report=report, by=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Dismissed: {report.description}")
    return redirect(back)
