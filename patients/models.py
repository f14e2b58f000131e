import re
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property

from clinic.records import ClinicalRecord

PHONE_VALIDATOR = RegexValidator(
    r"^\+?[0-9 ()\-.]{6,20}$",
    "Enter a phone number of 6 to 20 digits; spaces, brackets, dashes and a leading + are allowed.",
)
OLDEST_AGE_YEARS = 120


def fold(text):
    """Lower-case, accent-free text for search: 'Zoë Ågren' -> 'zoe agren'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


def digits(text):
    return re.sub(r"\D", "", text or "")


class MrnSequence(models.Model):
    """The last medical record number handed out. Numbers are never reused, even for archived patients."""

    last_value = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"MRN counter at {self.last_value}"


class PatientQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived=False)

    def archived_only(self):
        return self.filter(archived=True)


class Patient(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"
        NOT_STATED = "not_stated", "Not stated"

    class ContactMethod(models.TextChoices):
        PHONE = "phone", "Phone call"
        SMS = "sms", "Text message"
        EMAIL = "email", "Email"
        POST = "post", "Post"

    mrn = models.CharField("MRN", max_length=16, unique=True, editable=False)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=12, choices=Sex.choices)
    phone = models.CharField(max_length=32, blank=True, validators=[PHONE_VALIDATOR])
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_phone = models.CharField(max_length=32, blank=True, validators=[PHONE_VALIDATOR])
    preferred_contact = models.CharField(
        "preferred contact method", max_length=8, choices=ContactMethod.choices, default=ContactMethod.PHONE
    )
    reminders_allowed = models.BooleanField("appointment reminders allowed", default=True)
    primary_practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="primary_patients",
    )
    notes = models.TextField(blank=True)

    archived = models.BooleanField(default=False)
    archived_reason = models.CharField(max_length=200, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # Search columns, derived from the fields above whenever the patient is saved.
    search_name = models.CharField(max_length=320, editable=False, blank=True, default="")
    phone_digits = models.CharField(max_length=32, editable=False, blank=True, default="", db_index=True)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        permissions = [
            ("archive_patient", "Can archive patients"),
            ("restore_patient", "Can restore archived patients"),
            ("export_patient_record", "Can download a patient's complete record (right of access)"),
        ]
        indexes = [
            models.Index(fields=["family_name", "given_name"], name="patient_name_idx"),
            models.Index(fields=["date_of_birth"], name="patient_dob_idx"),
            models.Index(fields=["search_name"], name="patient_search_name_idx"),
            models.Index(fields=["archived", "family_name", "given_name"], name="patient_active_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(archived=False) | ~Q(archived_reason=""),
                name="patient_archive_has_reason",
                violation_error_message="Give a reason for archiving this patient.",
            ),
        ]

    def __str__(self):
        return f"{self.full_name} ({self.mrn})"

    def save(self, *args, **kwargs):
        # Derived columns only; the search index must never disagree with the names it serves.
        self.refresh_search_fields()
        super().save(*args, **kwargs)

    @property
    def full_name(self):
        return f"{self.given_name} {self.family_name}"

    @property
    def display_name(self):
        if self.preferred_name and self.preferred_name != self.given_name:
            return f"{self.given_name} ({self.preferred_name}) {self.family_name}"
        return self.full_name

    @property
    def initials(self):
        return f"{self.given_name[:1]}{self.family_name[:1]}".upper()

    def age_on(self, day):
        years = day.year - self.date_of_birth.year
        return years - ((day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day))

    @property
    def age(self):
        return self.age_on(timezone.localdate())

    def refresh_search_fields(self):
        self.search_name = fold(f"{self.given_name} {self.family_name} {self.preferred_name}")
        self.phone_digits = digits(self.phone)

    def clean(self):
        # Every problem at once, so the form shows them all in one pass.
        errors = {}
        today = timezone.localdate()
        if self.date_of_birth:
            if self.date_of_birth > today:
                errors["date_of_birth"] = "Date of birth cannot be in the future."
            elif self.date_of_birth < today.replace(year=today.year - OLDEST_AGE_YEARS):
                errors["date_of_birth"] = (
                    f"Date of birth is more than {OLDEST_AGE_YEARS} years ago; check the year."
                )
        if self.archived and not self.archived_reason.strip():
            errors["archived_reason"] = "Say why the patient is archived."
        if self.reminders_allowed and self.preferred_contact == self.ContactMethod.EMAIL and not self.email:
            errors["email"] = "An email address is needed when the preferred contact is email."
        if errors:
            raise ValidationError(errors)

    def delete(self, *args, **kwargs):
        raise ValidationError("Patients are archived, never deleted.")


class ConditionSeverity(models.TextChoices):
    ABSOLUTE = "absolute", "Absolute: no injection, whoever asks"
    RELATIVE = "relative", "Relative: inject only with a recorded reason"


class Screening(ClinicalRecord):
    """Intake screening for contraindications, precautions and allergies (DOMAIN.md section 7)."""

    class Outcome(models.TextChoices):
        ELIGIBLE = "eligible", "Eligible"
        DEFERRED = "deferred", "Deferred"
        NOT_ELIGIBLE = "not_eligible", "Not eligible"

    # Whether a condition forbids injection (absolute) or needs a recorded reason (relative) is catalogue
    # data (ScreeningCondition); these are the defaults it was seeded with, from DOMAIN.md section 7.
    DEFER_FIELDS = ("active_infection", "acute_gout", "recent_fracture", "unexplained_mass")
    PRECAUTION_FIELDS = (
        "anticoagulant",
        "bleeding_disorder",
        "pregnancy",
        "diabetes",
        "immunosuppression",
        "prosthetic_joint",
        "malignancy",
    )
    ALLERGY_FIELDS = (
        "allergy_corn_dextrose",
        "allergy_fish",
        "allergy_local_anaesthetic",
        "allergy_latex",
        "allergy_parabens",
    )
    CONDITION_FIELDS = DEFER_FIELDS + PRECAUTION_FIELDS

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="screenings")
    screened_on = models.DateField(default=timezone.localdate)
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    active_infection = models.BooleanField("active local or systemic infection", default=False)
    acute_gout = models.BooleanField("acute gout", default=False)
    recent_fracture = models.BooleanField("recent fracture", default=False)
    unexplained_mass = models.BooleanField("unexplained mass at the site", default=False)

    anticoagulant = models.BooleanField("anticoagulant or antiplatelet therapy", default=False)
    anticoagulant_drug = models.CharField("anticoagulant / antiplatelet drug", max_length=100, blank=True)
    bleeding_disorder = models.BooleanField("bleeding disorder", default=False)
    pregnancy = models.BooleanField("pregnancy", default=False)
    diabetes = models.BooleanField("diabetes", default=False)
    immunosuppression = models.BooleanField("immunosuppression or oral steroids", default=False)
    prosthetic_joint = models.BooleanField("prosthetic joint", default=False)
    malignancy = models.BooleanField("malignancy", default=False)

    allergy_corn_dextrose = models.BooleanField("corn / dextrose allergy", default=False)
    allergy_fish = models.BooleanField("fish allergy (morrhuate)", default=False)
    allergy_local_anaesthetic = models.BooleanField("local anaesthetic allergy", default=False)
    allergy_latex = models.BooleanField("latex allergy", default=False)
    allergy_parabens = models.BooleanField("parabens allergy", default=False)
    allergy_other = models.CharField("other allergies", max_length=200, blank=True)

    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-screened_on", "-id"]
        indexes = [models.Index(fields=["patient", "-screened_on", "-id"], name="screening_latest_idx")]

    def __str__(self):
        return f"Screening of {self.patient.full_name} on {self.screened_on:%d %b %Y}"

    def _labels(self, fields):
        return [self._meta.get_field(name).verbose_name for name in fields if getattr(self, name)]

    @cached_property
    def severities(self):
        """The catalogue's severity of each condition ticked here (read only when one is ticked).

        A condition missing from the catalogue keeps its seeded default, so a new field is never silently
        relative.
        """
        ticked = [name for name in self.CONDITION_FIELDS if getattr(self, name)]
        catalogue = ScreeningCondition.objects.filter(field_name__in=ticked).severities() if ticked else {}
        return self._severities_from(catalogue)

    @classmethod
    def prime_severities(cls, screenings):
        """Give every screening of a list the catalogue's severities with one query, not one each."""
        screenings = list(screenings)
        if any(getattr(s, name) for s in screenings for name in cls.CONDITION_FIELDS):
            catalogue = ScreeningCondition.objects.severities()
            for screening in screenings:
                screening.__dict__["severities"] = screening._severities_from(catalogue)
        return screenings

    def _severities_from(self, catalogue):
        ticked = [name for name in self.CONDITION_FIELDS if getattr(self, name)]
        return {
            name: catalogue.get(
                name, ConditionSeverity.ABSOLUTE if name in self.DEFER_FIELDS else ConditionSeverity.RELATIVE
            )
            for name in ticked
        }

    def _by_severity(self, severity):
        return [name for name, value in self.severities.items() if value == severity]

    @property
    def absolute_reasons(self):
        """Ticked conditions the catalogue marks absolute: no injection today, whoever asks."""
        return self._labels(self._by_severity(ConditionSeverity.ABSOLUTE))

    @property
    def precautions(self):
        """Ticked conditions the catalogue marks relative: injecting needs a recorded reason."""
        fields = self._by_severity(ConditionSeverity.RELATIVE)
        labels = self._labels(fields)
        if self.anticoagulant and self.anticoagulant_drug and "anticoagulant" in fields:
            labels[fields.index("anticoagulant")] = (
                f"{labels[fields.index('anticoagulant')]} ({self.anticoagulant_drug})"
            )
        return labels

    @property
    def allergies(self):
        labels = self._labels(self.ALLERGY_FIELDS)
        if self.allergy_other:
            labels.append(self.allergy_other)
        return labels

    @property
    def rules_out_injection(self):
        """The practitioner's outcome: "deferred" and "not eligible" mean no injection until re-screened."""
        return self.outcome != self.Outcome.ELIGIBLE

    @property
    def blocks_injection(self):
        """True when nothing may be injected on this screening: no override exists (courses.safety)."""
        return bool(self.absolute_reasons) or self.rules_out_injection

    def is_due(self, *, valid_days, today=None):
        today = today or timezone.localdate()
        return (today - self.screened_on).days > valid_days

    def clean(self):
        errors = {}
        if self.screened_on and self.screened_on > timezone.localdate():
            errors["screened_on"] = "A screening cannot be dated in the future."
        if self.anticoagulant and not self.anticoagulant_drug.strip():
            errors["anticoagulant_drug"] = "Name the anticoagulant or antiplatelet drug."
        if self.absolute_reasons and self.outcome == self.Outcome.ELIGIBLE:
            errors["outcome"] = (
                f"Cannot be eligible with {', '.join(self.absolute_reasons)}: defer or decline."
            )
        if errors:
            raise ValidationError(errors)


class ScreeningConditionQuerySet(models.QuerySet):
    def severities(self):
        """{screening field name: severity} for every catalogue row, in one query."""
        return dict(self.values_list("field_name", "severity"))


class ScreeningCondition(models.Model):
    """How a screening condition gates injection: the clinic's choice, kept as catalogue data (DOMAIN.md 7).

    One row per condition field of Screening, seeded by patients/migrations/0006 and changed by clinic
    admins in the Django admin. The rule that reads it is courses.safety.
    """

    field_name = models.CharField(
        "screening condition",
        max_length=40,
        unique=True,
        choices=[
            (name, Screening._meta.get_field(name).verbose_name.capitalize())
            for name in Screening.CONDITION_FIELDS
        ],
    )
    severity = models.CharField(max_length=12, choices=ConditionSeverity.choices)
    note = models.CharField(
        max_length=200,
        blank=True,
        help_text="Why, or what to check, e.g. 'hypertonic dextrose raises glucose'.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScreeningConditionQuerySet.as_manager()

    class Meta:
        ordering = ["severity", "field_name"]

    def __str__(self):
        return f"{self.label} ({self.get_severity_display().split(':')[0].lower()})"

    @property
    def label(self):
        return Screening._meta.get_field(self.field_name).verbose_name.capitalize()

    def delete(self, *args, **kwargs):
        raise ValidationError("A screening condition is made relative or absolute, never deleted.")


def consent_upload_path(consent, filename):
    # Random, unguessable names: the original filename may carry patient details.
    import uuid

    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"consents/{uuid.uuid4().hex}.{extension}"


class Consent(ClinicalRecord):
    """Informed consent for prolotherapy, with an optional scanned form kept in private storage."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    consented_on = models.DateField(default=timezone.localdate)
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    form_version = models.CharField(max_length=40)
    scope = models.CharField(
        max_length=200,
        blank=True,
        help_text="What the consent covers, e.g. 'Right knee dextrose prolotherapy'.",
    )
    document = models.FileField("scanned form", upload_to=consent_upload_path, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-consented_on", "-id"]

    def __str__(self):
        return f"Consent {self.form_version} on {self.consented_on:%d %b %Y}"

    def clean(self):
        if self.consented_on and self.consented_on > timezone.localdate():
            raise ValidationError({"consented_on": "Consent cannot be dated in the future."})
