from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.conf import settings
from django.db.models import Q

from clinic import roles
from clinic.inputs import clinic_formfield
from clinic.models import User
from patients.models import ConditionSeverity, Consent, Patient, Screening, ScreeningCondition
from patients.services import PATIENT_FIELDS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
CONSENT_UPLOAD_MAX_BYTES_DEFAULT = 10 * 1024 * 1024
# What a scanned consent form may be, recognised by its first bytes rather than its name.
SCAN_SIGNATURES = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
)


def consent_upload_max_bytes():
    return getattr(settings, "CONSENT_UPLOAD_MAX_BYTES", CONSENT_UPLOAD_MAX_BYTES_DEFAULT)


class PatientForm(forms.ModelForm):
    confirm_not_duplicate = forms.BooleanField(
        required=False, label="These are different people — register anyway"
    )

    class Meta:
        model = Patient
        formfield_callback = clinic_formfield
        fields = PATIENT_FIELDS
        widgets = {
            "date_of_birth": DATE_WIDGET,
            "address": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "emergency_contact_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        }
        help_texts = {
            "phone": "Digits, spaces, brackets and dashes; a leading + for international numbers.",
            "notes": "Administrative notes only; clinical notes belong in screenings and sessions.",
        }

    def __init__(self, *args, show_duplicate_confirmation=False, **kwargs):
        super().__init__(*args, **kwargs)
        # A practitioner who has since left stays selectable for the patients already assigned to them.
        assigned = self.instance.primary_practitioner_id
        current = Q(pk=assigned) if assigned else Q(pk__in=[])
        choices = User.objects.filter(Q(groups__name=roles.PRACTITIONER, is_active=True) | current)
        self.fields["primary_practitioner"].queryset = choices.distinct().order_by("last_name", "first_name")
        self.fields["primary_practitioner"].label_from_instance = lambda u: u.get_full_name() or u.username
        if not show_duplicate_confirmation:
            del self.fields["confirm_not_duplicate"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                "Identity",
                Row(Column("given_name"), Column("family_name"), Column("preferred_name")),
                Row(Column("date_of_birth"), Column("sex")),
            ),
            Fieldset(
                "Contact",
                Row(Column("phone"), Column("email")),
                "address",
                Row(Column("preferred_contact"), Column("reminders_allowed", css_class="pt-md-4")),
                Row(Column("emergency_contact_name"), Column("emergency_contact_phone")),
            ),
            Fieldset("Care", "primary_practitioner", "notes"),
        )
        if show_duplicate_confirmation:
            self.helper.layout.append("confirm_not_duplicate")

    def clean_given_name(self):
        return " ".join(self.cleaned_data["given_name"].split())

    def clean_family_name(self):
        return " ".join(self.cleaned_data["family_name"].split())

    def clean_phone(self):
        return " ".join(self.cleaned_data["phone"].split())

    def clean_emergency_contact_phone(self):
        return " ".join(self.cleaned_data["emergency_contact_phone"].split())

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class ArchiveForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        label="Reason for archiving",
        help_text="For example: moved away, registered twice, deceased. Every record is kept.",
    )


class ScreeningForm(forms.ModelForm):
    class Meta:
        model = Screening
        formfield_callback = clinic_formfield
        fields = [
            "screened_on",
            *Screening.DEFER_FIELDS,
            "anticoagulant",
            "anticoagulant_drug",
            *Screening.PRECAUTION_FIELDS[1:],
            *Screening.ALLERGY_FIELDS,
            "allergy_other",
            "outcome",
            "notes",
        ]
        widgets = {"screened_on": DATE_WIDGET, "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].widget = forms.RadioSelect(choices=Screening.Outcome.choices)
        self.helper = FormHelper()
        self.helper.form_tag = False
        # Grouped as the clinic's catalogue says today (patients.ScreeningCondition, courses.safety).
        severities = ScreeningCondition.objects.severities()
        groups = {ConditionSeverity.ABSOLUTE: [], ConditionSeverity.RELATIVE: []}
        for name in Screening.CONDITION_FIELDS:
            default = (
                ConditionSeverity.ABSOLUTE if name in Screening.DEFER_FIELDS else ConditionSeverity.RELATIVE
            )
            groups[severities.get(name, default)].append(name)
            if name == "anticoagulant":
                groups[severities.get(name, default)].append("anticoagulant_drug")
        self.helper.layout = Layout(
            "screened_on",
            Fieldset("Absolute: no injection today, whoever asks", *groups[ConditionSeverity.ABSOLUTE]),
            Fieldset(
                "Relative: shown as an alert; injecting needs a recorded reason",
                *groups[ConditionSeverity.RELATIVE],
            ),
            Fieldset("Allergies", *Screening.ALLERGY_FIELDS, "allergy_other"),
            Fieldset("Outcome", "outcome", "notes"),
        )


class ConsentForm(forms.ModelForm):
    class Meta:
        model = Consent
        formfield_callback = clinic_formfield
        fields = ["consented_on", "form_version", "scope", "document", "notes"]
        widgets = {
            "consented_on": DATE_WIDGET,
            "notes": forms.Textarea(attrs={"rows": 3}),
            "document": forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        megabytes = consent_upload_max_bytes() / (1024 * 1024)
        self.fields["document"].help_text = f"Optional. PDF, JPEG or PNG, up to {megabytes:g} MB."
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_document(self):
        upload = self.cleaned_data.get("document")
        if not upload or not hasattr(upload, "content_type"):
            return upload
        limit = consent_upload_max_bytes()
        if upload.size > limit:
            size, most = upload.size / (1024 * 1024), limit / (1024 * 1024)
            raise forms.ValidationError(f"The file is {size:.1f} MB; the limit is {most:g} MB.")
        upload.seek(0)
        head = upload.read(16)
        upload.seek(0)
        for signature, extension in SCAN_SIGNATURES:
            if head.startswith(signature):
                # The stored name follows the content, whatever the uploaded name said.
                upload.name = f"consent.{extension}"
                return upload
        raise forms.ValidationError("Upload a PDF, JPEG or PNG scan; this file is none of those.")
