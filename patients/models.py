import re
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

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


class Screening(ClinicalRecord):
    """Intake screening for contraindications, precautions and allergies (DOMAIN.md section 7)."""

    class Outcome(models.TextChoices):
        ELIGIBLE = "eligible", "Eligible"
        DEFERRED = "deferred", "Deferred"
        NOT_ELIGIBLE = "not_eligible", "Not eligible"

    # Conditions that defer injection.
    DEFER_FIELDS = ("active_infection", "acute_gout", "recent_fracture", "unexplained_mass")
    # Precautions: shown as a banner, injecting needs an acknowledged override.
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

    @property
    def defer_reasons(self):
        return self._labels(self.DEFER_FIELDS)

    @property
    def precautions(self):
        labels = self._labels(self.PRECAUTION_FIELDS)
        if self.anticoagulant and self.anticoagulant_drug:
            labels[0] = f"{labels[0]} ({self.anticoagulant_drug})"
        return labels

    @property
    def allergies(self):
        labels = self._labels(self.ALLERGY_FIELDS)
        if self.allergy_other:
            labels.append(self.allergy_other)
        return labels

    @property
    def blocks_injection(self):
        """True when injecting needs an explicit, recorded override."""
        return bool(self.defer_reasons) or self.outcome != self.Outcome.ELIGIBLE

    def is_due(self, *, valid_days, today=None):
        today = today or timezone.localdate()
        return (today - self.screened_on).days > valid_days

    def clean(self):
        errors = {}
        if self.screened_on and self.screened_on > timezone.localdate():
            errors["screened_on"] = "A screening cannot be dated in the future."
        if self.anticoagulant and not self.anticoagulant_drug.strip():
            errors["anticoagulant_drug"] = "Name the anticoagulant or antiplatelet drug."
        if self.defer_reasons and self.outcome == self.Outcome.ELIGIBLE:
            errors["outcome"] = f"Cannot be eligible with {', '.join(self.defer_reasons)}: defer or decline."
        if errors:
            raise ValidationError(errors)


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
