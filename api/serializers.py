"""What the API shows of each record: read serializers, and the shapes of the diary's write requests.

Patients, courses and scores are written through the pages' forms (api.inputs); the request serializers
here only describe those bodies for the schema. Fields a role may not see are left out of the response
(`ClinicalFieldsMixin`), as the pages leave them out of the HTML.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from courses.models import (
    Injection,
    OutcomeScore,
    Preparation,
    PreparationComponent,
    SideEffect,
    TreatmentCourse,
    TreatmentSession,
)
from courses.session_services import preparation_strengths
from patients.models import Patient
from patients.services import PATIENT_FIELDS


class StaffSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)


class PatientRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    mrn = serializers.CharField(read_only=True)
    name = serializers.CharField(source="full_name", read_only=True)


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class ReadOnlyModelSerializer(serializers.ModelSerializer):
    """Every field shown, none written (writes go through the pages' forms). Marked read-only after the
    fields are built, so a blank-able choice keeps "" among its documented values."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            field.read_only = True
        return fields


class ClinicalFieldsMixin:
    """Leaves `clinical_fields` out of the response for users without courses.view_clinical (front desk:
    the schedule and status of a course, never its pain scores, goals or notes)."""

    clinical_fields = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not request.user.has_perm("courses.view_clinical"):
            for name in self.clinical_fields:
                data.pop(name, None)
        return data


# --- Patients ------------------------------------------------------------------------------------------


class PatientSerializer(ReadOnlyModelSerializer):
    primary_practitioner = StaffSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Patient
        fields = (
            "id",
            "mrn",
            *PATIENT_FIELDS,
            "archived",
            "archived_reason",
            "archived_at",
            "created_at",
            "updated_at",
        )


class PatientInputSerializer(serializers.Serializer):
    """The body of a registration or an edit: the registration form's fields (patients.forms.PatientForm)."""

    given_name = serializers.CharField(max_length=100)
    family_name = serializers.CharField(max_length=100)
    preferred_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    date_of_birth = serializers.DateField()
    sex = serializers.ChoiceField(choices=Patient.Sex.choices)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    address = serializers.CharField(required=False, allow_blank=True)
    emergency_contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    emergency_contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    preferred_contact = serializers.ChoiceField(choices=Patient.ContactMethod.choices, required=False)
    reminders_allowed = serializers.BooleanField(required=False)
    primary_practitioner = serializers.IntegerField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    confirm_not_duplicate = serializers.BooleanField(
        required=False,
        help_text="Registering only: true once the possible duplicates were checked and this is a "
        "different person.",
    )


# --- Courses -------------------------------------------------------------------------------------------


class CourseSerializer(ClinicalFieldsMixin, ReadOnlyModelSerializer):
    clinical_fields = (
        "outcome_instrument",
        "baseline_pain",
        "baseline_instrument_score",
        "goals",
        "deviation_reason",
        "closing_note",
    )

    label = serializers.CharField(source="__str__", read_only=True)
    patient = PatientRefSerializer(read_only=True)
    condition = NamedSerializer(read_only=True)
    practitioner = StaffSerializer(read_only=True)
    outcome_instrument = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    completed_count = serializers.IntegerField(read_only=True, help_text="Visits completed.")
    next_booked_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = TreatmentCourse
        fields = (
            "id",
            "label",
            "patient",
            "condition",
            "body_region",
            "laterality",
            "practitioner",
            "planned_sessions",
            "interval_days",
            "status",
            "stop_reason",
            "start_date",
            "end_date",
            "is_protocol_deviation",
            "completed_count",
            "next_booked_at",
            "outcome_instrument",
            "baseline_pain",
            "baseline_instrument_score",
            "goals",
            "deviation_reason",
            "closing_note",
            "created_at",
        )


class CourseInputSerializer(serializers.Serializer):
    """The body of a new course: the planning form's fields (courses.forms.CourseForm), ids for choices."""

    patient = serializers.IntegerField()
    condition = serializers.IntegerField()
    body_region = serializers.CharField()
    laterality = serializers.CharField()
    practitioner = serializers.IntegerField()
    start_date = serializers.DateField()
    planned_sessions = serializers.IntegerField()
    interval_days = serializers.IntegerField()
    baseline_pain = serializers.IntegerField()
    outcome_instrument = serializers.IntegerField(required=False, allow_null=True)
    baseline_instrument_score = serializers.DecimalField(
        max_digits=6, decimal_places=1, required=False, allow_null=True
    )
    consent = serializers.IntegerField(required=False, allow_null=True)
    goals = serializers.CharField(required=False, allow_blank=True)
    deviation_reason = serializers.CharField(required=False, allow_blank=True)


# --- Treatments ----------------------------------------------------------------------------------------


class ComponentSerializer(ReadOnlyModelSerializer):
    product = serializers.CharField(source="lot.product.name", read_only=True)
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True)
    expiry_date = serializers.DateField(source="lot.expiry_date", read_only=True)
    stock_concentration_percent = serializers.DecimalField(
        source="lot.product.stock_concentration_percent", max_digits=5, decimal_places=2, read_only=True
    )

    class Meta:
        model = PreparationComponent
        fields = (
            "id",
            "preparation",
            "lot",
            "product",
            "lot_number",
            "expiry_date",
            "stock_concentration_percent",
            "volume_ml",
        )


class InjectionSerializer(ReadOnlyModelSerializer):
    site = serializers.CharField(source="site.name", read_only=True)
    region = serializers.CharField(source="site.region", read_only=True)

    class Meta:
        model = Injection
        fields = (
            "id",
            "preparation",
            "site",
            "region",
            "laterality",
            "spinal_level",
            "volume_ml",
            "needle_gauge",
            "passes",
        )


class AgentStrengthSerializer(serializers.Serializer):
    agent = serializers.CharField(read_only=True)
    final_percent = serializers.DecimalField(max_digits=6, decimal_places=3, read_only=True)


class PreparationSerializer(ReadOnlyModelSerializer):
    """One syringe mix with its strengths (courses.session_services.preparation_strengths): each local
    anaesthetic with its own final %, never added together."""

    anaesthetics = serializers.SerializerMethodField()

    class Meta:
        model = Preparation
        fields = ("id", "label", "volume_ml", "final_dextrose_percent", "anaesthetics")

    @extend_schema_field(AgentStrengthSerializer(many=True))
    def get_anaesthetics(self, preparation):
        # From the visit's prefetched components: no query per preparation.
        components = [c for c in preparation.session.components.all() if c.preparation_id == preparation.pk]
        return [
            {"agent": name, "final_percent": percent}
            for name, percent in preparation_strengths(components).anaesthetics
        ]


class SideEffectSerializer(ReadOnlyModelSerializer):
    term = serializers.CharField(source="term.name", read_only=True)
    site = serializers.CharField(source="site.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = SideEffect
        fields = (
            "id",
            "term",
            "attributed_session",
            "onset_date",
            "resolved_date",
            "severity",
            "serious",
            "serious_criterion",
            "site",
            "laterality",
            "action_taken",
            "outcome",
            "relatedness",
            "notes",
        )


class TreatmentSerializer(ReadOnlyModelSerializer):
    """A visit with its clinical record: preparation, injections and the side effects reported at it."""

    practitioner = StaffSerializer(read_only=True)
    completed_by = StaffSerializer(read_only=True, allow_null=True)
    preparations = PreparationSerializer(many=True, read_only=True)
    components = ComponentSerializer(many=True, read_only=True)
    injections = InjectionSerializer(many=True, read_only=True)
    side_effects = SideEffectSerializer(source="reported_side_effects", many=True, read_only=True)

    class Meta:
        model = TreatmentSession
        fields = (
            "id",
            "course",
            "patient",
            "sequence",
            "starts_at",
            "ends_at",
            "status",
            "assessment_only",
            "practitioner",
            "pain_pre",
            "pain_post",
            "guidance",
            "anaesthetic_use",
            "took_nsaids",
            "took_anticoagulants",
            "took_opioids",
            "medication_notes",
            "aftercare_nsaid_avoid_days",
            "aftercare_no_ice_days",
            "aftercare_activity_restriction_days",
            "aftercare_heat",
            "aftercare_notes",
            "notes",
            "final_dextrose_percent",
            "final_anaesthetic_percent",
            "total_volume_ml",
            "screening_override_reason",
            "spacing_override_reason",
            "count_override_reason",
            "completed_at",
            "completed_by",
            "preparations",
            "components",
            "injections",
            "side_effects",
        )


# --- Scores --------------------------------------------------------------------------------------------


class ScoreSerializer(ReadOnlyModelSerializer):
    instrument = serializers.SlugRelatedField(slug_field="code", read_only=True)
    recorded_by = StaffSerializer(source="created_by", read_only=True, allow_null=True)

    class Meta:
        model = OutcomeScore
        fields = (
            "id",
            "course",
            "instrument",
            "score",
            "recorded_on",
            "timepoint",
            "source",
            "session",
            "recorded_by",
            "created_at",
        )


class ScoreInputSerializer(serializers.Serializer):
    """The course page's score form (courses.forms.OutcomeScoreForm): the instrument by id."""

    instrument = serializers.IntegerField()
    score = serializers.DecimalField(max_digits=6, decimal_places=1)
    timepoint = serializers.ChoiceField(choices=OutcomeScore._meta.get_field("timepoint").choices)
    recorded_on = serializers.DateField(required=False)
    source = serializers.ChoiceField(choices=OutcomeScore.Source.choices, required=False)


# --- The diary -----------------------------------------------------------------------------------------


class VisitSerializer(ReadOnlyModelSerializer):
    """A visit as the calendar shows it: who, when, which treatment, its status; nothing clinical."""

    course_label = serializers.CharField(source="course.__str__", read_only=True)
    patient = PatientRefSerializer(read_only=True)
    practitioner = StaffSerializer(read_only=True)

    class Meta:
        model = TreatmentSession
        fields = (
            "id",
            "course",
            "course_label",
            "patient",
            "practitioner",
            "sequence",
            "starts_at",
            "ends_at",
            "status",
            "assessment_only",
            "checked_in_at",
            "cancel_reason",
            "spacing_override_reason",
        )


class FreeSlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    within_spacing_window = serializers.BooleanField(
        help_text="False when booking here needs a spacing reason (a protocol deviation)."
    )


class BookingSerializer(serializers.Serializer):
    """Book a course's next treatments, all or none (scheduling.diary.course_book)."""

    course = serializers.IntegerField(min_value=1)
    starts = serializers.ListField(child=serializers.DateTimeField(), min_length=1, max_length=20)
    spacing_reasons = serializers.ListField(
        child=serializers.CharField(max_length=300, allow_blank=True),
        required=False,
        max_length=20,
        help_text="One per row of `starts`, for a treatment outside the spacing window.",
    )


class RescheduleSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    shift_later = serializers.BooleanField(default=False, help_text="Move every later booked visit too.")
    spacing_reason = serializers.CharField(max_length=300, allow_blank=True, default="")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)
