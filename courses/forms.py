from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Fieldset, Layout, Row
from django import forms
from django.utils import timezone

from clinic.inputs import ClinicDateField, clinic_formfield
from clinic.models import User
from courses.models import (
    Condition,
    Lot,
    OutcomeInstrument,
    OutcomeScore,
    ProtocolSettings,
    StopReason,
    Timepoint,
    TreatmentCourse,
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class CourseForm(forms.ModelForm):
    """The plan of a course. Validation of protocol rules happens in the service (model.clean)."""

    class Meta:
        model = TreatmentCourse
        formfield_callback = clinic_formfield
        fields = [
            "condition",
            "body_region",
            "laterality",
            "practitioner",
            "start_date",
            "planned_sessions",
            "interval_days",
            "baseline_pain",
            "outcome_instrument",
            "baseline_instrument_score",
            "consent",
            "goals",
            "deviation_reason",
        ]
        widgets = {
            "start_date": DateInput(),
            "goals": forms.Textarea(attrs={"rows": 2}),
            "deviation_reason": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, patient, protocol=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        protocol = protocol or ProtocolSettings.load()
        current = self.instance.pk and self.instance
        self.fields["condition"].queryset = Condition.objects.filter(active=True) | Condition.objects.filter(
            pk=getattr(current, "condition_id", None)
        )
        self.fields["practitioner"].queryset = User.objects.practitioners()
        self.fields["outcome_instrument"].queryset = OutcomeInstrument.objects.filter(active=True).exclude(
            code=OutcomeInstrument.PAIN_NRS_CODE
        )
        self.fields["consent"].queryset = patient.consents.all()
        self.fields["consent"].label = "Consent"
        self.fields[
            "planned_sessions"
        ].help_text = f"Protocol: {protocol.min_sessions}–{protocol.max_sessions} sessions."
        self.fields[
            "interval_days"
        ].help_text = f"Protocol: {protocol.min_interval_days}–{protocol.max_interval_days} days apart."
        self.fields["deviation_reason"].help_text = (
            "Required when the session count or spacing is outside the clinic protocol; "
            "such a course is flagged as a protocol deviation wherever it appears."
        )
        self.fields["baseline_instrument_score"].label = "Baseline instrument score"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                "Condition",
                Row(Column("condition", css_class="col-md-6"), Column("body_region"), Column("laterality")),
            ),
            Fieldset(
                "Plan",
                Row(
                    Column("practitioner", css_class="col-md-4"),
                    Column("start_date"),
                    Column("planned_sessions"),
                    Column("interval_days"),
                ),
                Field("deviation_reason", wrapper_class="deviation-reason"),
            ),
            Fieldset(
                "Baseline and goals",
                Row(
                    Column("baseline_pain"),
                    Column("outcome_instrument", css_class="col-md-5"),
                    Column("baseline_instrument_score"),
                ),
                "goals",
                "consent",
            ),
        )


class CompleteForm(forms.Form):
    end_date = ClinicDateField(widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(label="Closing note", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    cancel_reason = forms.CharField(
        label="Reason to cancel sessions still booked",
        required=False,
        max_length=200,
        help_text="Needed only when sessions are still scheduled or checked in.",
    )


class StopForm(CompleteForm):
    stop_reason = forms.ChoiceField(choices=[("", "---------"), *StopReason.choices])

    field_order = ["stop_reason", "end_date", "note", "cancel_reason"]


class ExtendForm(forms.Form):
    to_sessions = forms.IntegerField(label="Plan this many sessions in total", min_value=1, max_value=20)
    reason = forms.CharField(label="Why extend", widget=forms.Textarea(attrs={"rows": 2}))
    deviation_reason = forms.CharField(
        label="Protocol deviation reason",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required beyond the protocol maximum.",
    )


class OutcomeScoreForm(forms.ModelForm):
    class Meta:
        model = OutcomeScore
        formfield_callback = clinic_formfield
        fields = ["instrument", "score", "timepoint", "recorded_on", "source"]
        widgets = {"recorded_on": DateInput()}

    def __init__(self, *args, course, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = {OutcomeInstrument.PAIN_NRS_CODE}
        instruments = OutcomeInstrument.objects.filter(code__in=allowed)
        if course.outcome_instrument_id:
            instruments = instruments | OutcomeInstrument.objects.filter(pk=course.outcome_instrument_id)
        self.fields["instrument"].queryset = instruments
        self.fields["instrument"].empty_label = None
        self.fields["timepoint"].initial = Timepoint.WEEK_6
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("instrument"), Column("score"), Column("timepoint")),
            Row(Column("recorded_on"), Column("source")),
        )


class WalkInForm(forms.Form):
    practitioner = forms.ModelChoiceField(queryset=User.objects.none())
    spacing_reason = forms.CharField(
        label="Reason outside the spacing window",
        max_length=300,
        required=False,
        help_text="Only when this treatment falls outside the course's spacing window: recorded as a "
        "protocol deviation.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = User.objects.practitioners()


class LotSearchForm(forms.Form):
    q = forms.CharField(label="Lot number", required=False, max_length=40)

    @property
    def has_query(self):
        return bool(self.is_valid() and self.cleaned_data.get("q", "").strip())

    def lots(self):
        query = self.cleaned_data.get("q", "").strip() if self.is_valid() else ""
        if not query:
            return Lot.objects.none()
        return Lot.objects.filter(lot_number__icontains=query).select_related("product")[:50]


class ProtocolSettingsForm(forms.ModelForm):
    class Meta:
        model = ProtocolSettings
        formfield_callback = clinic_formfield
        fields = [
            "min_sessions",
            "max_sessions",
            "default_sessions",
            "min_interval_days",
            "max_interval_days",
            "default_interval_days",
            "slot_minutes",
            "screening_valid_days",
            "reminder_hours_before",
            "two_factor_for_everyone",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                "Course length",
                Row(Column("min_sessions"), Column("max_sessions"), Column("default_sessions")),
            ),
            Fieldset(
                "Spacing",
                Row(
                    Column("min_interval_days"), Column("max_interval_days"), Column("default_interval_days")
                ),
            ),
            Fieldset(
                "Appointments",
                Row(Column("slot_minutes"), Column("screening_valid_days"), Column("reminder_hours_before")),
            ),
            Fieldset("Sign-in", "two_factor_for_everyone"),
        )


class CourseFilterForm(forms.Form):
    status = forms.ChoiceField(required=False)
    practitioner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Everyone"
    )
    deviation = forms.BooleanField(label="Protocol deviations only", required=False)

    STATUS_CHOICES = [
        ("open", "Planned or active"),
        ("active", "Active"),
        ("planned", "Planned"),
        ("completed", "Completed"),
        ("stopped", "Stopped"),
        ("all", "Any status"),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = self.STATUS_CHOICES
        self.fields["practitioner"].queryset = User.objects.practitioners()


class PatientReportDismissForm(forms.Form):
    """Why a reaction the patient reported is not recorded as a side effect."""

    reason = forms.CharField(
        label="Why is this not a side effect?",
        max_length=300,
        help_text="For example: the swelling was there before the treatment.",
        error_messages={"required": "Say why this report is not a side effect."},
    )
