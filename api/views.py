"""The REST API's endpoints: thin views over the pages' own forms, services, selectors and diary.

Each view names, per method, the permissions of the page that does the same (`required`, checked by
api.permissions.RolePermission); detail reads are written to the access log as the pages write them; writes
go through the same services, so they are audited, guarded and refused exactly as through the pages.
"""

import datetime

from django.db.models import Prefetch
from django.forms.models import model_to_dict
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api import fhir
from api import serializers as api
from api.filters import CourseFilter, PatientFilter, TreatmentFilter, VisitFilter
from api.inputs import form_data, form_errors, prefilled
from api.pagination import SearchPagination
from clinic.access import log_access
from clinic.inputs import day_range_error, in_clinic_range, record_id
from courses import services as course_services
from courses.forms import CourseForm, OutcomeScoreForm
from courses.models import (
    Injection,
    OutcomeScore,
    PreparationComponent,
    ProtocolSettings,
    SideEffect,
    TreatmentCourse,
    TreatmentSession,
)
from outcomes import responders
from outcomes import selectors as outcome_selectors
from outcomes.forms import OutcomeFilterForm
from patients import selectors as patient_selectors
from patients import services as patient_services
from patients.forms import PatientForm
from patients.models import Patient
from patients.services import PATIENT_FIELDS
from scheduling import diary
from scheduling import selectors as diary_selectors

ERROR = OpenApiResponse(
    inline_serializer(
        "Error",
        {
            "detail": serializers.CharField(),
            "errors": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                required=False,
                help_text="The sentences by field, for input a form or a serializer refused.",
            ),
        },
    ),
    description="Refused or not found: the sentences say why; nothing was saved.",
)
REFUSAL = OpenApiResponse(
    inline_serializer(
        "Refusal",
        {
            "detail": serializers.CharField(),
            "refusals": serializers.ListField(
                child=serializers.DictField(child=serializers.CharField()),
                required=False,
                help_text="Each rule broken: its code (scheduling/rules.py) and its sentence.",
            ),
            "nearest": serializers.DateTimeField(allow_null=True, required=False),
            "rows": serializers.DictField(
                required=False, help_text="A course booking: the refusal of each refused row, by its index."
            ),
        },
    ),
    description="A diary guard refused the time (scheduling/rules.py); nothing was saved.",
)
READ_ERRORS = {400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR}
WRITE_ERRORS = {400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}


def _id_or_refuse(data, name):
    value = data.get(name) if hasattr(data, "get") else None
    pk = None if isinstance(value, bool) else record_id(value)
    if pk is None:
        raise ValidationError({name: ["Give the record's id."]})
    return pk


# --- Patients ------------------------------------------------------------------------------------------


@extend_schema(tags=["patients"])
class PatientList(generics.ListAPIView):
    """Find patients as the patient list's search box does (name, MRN, day-first date of birth or phone)."""

    required = {"GET": ("patients.view_patient",), "POST": ("patients.add_patient",)}
    serializer_class = api.PatientSerializer
    filterset_class = PatientFilter
    pagination_class = SearchPagination
    queryset = Patient.objects.select_related("primary_practitioner")

    @extend_schema(responses={200: api.PatientSerializer(many=True), **READ_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Register a patient (the registration form; possible duplicates need confirming)",
        request=api.PatientInputSerializer,
        responses={201: api.PatientSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        fields = (*PATIENT_FIELDS, "confirm_not_duplicate")
        initial = prefilled(PatientForm(show_duplicate_confirmation=True))
        form = PatientForm(form_data(request.data, fields, initial=initial), show_duplicate_confirmation=True)
        if not form.is_valid():
            raise form_errors(form)
        data = {k: v for k, v in form.cleaned_data.items() if k != "confirm_not_duplicate"}
        duplicates = patient_selectors.possible_duplicates(
            given_name=data["given_name"],
            family_name=data["family_name"],
            date_of_birth=data["date_of_birth"],
            phone=data["phone"],
        )
        if duplicates and not form.cleaned_data["confirm_not_duplicate"]:
            body = {
                "detail": "Possible duplicates: check them, and send confirm_not_duplicate=true if this is "
                "a different person. Nothing was saved.",
                "duplicates": [{"id": p.pk, "mrn": p.mrn, "name": p.full_name} for p in duplicates],
            }
            return Response(body, status=status.HTTP_409_CONFLICT)
        patient = patient_services.patient_create(created_by=request.user, **data)
        return Response(self.get_serializer(patient).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["patients"])
class PatientDetail(generics.RetrieveUpdateAPIView):
    """One patient's demographics and contact details (read access is logged)."""

    required = {
        "GET": ("patients.view_patient",),
        "PUT": ("patients.change_patient",),
        "PATCH": ("patients.change_patient",),
    }
    serializer_class = api.PatientSerializer
    queryset = Patient.objects.select_related("primary_practitioner")

    @extend_schema(responses={200: api.PatientSerializer, **READ_ERRORS})
    def get(self, request, *args, **kwargs):
        patient = self.get_object()
        log_access(request, patient)
        return Response(self.get_serializer(patient).data)

    @extend_schema(request=api.PatientInputSerializer, responses={200: api.PatientSerializer, **WRITE_ERRORS})
    def put(self, request, *args, **kwargs):
        return self._update(request, partial=False)

    @extend_schema(
        request=api.PatientInputSerializer(partial=True),
        responses={200: api.PatientSerializer, **WRITE_ERRORS},
    )
    def patch(self, request, *args, **kwargs):
        return self._update(request, partial=True)

    def _update(self, request, *, partial):
        patient = self.get_object()
        if patient.archived:
            raise ValidationError(
                {"detail": "Archived patients cannot be edited; restore the patient first."}
            )
        initial = model_to_dict(patient, fields=PATIENT_FIELDS) if partial else prefilled(PatientForm())
        form = PatientForm(form_data(request.data, PATIENT_FIELDS, initial=initial), instance=patient)
        if not form.is_valid():
            raise form_errors(form)
        patient_services.patient_update(patient=patient, **form.cleaned_data)
        return Response(self.get_serializer(self.get_object()).data)


# --- Courses -------------------------------------------------------------------------------------------


def _courses():
    return (
        TreatmentCourse.objects.for_list().select_related("outcome_instrument").order_by("-start_date", "-id")
    )


@extend_schema(tags=["courses"])
class CourseList(generics.ListAPIView):
    """Courses with their plan, status and progress (clinical fields only for clinical roles)."""

    required = {"GET": ("courses.view_treatmentcourse",), "POST": ("courses.add_treatmentcourse",)}
    serializer_class = api.CourseSerializer
    filterset_class = CourseFilter

    def get_queryset(self):
        return _courses()

    @extend_schema(responses={200: api.CourseSerializer(many=True), **READ_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Plan a course (the planning form; a plan outside the protocol needs its reason)",
        request=api.CourseInputSerializer,
        responses={201: api.CourseSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        patient = Patient.objects.filter(pk=_id_or_refuse(request.data, "patient")).first()
        if patient is None:
            raise ValidationError({"patient": ["No such patient."]})
        protocol = ProtocolSettings.load()
        form = CourseForm(form_data(request.data, CourseForm.Meta.fields), patient=patient, protocol=protocol)
        if not form.is_valid():
            raise form_errors(form)
        plan = {
            name: form.cleaned_data[name] for name in course_services.PLAN_FIELDS if name in form.cleaned_data
        }
        course = course_services.course_create(patient=patient, created_by=request.user, **plan)
        return Response(
            self.get_serializer(_courses().get(pk=course.pk)).data, status=status.HTTP_201_CREATED
        )


@extend_schema(tags=["courses"], responses={200: api.CourseSerializer, **READ_ERRORS})
class CourseDetail(generics.RetrieveAPIView):
    """One course (read access is logged, as on the course page)."""

    required = {"GET": ("courses.view_treatmentcourse",)}
    serializer_class = api.CourseSerializer

    def get_queryset(self):
        return _courses()

    def get(self, request, *args, **kwargs):
        course = self.get_object()
        log_access(request, course)
        return Response(self.get_serializer(course).data)


# --- Treatments ----------------------------------------------------------------------------------------

CLINICAL_READ = ("courses.view_treatmentsession", "courses.view_clinical")


def _treatments():
    """Visits with their clinical record in a fixed number of queries, whatever the page holds."""
    return (
        TreatmentSession.objects.select_related("practitioner", "completed_by")
        .prefetch_related(
            "preparations",
            Prefetch("components", queryset=PreparationComponent.objects.select_related("lot__product")),
            Prefetch("injections", queryset=Injection.objects.select_related("site")),
            Prefetch("reported_side_effects", queryset=SideEffect.objects.select_related("term", "site")),
        )
        .order_by("starts_at", "sequence", "pk")
    )


def _course_or_404(pk):
    return get_object_or_404(TreatmentCourse.objects.select_related("patient", "condition"), pk=pk)


@extend_schema(tags=["treatments"], responses={200: api.TreatmentSerializer(many=True), **READ_ERRORS})
class CourseTreatments(generics.ListAPIView):
    """A course's visits with their preparation, injections and side effects (as its course page)."""

    required = {"GET": CLINICAL_READ}
    serializer_class = api.TreatmentSerializer
    filterset_class = TreatmentFilter

    queryset = TreatmentSession.objects.none()  # for the schema; get_queryset() reads the course's

    def get_queryset(self):
        return _treatments().filter(course_id=self.course.pk)

    def get(self, request, *args, **kwargs):
        self.course = _course_or_404(kwargs["pk"])
        log_access(request, self.course, what="treatments (API)")
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["treatments"], responses={200: api.TreatmentSerializer, **READ_ERRORS})
class TreatmentDetail(generics.RetrieveAPIView):
    """One visit's clinical record (read access is logged, as on the session page)."""

    required = {"GET": CLINICAL_READ}
    serializer_class = api.TreatmentSerializer

    def get_queryset(self):
        return _treatments().select_related("course__condition", "patient")

    def get(self, request, *args, **kwargs):
        session = self.get_object()
        log_access(request, session)
        return Response(self.get_serializer(session).data)


# --- FHIR ----------------------------------------------------------------------------------------------


class FhirJSONRenderer(JSONRenderer):
    media_type = "application/fhir+json"


@extend_schema(
    tags=["fhir"],
    responses={
        (200, "application/fhir+json"): OpenApiResponse(
            OpenApiTypes.OBJECT, description='A FHIR R4 Bundle of type collection (README "FHIR").'
        ),
        **READ_ERRORS,
    },
)
class PatientFhirRecord(APIView):
    """One patient's clinical record as a FHIR R4 Bundle: Patient, each course's EpisodeOfCare and CarePlan,
    each treatment's Encounter, Procedures, Medications, MedicationAdministration and pain Observations, side
    effects as AdverseEvents and scores as Observations (voided entries left out; read access is logged)."""

    required = {"GET": ("patients.view_patient", *CLINICAL_READ)}
    renderer_classes = [FhirJSONRenderer, JSONRenderer]

    def get(self, request, pk):
        patient = get_object_or_404(Patient, pk=pk)
        log_access(request, patient, what="FHIR record")
        response = Response(fhir.patient_bundle(patient))
        response["Content-Disposition"] = f'attachment; filename="prolotrack-{patient.mrn}-fhir.json"'
        return response


# --- Scores --------------------------------------------------------------------------------------------


@extend_schema(tags=["scores"])
class CourseScores(generics.ListAPIView):
    """A course's current pain and instrument scores (voided ones are left out, as on the course page)."""

    required = {
        "GET": ("courses.view_outcomescore", "courses.view_clinical"),
        "POST": ("courses.add_outcomescore",),
    }
    serializer_class = api.ScoreSerializer
    queryset = OutcomeScore.objects.none()  # for the schema; get_queryset() reads the course's

    def get_queryset(self):
        return (
            OutcomeScore.objects.filter(course_id=self.course.pk)
            .select_related("instrument", "created_by")
            .order_by("recorded_on", "id")
        )

    @extend_schema(responses={200: api.ScoreSerializer(many=True), **READ_ERRORS})
    def get(self, request, *args, **kwargs):
        self.course = _course_or_404(kwargs["pk"])
        log_access(request, self.course, what="scores (API)")
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Record a score (the course page's score form)",
        request=api.ScoreInputSerializer,
        responses={201: api.ScoreSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        course = _course_or_404(pk)
        data = form_data(
            request.data, OutcomeScoreForm.Meta.fields, initial=prefilled(OutcomeScoreForm(course=course))
        )
        form = OutcomeScoreForm(data, course=course)
        if not form.is_valid():
            raise form_errors(form)
        score = course_services.outcome_score_record(
            course=course, recorded_by=request.user, **form.cleaned_data
        )
        return Response(self.get_serializer(score).data, status=status.HTTP_201_CREATED)


# --- The diary -----------------------------------------------------------------------------------------

BOOK = ("scheduling.book_appointments",)


def _visits():
    return TreatmentSession.objects.select_related("patient", "practitioner", "course__condition").order_by(
        "starts_at", "pk"
    )


@extend_schema(tags=["diary"], responses={200: api.VisitSerializer(many=True), **READ_ERRORS})
class VisitList(generics.ListAPIView):
    """Visits in the diary, as the day and week calendars show them."""

    required = {"GET": ("scheduling.view_calendar",)}
    serializer_class = api.VisitSerializer
    filterset_class = VisitFilter

    def get_queryset(self):
        return _visits()


@extend_schema(tags=["diary"], responses={200: api.VisitSerializer, **READ_ERRORS})
class VisitDetail(generics.RetrieveAPIView):
    required = {"GET": ("scheduling.view_calendar",)}
    serializer_class = api.VisitSerializer

    def get_queryset(self):
        return _visits()

    def get(self, request, *args, **kwargs):
        session = self.get_object()
        log_access(request, session, what="schedule")
        return Response(self.get_serializer(session).data)


class FreeSlotQuery(serializers.Serializer):
    course = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    date = serializers.DateField(
        required=False, help_text="First day (default: today, or the day the course starts if later)."
    )
    days = serializers.IntegerField(min_value=1, max_value=14, default=7)

    def validate_date(self, value):
        if not in_clinic_range(value):
            raise serializers.ValidationError(day_range_error())
        return value


@extend_schema(
    tags=["diary"],
    parameters=[FreeSlotQuery],
    responses={200: api.FreeSlotSerializer(many=True), **READ_ERRORS},
)
class FreeSlots(APIView):
    """Times the course's next visit could be booked, judged by the diary's own guards."""

    required = {"GET": ("scheduling.view_calendar", "courses.view_treatmentcourse")}

    def get(self, request):
        query = FreeSlotQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        course = get_object_or_404(
            TreatmentCourse.objects.select_related("patient", "practitioner"),
            pk=query.validated_data["course"],
        )
        if not course.is_open:
            raise ValidationError(
                {"course": [f"This course is {course.get_status_display().lower()}; it cannot be booked."]}
            )
        log_access(request, course, what="free slots (API)")
        slots = diary_selectors.free_slots(
            course=course,
            first_day=query.validated_data.get("date") or max(timezone.localdate(), course.start_date),
            days=query.validated_data["days"],
        )
        return Response(api.FreeSlotSerializer(slots, many=True).data)


@extend_schema(
    tags=["diary"],
    request=api.BookingSerializer,
    responses={201: api.VisitSerializer(many=True), 409: REFUSAL, **READ_ERRORS},
)
class VisitBook(APIView):
    """Book a course's next treatments, all or none, through the diary service and its every guard."""

    required = {"POST": BOOK}

    def post(self, request):
        booking = api.BookingSerializer(data=request.data)
        booking.is_valid(raise_exception=True)
        data = booking.validated_data
        course = TreatmentCourse.objects.filter(pk=data["course"]).first()
        if course is None:
            raise ValidationError({"course": ["No such course."]})
        reasons = dict(enumerate(data.get("spacing_reasons", [])))
        created = diary.course_book(
            course=course, starts=data["starts"], spacing_reasons=reasons, booked_by=request.user
        )
        visits = _visits().filter(pk__in=[s.pk for s in created])
        return Response(api.VisitSerializer(visits, many=True).data, status=status.HTTP_201_CREATED)


def _visit_or_404(pk):
    return get_object_or_404(TreatmentSession.objects.select_related("course", "practitioner"), pk=pk)


@extend_schema(
    tags=["diary"],
    request=api.RescheduleSerializer,
    responses={200: api.VisitSerializer(many=True), 409: REFUSAL, **READ_ERRORS},
)
class VisitReschedule(APIView):
    """Move a booked visit (and, with shift_later, every later booked visit of its course)."""

    required = {"POST": BOOK}

    def post(self, request, pk):
        session = _visit_or_404(pk)
        move = api.RescheduleSerializer(data=request.data)
        move.is_valid(raise_exception=True)
        moved = diary.visit_reschedule(session=session, by=request.user, **move.validated_data)
        visits = _visits().filter(pk__in=[s.pk for s in moved])
        return Response(api.VisitSerializer(visits, many=True).data)


@extend_schema(
    tags=["diary"], request=api.CancelSerializer, responses={200: api.VisitSerializer, **WRITE_ERRORS}
)
class VisitCancel(APIView):
    """Cancel a booked or checked-in visit, with the reason."""

    required = {"POST": BOOK}

    def post(self, request, pk):
        session = _visit_or_404(pk)
        cancel = api.CancelSerializer(data=request.data)
        cancel.is_valid(raise_exception=True)
        diary.visit_cancel(session=session, reason=cancel.validated_data["reason"], by=request.user)
        return Response(api.VisitSerializer(_visits().get(pk=session.pk)).data)


# --- Outcomes ------------------------------------------------------------------------------------------


class ProportionSerializer(serializers.Serializer):
    """k of n with its Wilson 95 % interval (percentages; null without a denominator)."""

    k = serializers.IntegerField()
    n = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True, source="low")
    ci_high = serializers.FloatField(allow_null=True, source="high")
    too_small = serializers.BooleanField(help_text="Fewer than 10 courses: too few to read as a rate.")


class MeanSerializer(serializers.Serializer):
    """A mean improvement (positive is better) with its 95 % t interval."""

    n = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True, source="low")
    ci_high = serializers.FloatField(allow_null=True, source="high")
    too_small = serializers.BooleanField()


class RespondersSerializer(serializers.Serializer):
    """Responders at one protocol timepoint on one measure, with the three denominators
    (outcomes.responders; the dashboard's Definitions tab words them)."""

    timepoint = serializers.CharField(source="timepoint.code", help_text="The protocol timepoint's code.")
    timepoint_name = serializers.CharField(source="timepoint.name")
    instrument = serializers.CharField(source="instrument.code")
    treated = serializers.IntegerField(source="tally.treated")
    due = serializers.IntegerField(source="tally.due", help_text="Scored or missing: the ITT denominator.")
    scored = serializers.IntegerField(source="tally.scored")
    missing = serializers.IntegerField(source="tally.missing")
    awaiting = serializers.IntegerField(source="tally.awaiting")
    itt_mcid = ProportionSerializer(source="tally.itt_mcid")
    available_mcid = ProportionSerializer(source="tally.available_mcid")
    per_protocol_mcid = ProportionSerializer(source="tally.pp_mcid_rate")
    itt_50 = ProportionSerializer(source="tally.itt_half")
    available_50 = ProportionSerializer(source="tally.available_half")
    per_protocol_50 = ProportionSerializer(source="tally.pp_half_rate")
    mean_improvement = MeanSerializer(source="tally.mean_improvement")


class HeadlineSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=["whole clinic", "own courses"])
    n = serializers.IntegerField(help_text="Courses behind the figures.")
    active = serializers.IntegerField()
    completed = serializers.IntegerField()
    deviations = serializers.IntegerField()
    sessions_completed = serializers.IntegerField()
    sessions_this_month = serializers.IntegerField()
    side_effects = serializers.IntegerField()
    serious = serializers.IntegerField()
    side_effects_per_100 = serializers.FloatField(allow_null=True)
    responders = RespondersSerializer(
        allow_null=True,
        help_text="At the chosen timepoint (default: the protocol's primary one) on the chosen measure "
        "(default: pain NRS); null without timepoints or measure.",
    )
    notes = serializers.DictField(child=serializers.CharField())
    links = serializers.DictField(
        child=serializers.CharField(), help_text="The dashboard's list of the courses behind each figure."
    )


OUTCOME_FILTERS = [
    OpenApiParameter("start_from", datetime.date),
    OpenApiParameter("start_to", datetime.date),
    OpenApiParameter("condition", int),
    OpenApiParameter("practitioner", int, description="Clinic admins only."),
    OpenApiParameter("band", str, enum=[code for code, _ in outcome_selectors.BANDS]),
    OpenApiParameter("anaesthetic", str, enum=["yes", "no"]),
    OpenApiParameter(
        "status", str, enum=[code for code, _ in TreatmentCourse._meta.get_field("status").choices]
    ),
    OpenApiParameter("timepoint", int, description="A protocol timepoint's id (default: the primary one)."),
    OpenApiParameter("instrument", int, description="An outcome measure's id (default: pain NRS)."),
]


@extend_schema(
    tags=["outcomes"], parameters=OUTCOME_FILTERS, responses={200: HeadlineSerializer, **READ_ERRORS}
)
class OutcomeHeadline(APIView):
    """The outcome dashboard's headline figures over the courses the user may see (their own, or with
    courses.view_all_outcomes the whole clinic), with the dashboard's filters."""

    required = {"GET": ("courses.view_outcomes",)}

    def get(self, request):
        form = OutcomeFilterForm(request.query_params or None, user=request.user)
        if form.is_bound and not form.is_valid():
            raise form_errors(form)
        filters, params = form.filters(), form.query_params()

        def link(figure, **group):
            return f"{reverse('outcomes:course-list')}?{urlencode({**params, **group, 'figure': figure})}"

        with outcome_selectors.reporting():
            courses = outcome_selectors.outcome_courses(request.user, filters)
            figures = outcome_selectors.headline(courses, link=link)
            timepoint, instrument = responders.reading(filters)
            figures["responders"] = (
                responders.headline(courses, timepoint, instrument, link=link)
                if timepoint is not None and instrument is not None
                else None
            )
        whole = request.user.has_perm("courses.view_all_outcomes")
        figures["scope"] = "whole clinic" if whole else "own courses"
        return Response(HeadlineSerializer(figures).data)
