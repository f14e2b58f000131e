from urllib.parse import urlencode

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET

from api import fhir_bulk
from clinic.access import log_access, log_event
from clinic.csv_export import csv_response, streaming_csv_response
from clinic.inputs import page_number
from clinic.models import User
from courses.models import OutcomeInstrument, ProtocolSettings
from outcomes import definitions, exports, figures, responders, selectors, survival
from outcomes.forms import OutcomeFilterForm, practitioner_list
from outcomes.reports import ReportCache
from outcomes.trend import patient_trend
from patients.models import Patient
from questionnaires.rates import NAME as response_rates_name
from questionnaires.rates import response_rates


class _Report:
    """The request's filters, its scoped course queryset and a link builder for drill-down lists."""

    def __init__(self, request):
        self.cache = ReportCache(request.user)
        practitioners = None
        if request.user.has_perm("courses.view_all_outcomes"):
            ids = self.cache.practitioner_ids(lambda: list(practitioner_list().values_list("pk", flat=True)))
            practitioners = User.objects.filter(pk__in=ids).order_by("last_name", "first_name", "username")
        self.form = OutcomeFilterForm(request.GET or None, user=request.user, practitioners=practitioners)
        self.filters = self.form.filters()
        self.params = self.form.query_params()
        self.cache.bind(self.filters, self.params)
        self._user = request.user

    @cached_property
    def courses(self):
        """The scoped, filtered, annotated courses: built only when a figure is computed, not for a cached one
        (building the annotations alone cost a few milliseconds a request)."""
        return selectors.outcome_courses(self._user, self.filters)

    @cached_property
    def reading(self):
        """(timepoint, instrument) the responder figures are read at (outcomes.responders.reading)."""
        return responders.reading(self.filters)

    def link(self, figure, **group):
        params = {**self.params, **{key: value for key, value in group.items() if value is not None}}
        params["figure"] = figure
        return f"{reverse('outcomes:course-list')}?{urlencode(params)}"

    def querystring(self):
        return urlencode(self.params)

    def table(self, name):
        builder = TABLES.get(name)
        if builder is None:
            raise Http404("No such table.")
        return builder(self)

    def cached_table(self, name):
        if name not in TABLES:
            raise Http404("No such table.")

        def compute():
            with selectors.reporting():
                return self.table(name)

        return self.cache.table(name, compute)


def _by_timepoint(report):
    _, instrument = report.reading
    if instrument is None:
        raise Http404("No outcome measure.")
    return responders.by_timepoint(report.courses, instrument, link=report.link)


def _by_group(report, dimension):
    timepoint, instrument = report.reading
    if timepoint is None or instrument is None:
        raise Http404("No timepoint or outcome measure.")
    return responders.by_group(report.courses, instrument, timepoint, dimension, link=report.link)


def _condition_by_band(report):
    timepoint, instrument = report.reading
    if timepoint is None or instrument is None:
        raise Http404("No timepoint or outcome measure.")
    return responders.condition_by_band(report.courses, instrument, timepoint, link=report.link)


TABLES = {
    "pain-by-session": lambda r: selectors.pain_by_session(r.courses, link=r.link),
    "pain-by-week": lambda r: selectors.pain_by_week(r.courses, link=r.link),
    "responders-timepoints": _by_timepoint,
    **{
        f"responders-{dimension}": (lambda r, d=dimension: _by_group(r, d)) for dimension in responders.GROUPS
    },
    "responders-condition-band": _condition_by_band,
    "time-to-discontinuation": lambda r: survival.discontinuation_table(r.courses),
    "time-to-response": lambda r: survival.response_table(r.courses),
    "side-effects-term": lambda r: selectors.side_effects_by_term(r.courses, link=r.link),
    "side-effects-band": lambda r: selectors.side_effects_by_band(r.courses, link=r.link),
    "side-effects-region": lambda r: selectors.side_effects_by_region(r.courses, link=r.link),
    "serious-events": lambda r: selectors.serious_events_table(r.courses, link=r.link),
    "drop-out": lambda r: selectors.adherence(r.courses, link=r.link)["table"],
    response_rates_name: lambda r: response_rates(r.courses),
}


def _responders_tab(report):
    _, instrument = report.reading
    table = report.table("responders-timepoints") if instrument else None
    rates = report.table(response_rates_name)
    return {"timepoint_table": table, "response_rates_table": rates}, [table, rates] if table else [rates]


def _groups_tab(report):
    timepoint, instrument = report.reading
    tables = []
    if timepoint is not None and instrument is not None:
        tables = [report.table(f"responders-{d}") for d in ("condition", "practitioner", "anaesthetic")]
    return {"responder_tables": tables}, tables


def _dose_tab(report):
    timepoint, instrument = report.reading
    tables = []
    if timepoint is not None and instrument is not None:
        tables = [report.table(f"responders-{d}") for d in ("band", "sessions", "volume")]
        tables.append(report.table("responders-condition-band"))
    return {"dose_tables": tables}, tables


def _time_tab(report):
    tables = [report.table("time-to-discontinuation"), report.table("time-to-response")]
    return {"survival_tables": tables}, tables


def _pain_tab(report):
    tables = [report.table("pain-by-session"), report.table("pain-by-week")]
    return {"pain_tables": tables}, tables


def _safety_tab(report):
    tables = [
        report.table(name) for name in ("side-effects-term", "side-effects-band", "side-effects-region")
    ]
    serious = report.table("serious-events")
    context = {"safety_tables": tables, "serious_table": serious, "headline": _headline(report)}
    return context, [*tables, serious]


def _adherence_tab(report):
    adherence = selectors.adherence(report.courses, link=report.link)
    return {"adherence": adherence, "headline": _headline(report)}, [adherence["table"]]


def _definitions_tab(report):
    context = {
        "definitions": definitions.catalogue_definitions(),
        "text": definitions,
        "timepoints": responders.timepoint_choices()[0],
        "protocol": ProtocolSettings.load(),
    }
    return context, []


# The dashboard's sections, one per ?tab= (templates/outcomes/_dashboard_tab.html). Each is computed when it
# is opened, so the first request after a write pays for the headline and one section, not for every table.
TABS = {
    "responders": ("Responders", _responders_tab),
    "groups": ("By condition and practitioner", _groups_tab),
    "time": ("Time to event", _time_tab),
    "dose": ("Dose and exposure", _dose_tab),
    "pain": ("Pain trend", _pain_tab),
    "safety": ("Safety", _safety_tab),
    "adherence": ("Adherence", _adherence_tab),
    "definitions": ("Definitions", _definitions_tab),
}
DEFAULT_TAB = "responders"


def _headline(report):
    """The headline counts (a few of them also stand in the safety and adherence sections)."""
    return selectors.memo(
        report.courses, "headline", lambda: selectors.headline(report.courses, link=report.link)
    )


def _headline_context(report):
    timepoint, instrument = report.reading
    return {
        "headline": _headline(report),
        "primary": responders.headline(report.courses, timepoint, instrument, link=report.link),
    }


@require_GET
@permission_required("courses.view_outcomes", raise_exception=True)
def dashboard(request):
    tab = request.GET.get("tab") or DEFAULT_TAB
    if tab not in TABS:
        raise Http404("No such section of the dashboard.")
    report = _Report(request)
    # The headline and each section are rendered once per scope, filters, day and data version
    # (outcomes.reports), the filter form once per scope, query string and version; the page frame around
    # them for each request. A section's tables are stored too, for its charts and CSV downloads.
    headline_html = report.cache.get("headline")
    section_html = report.cache.get(f"section:{tab}")
    if headline_html is None or section_html is None:
        with selectors.reporting():
            if headline_html is None:
                headline_html = render_to_string(
                    "outcomes/_dashboard_headline.html", _headline_context(report), request=request
                )
                report.cache.set("headline", headline_html)
            if section_html is None:
                context, tables = TABS[tab][1](report)
                context["tab"] = tab
                context["querystring"] = report.querystring()
                section_html = render_to_string("outcomes/_dashboard_tab.html", context, request=request)
                report.cache.set(f"section:{tab}", section_html)
                report.cache.set_tables(tables)
    filters_html = report.cache.form_html(
        request.GET,
        lambda: render_to_string(
            "outcomes/_filters.html", {"form": report.form, "tab": tab}, request=request
        ),
    )
    querystring = report.querystring()
    context = {
        "form": report.form,
        "querystring": querystring,
        "tab": tab,
        "tabs": [
            (name, label, "?" + urlencode({**report.params, "tab": name}))
            for name, (label, _) in TABS.items()
        ],
        "tab_label": TABS[tab][0],
        "filters_html": filters_html,
        "headline_html": headline_html,
        "section_html": section_html,
        "whole_clinic": request.user.has_perm("courses.view_all_outcomes"),
    }
    return render(request, "outcomes/dashboard.html", context)


@require_GET
@permission_required("courses.view_outcomes", raise_exception=True)
def course_list(request):
    with selectors.reporting():
        return _course_list(request)


def _course_list(request):
    report = _Report(request)
    figure = request.GET.get("figure", "all")
    if figure not in figures.FIGURES:
        raise Http404("No such figure.")
    condition = figures.figure_filter(figure, report.filters)
    courses = report.courses if condition is None else report.courses.filter(condition)
    courses = courses.select_related("patient", "condition", "practitioner").order_by("-start_date", "-pk")
    page = Paginator(courses, 25).get_page(page_number(request.GET.get("page")))
    page_params = {**report.params, **{k: v for k, v in request.GET.items() if k != "page"}}
    context = {
        "figure_label": figures.FIGURES[figure],
        "page": page,
        "form": report.form,
        "filters_in_force": report.form.described(),
        "reading": report.reading if figure.startswith("tp-") else None,
        "querystring": report.querystring(),
        "page_querystring": urlencode(page_params),
    }
    return render(request, "outcomes/course_list.html", context)


@require_GET
@permission_required("courses.view_outcomes", raise_exception=True)
def chart_data(request, name):
    table = _Report(request).cached_table(name)
    if table.chart is None:
        raise Http404("This table has no chart.")
    return JsonResponse({"name": table.name, "title": table.title, **table.chart})


@require_GET
@permission_required("courses.view_outcomes", raise_exception=True)
def table_csv(request, name):
    table = _Report(request).cached_table(name)
    log_event(request, f"CSV download: {table.name}")
    return csv_response(
        table.csv_header(),
        table.values(),
        f"{table.name}-{timezone.localdate():%Y%m%d}.csv",
    )


def _stream_csv(columns, rows, filename):
    def values():
        with selectors.reporting():
            for row in rows:
                yield [column.value(row) for column in columns]

    return streaming_csv_response([column.name for column in columns], values(), filename)


# The research page's ?level= of the FHIR bulk-data zip (api/fhir_bulk.py), beside the CSV files' levels.
FHIR_LEVEL = "fhir"


@require_GET
@permission_required("courses.export_research", raise_exception=True)
def research_export(request):
    report = _Report(request)
    if request.GET.get("level") == FHIR_LEVEL:
        log_event(request, "Research export: FHIR bulk data (NDJSON zip)")
        return fhir_bulk.zip_response(report.courses, request)
    export = exports.FILES_BY_NAME.get(request.GET.get("level", ""))
    if export is not None:
        # De-identified rows, but taking data out of the clinic is still recorded against the user.
        log_event(request, f"Research export: {export.name}")
        filename = f"prolotrack-{export.filename_part}-{timezone.localdate():%Y%m%d}.csv"
        return _stream_csv(export.columns, export.rows(report.courses), filename)
    files = [
        {
            "title": export.title,
            "description": export.description,
            "url": "?" + urlencode({**report.params, "level": export.name}),
        }
        for export in exports.FILES
    ]
    context = {
        "form": report.form,
        "querystring": report.querystring(),
        "course_count": report.courses.count(),
        "files": files,
        "fhir_url": "?" + urlencode({**report.params, "level": FHIR_LEVEL}),
    }
    return render(request, "outcomes/research_export.html", context)


@require_GET
@permission_required("courses.export_research", raise_exception=True)
def data_dictionary(request):
    return render(
        request, "outcomes/data_dictionary.html", {"files": exports.FILES, "record_id": exports.RECORD_ID}
    )


@require_GET
@permission_required("courses.export_research", raise_exception=True)
def redcap_dictionary(request):
    """The export's data dictionary in REDCap's data-dictionary CSV layout, to build the project the files
    import into."""
    filename = f"prolotrack-redcap-dictionary-{timezone.localdate():%Y%m%d}.csv"
    return csv_response(exports.REDCAP_HEADER, exports.redcap_dictionary(), filename)


@require_GET
@permission_required("courses.view_clinical", raise_exception=True)
def patient_trend_data(request, patient_pk):
    patient = get_object_or_404(Patient, pk=patient_pk)
    log_access(request, patient, what="score trend data")
    return JsonResponse(patient_trend(patient))


PAIN_CODE = OutcomeInstrument.PAIN_NRS_CODE
