import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from clinic.choices import BodyRegion, Laterality
from clinic.records import ClinicalRecord
from courses import sites as site_rules

PAIN_VALIDATORS = [MinValueValidator(0), MaxValueValidator(10)]
MAX_VOLUME_ML = Decimal("20")


# --- Catalogues: seeded from DOMAIN.md by data migrations, edited by clinic admins -----------------


class Condition(models.Model):
    name = models.CharField(max_length=120, unique=True)
    icd10_code = models.CharField("ICD-10 code", max_length=10, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class InjectionSite(models.Model):
    class StructureType(models.TextChoices):
        LIGAMENT = "ligament", "Ligament attachment"
        TENDON = "tendon", "Tendon attachment"
        CAPSULE = "capsule", "Joint capsule"
        INTRA_ARTICULAR = "intra_articular", "Intra-articular"
        PERINEURAL = "perineural", "Perineural / subcutaneous"
        EPIDURAL = "epidural", "Epidural"
        INTRATENDINOUS = "intratendinous", "Intratendinous"

    region = models.CharField(max_length=20, choices=BodyRegion.choices)
    name = models.CharField(max_length=120)
    structure_type = models.CharField(max_length=20, choices=StructureType.choices)
    needs_spinal_level = models.BooleanField("spine site (needs a level)", default=False)
    risk_note = models.CharField(max_length=200, blank=True, help_text="e.g. pneumothorax risk")
    active = models.BooleanField(default=True)
    # Coded and placed (README "Body chart and coded sites"; the rules in courses/sites.py).
    snomed_code = models.CharField(
        "SNOMED CT code",
        max_length=18,
        blank=True,
        validators=[site_rules.validate_snomed_concept_id],
        help_text="The body structure's SNOMED CT concept id, where one applies; exported to FHIR.",
    )
    laterality_rule = models.CharField(
        max_length=8,
        choices=site_rules.LateralityRule.CHOICES,
        default=site_rules.LateralityRule.ANY,
        help_text="Which side an injection here may record.",
    )
    chart_view = models.CharField(
        "body chart view",
        max_length=5,
        choices=site_rules.VIEWS,
        blank=True,
        help_text="Where the site is drawn on the session page's body chart; empty: not on the chart.",
    )
    chart_x = models.PositiveSmallIntegerField(
        "chart x",
        null=True,
        blank=True,
        validators=[MaxValueValidator(site_rules.CHART_WIDTH)],
        help_text=f"0 (viewer's left) to {site_rules.CHART_WIDTH}; the midline is {site_rules.MIDLINE}. "
        "A paired site is placed on one side and mirrored.",
    )
    chart_y = models.PositiveSmallIntegerField(
        "chart y",
        null=True,
        blank=True,
        validators=[MaxValueValidator(site_rules.CHART_HEIGHT)],
        help_text=f"0 (top of the head) to {site_rules.CHART_HEIGHT} (soles).",
    )

    class Meta:
        ordering = ["region", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "name"],
                name="site_unique_in_region",
                violation_error_message="This body region already has an injection site with this name.",
            ),
            models.CheckConstraint(
                condition=Q(chart_view="", chart_x__isnull=True, chart_y__isnull=True)
                | Q(
                    chart_view__in=[site_rules.FRONT, site_rules.BACK],
                    chart_x__lte=site_rules.CHART_WIDTH,
                    chart_y__lte=site_rules.CHART_HEIGHT,
                ),
                name="site_chart_position_inside",
                violation_error_message="A site on the chart has a view and a position inside the chart.",
            ),
        ]

    def __str__(self):
        return f"{self.get_region_display()}: {self.name}"

    def clean(self):
        placed = [bool(self.chart_view), self.chart_x is not None, self.chart_y is not None]
        if any(placed) and not all(placed):
            message = "Give the view, x and y together to place the site, or none to leave it off the chart."
            raise ValidationError(
                {
                    field: message
                    for field, given in zip(("chart_view", "chart_x", "chart_y"), placed, strict=True)
                    if not given
                }
            )
        if (
            self.laterality_rule == site_rules.LateralityRule.MIDLINE
            and self.chart_x is not None
            and self.chart_x != site_rules.MIDLINE
        ):
            raise ValidationError(
                {"chart_x": f"A midline site sits on the midline: x = {site_rules.MIDLINE}."}
            )


class Product(models.Model):
    class Parabens(models.TextChoices):
        NONE = "none", "None"
        MULTI_DOSE = "multi_dose", "In multi-dose vials"
        ALWAYS = "always", "Always"

    class ProductType(models.TextChoices):
        DEXTROSE = "dextrose", "Dextrose"
        ANAESTHETIC = "anaesthetic", "Local anaesthetic"
        SCLEROSANT = "sclerosant", "Sclerosant (morrhuate, polidocanol)"
        P2G = "p2g", "P2G (phenol-glycerine-glucose)"
        DILUENT = "diluent", "Diluent (saline, water)"
        BIOLOGIC = "biologic", "Biologic (PRP)"
        OTHER = "other", "Other"

    name = models.CharField(max_length=120, unique=True)
    product_type = models.CharField(max_length=16, choices=ProductType.choices)
    stock_concentration_percent = models.DecimalField(
        "stock concentration (%)",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    # What allergies are checked against (courses.safety): ingredients and excipients, as the maker lists.
    corn_derived = models.BooleanField("corn-derived (dextrose, glucose)", default=False)
    fish_derived = models.BooleanField("fish-derived (e.g. sodium morrhuate)", default=False)
    local_anaesthetic = models.BooleanField("contains a local anaesthetic", default=False)
    latex = models.BooleanField("natural rubber latex (e.g. the vial stopper)", default=False)
    parabens = models.CharField(
        "paraben preservative",
        max_length=12,
        choices=Parabens.choices,
        default=Parabens.NONE,
        help_text="Multi-dose local anaesthetic vials are usually preserved with methylparaben.",
    )
    # The glucose a mixed product brings to the syringe (P2G: glucose 12.5 %); a dextrose product's glucose
    # is its stock concentration (glucose_content_percent).
    glucose_percent = models.DecimalField(
        "glucose content (%)",
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="For mixed products such as P2G (phenol–glycerine–glucose). A dextrose product counts its "
        "stock concentration: leave 0.",
    )
    other_ingredients = models.CharField(
        "other ingredients and excipients",
        max_length=300,
        blank=True,
        help_text="Comma-separated, e.g. 'glycerine, phenol': checked against a patient's other allergies.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["product_type", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stock_concentration_percent__gte=0, stock_concentration_percent__lte=100),
                name="product_concentration_0_100",
                violation_error_message="A stock concentration is between 0 and 100 %%.",
            )
        ]

    def __str__(self):
        return self.name

    @property
    def glucose_content_percent(self):
        """The glucose (dextrose) % of the stock: what it adds to the syringe's final dextrose %."""
        if self.product_type == self.ProductType.DEXTROSE:
            return self.stock_concentration_percent
        return self.glucose_percent or Decimal("0")


class LotQuerySet(models.QuerySet):
    def usable_on(self, day):
        """Lots a practitioner may draw from on `day`: in date, inside beyond-use, not recalled."""
        return self.filter(recalled=False, expiry_date__gte=day, product__active=True).filter(
            Q(beyond_use_date__isnull=True) | Q(beyond_use_date__gte=day)
        )


class Lot(models.Model):
    # A multi-dose vial is discarded this many days after first puncture unless the maker says otherwise.
    MULTI_DOSE_DAYS = 28

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=40)
    expiry_date = models.DateField()
    multi_dose = models.BooleanField("multi-dose vial", default=False)
    opened_on = models.DateField(null=True, blank=True)
    beyond_use_date = models.DateField(
        null=True, blank=True, help_text="Left blank, a multi-dose vial gets opened date + 28 days."
    )
    recalled = models.BooleanField(default=False)
    recall_note = models.CharField(max_length=200, blank=True)

    objects = LotQuerySet.as_manager()

    class Meta:
        ordering = ["product__name", "expiry_date", "lot_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "lot_number"],
                name="lot_unique_per_product",
                violation_error_message="This product already has a lot with this number.",
            ),
        ]

    def __str__(self):
        return f"{self.product.name} lot {self.lot_number} (exp {self.expiry_date:%d %b %Y})"

    @property
    def contains_parabens(self):
        parabens = self.product.parabens
        return parabens == Product.Parabens.ALWAYS or (
            parabens == Product.Parabens.MULTI_DOSE and self.multi_dose
        )

    def clean(self):
        if self.multi_dose and self.opened_on and not self.beyond_use_date:
            self.beyond_use_date = self.opened_on + datetime.timedelta(days=self.MULTI_DOSE_DAYS)
        if self.opened_on and self.beyond_use_date and self.beyond_use_date < self.opened_on:
            raise ValidationError(
                {"beyond_use_date": "The beyond-use date cannot be before the opened date."}
            )

    def unusable_reason(self, day):
        """Why this lot cannot be used on `day`, or '' when it can."""
        if self.recalled:
            return "recalled"
        if self.expiry_date < day:
            return f"expired on {self.expiry_date:%d %b %Y}"
        if self.beyond_use_date and self.beyond_use_date < day:
            return f"past its beyond-use date ({self.beyond_use_date:%d %b %Y})"
        return ""


class SideEffectTerm(models.Model):
    class Category(models.TextChoices):
        LOCAL = "local", "Local"
        SYSTEMIC = "systemic", "Systemic"
        PROCEDURAL = "procedural", "Procedural"

    name = models.CharField(max_length=120, unique=True)
    category = models.CharField(max_length=12, choices=Category.choices)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category", "name"]

    def __str__(self):
        return self.name


class OutcomeInstrument(models.Model):
    """An outcome measure with its range, direction and minimal clinically important difference."""

    PAIN_NRS_CODE = "NRS"

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=120)
    min_score = models.DecimalField(max_digits=6, decimal_places=1)
    max_score = models.DecimalField(max_digits=6, decimal_places=1)
    higher_is_better = models.BooleanField(default=False)
    mcid_absolute = models.DecimalField("MCID (absolute)", max_digits=6, decimal_places=1)
    mcid_relative_percent = models.DecimalField(
        "MCID (% of baseline)", max_digits=5, decimal_places=1, null=True, blank=True
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_score__gt=F("min_score")),
                name="instrument_range_ordered",
                violation_error_message="The highest score must be above the lowest score.",
            ),
            models.CheckConstraint(
                condition=Q(mcid_absolute__gt=0),
                name="instrument_mcid_positive",
                violation_error_message="The minimal clinically important difference must be above 0.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def mcid_text(self):
        """The MCID in words, as every page and export states it: '2 points or 30 % of the baseline'."""
        text = f"{self.mcid_absolute.normalize():f} points"
        if self.mcid_relative_percent is not None:
            text += f" or {self.mcid_relative_percent.normalize():f} % of the baseline"
        return text

    def improvement(self, baseline, latest):
        """Change from baseline in the instrument's 'better' direction (positive = better)."""
        return (latest - baseline) if self.higher_is_better else (baseline - latest)


class ProtocolSettings(models.Model):
    """The clinic's standard protocol. A single row, edited by clinic admins."""

    min_sessions = models.PositiveSmallIntegerField(default=3)
    max_sessions = models.PositiveSmallIntegerField(default=8)
    min_interval_days = models.PositiveSmallIntegerField(default=14)
    max_interval_days = models.PositiveSmallIntegerField(default=21)
    default_sessions = models.PositiveSmallIntegerField("sessions in a new course", default=6)
    default_interval_days = models.PositiveSmallIntegerField("days apart in a new course", default=14)
    slot_minutes = models.PositiveSmallIntegerField("appointment slot (minutes)", default=30)
    screening_valid_days = models.PositiveSmallIntegerField("screening valid for (days)", default=180)
    reminder_hours_before = models.PositiveSmallIntegerField("send reminders (hours before)", default=24)
    spacing_tolerance_days = models.PositiveSmallIntegerField(
        "spacing tolerance (days)",
        default=3,
        help_text="A course planned with its own interval outside the protocol may space its treatments "
        "this many days either side of that interval.",
    )
    # Clinic admins always sign in with a second factor; this asks it of every member of staff.
    two_factor_for_everyone = models.BooleanField(
        "require two-factor sign-in for everyone",
        default=False,
        help_text="Clinic admins always sign in with a code from an authenticator app. Tick this to ask it "
        "of every member of staff: those not enrolled are asked to enrol at their next page.",
    )

    class Meta:
        verbose_name = "protocol settings"
        verbose_name_plural = "protocol settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(min_sessions__gte=1, max_sessions__gte=F("min_sessions")),
                name="protocol_sessions_ordered",
                violation_error_message=(
                    "The most treatments in a course must be at least the fewest, and the fewest at least 1."
                ),
            ),
            models.CheckConstraint(
                condition=Q(min_interval_days__gte=1, max_interval_days__gte=F("min_interval_days")),
                name="protocol_interval_ordered",
                violation_error_message=(
                    "The longest interval must be at least the shortest, and the shortest at least 1 day."
                ),
            ),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5),
                name="protocol_slot_min_5",
                violation_error_message="An appointment slot is at least 5 minutes.",
            ),
            models.CheckConstraint(
                condition=Q(default_sessions__gte=F("min_sessions"), default_sessions__lte=F("max_sessions")),
                name="protocol_default_sessions_inside",
                violation_error_message=(
                    "The usual number of treatments must lie between the fewest and the most."
                ),
            ),
            models.CheckConstraint(
                condition=Q(
                    default_interval_days__gte=F("min_interval_days"),
                    default_interval_days__lte=F("max_interval_days"),
                ),
                name="protocol_default_interval_inside",
                violation_error_message="The usual interval must lie between the shortest and the longest.",
            ),
        ]

    def __str__(self):
        return (
            f"{self.min_sessions}–{self.max_sessions} sessions, "
            f"{self.min_interval_days}–{self.max_interval_days} days apart"
        )

    def clean(self):
        errors = {}
        if None in (self.min_sessions, self.max_sessions, self.min_interval_days, self.max_interval_days):
            return
        if self.max_sessions < self.min_sessions:
            errors["max_sessions"] = "The maximum cannot be below the minimum."
        elif self.default_sessions is not None and not (
            self.min_sessions <= self.default_sessions <= self.max_sessions
        ):
            errors["default_sessions"] = "A new course's length must be inside the protocol range."
        if self.max_interval_days < self.min_interval_days:
            errors["max_interval_days"] = "The maximum cannot be below the minimum."
        elif self.default_interval_days is not None and not (
            self.min_interval_days <= self.default_interval_days <= self.max_interval_days
        ):
            errors["default_interval_days"] = "A new course's spacing must be inside the protocol range."
        if errors:
            raise ValidationError(errors)

    @classmethod
    def load(cls):
        settings_row, _ = cls.objects.get_or_create(pk=1)
        return settings_row

    def sessions_in_protocol(self, count):
        return self.min_sessions <= count <= self.max_sessions

    def interval_in_protocol(self, days):
        return self.min_interval_days <= days <= self.max_interval_days


# --- Courses and sessions ---------------------------------------------------------------------------


class ProtocolTimepoint(models.Model):
    """An outcome timepoint of the clinic's protocol: a target day after the course's last treatment and a
    window around it (outcomes.timepoints reads a course's value there). Seeded with end of course and the
    6-week, 3-, 6- and 12-month follow-ups; clinic admins edit them. The baseline is not a row: it is fixed
    by the first treatment (courses.timeline.pain_baseline)."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=60, unique=True)
    target_days = models.PositiveSmallIntegerField(
        "target (days after the last treatment)",
        help_text="The day the score is due, counted from the course's last treatment.",
    )
    window_before_days = models.PositiveSmallIntegerField(
        "window opens (days before the target)", help_text="A score this many days early still counts."
    )
    window_after_days = models.PositiveSmallIntegerField(
        "window closes (days after the target)",
        help_text="A score this many days late still counts; after that the timepoint is missing.",
    )
    primary = models.BooleanField(
        "primary timepoint",
        default=False,
        help_text="The timepoint the dashboard's responder tables open on.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["target_days", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_before_days__lte=F("target_days")),
                name="timepoint_window_after_last_treatment",
                violation_error_message=(
                    "The window cannot open before the last treatment: make the days before the target at "
                    "most the target's days after the last treatment."
                ),
            ),
            models.UniqueConstraint(
                fields=["primary"],
                condition=Q(primary=True),
                name="timepoint_one_primary",
                violation_error_message="Only one timepoint can be the primary one.",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def opens_after_days(self):
        return self.target_days - self.window_before_days

    @property
    def closes_after_days(self):
        return self.target_days + self.window_after_days


class CourseStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped"


COURSE_STATUS_BADGES = {
    CourseStatus.PLANNED: "secondary",
    CourseStatus.ACTIVE: "primary",
    CourseStatus.COMPLETED: "success",
    CourseStatus.STOPPED: "dark",
}


class StopReason(models.TextChoices):
    GOAL_MET = "goal_met", "Goal met"
    NO_RESPONSE = "no_response", "No response"
    ADVERSE_EVENT = "adverse_event", "Adverse event"
    PATIENT_CHOICE = "patient_choice", "Patient choice"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up", "Lost to follow-up"


# Stopping for these reasons is a drop-out (outcomes: adherence and time to discontinuation); a course stopped
# because its goal was met, like a completed one, is not.
DROP_OUT_REASONS = (
    StopReason.NO_RESPONSE,
    StopReason.ADVERSE_EVENT,
    StopReason.PATIENT_CHOICE,
    StopReason.LOST_TO_FOLLOW_UP,
)


class CourseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=(CourseStatus.PLANNED, CourseStatus.ACTIVE))

    def with_progress(self):
        """Lists: completed and live session counts in the same query as the courses."""
        return self.annotate(
            completed_count=models.Count(
                "sessions", filter=Q(sessions__status=SessionStatus.COMPLETED), distinct=True
            ),
            last_completed_at=models.Max(
                "sessions__starts_at", filter=Q(sessions__status=SessionStatus.COMPLETED)
            ),
            next_booked_at=models.Min(
                "sessions__starts_at",
                filter=Q(sessions__status__in=(SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN)),
            ),
        )

    def for_list(self):
        return self.select_related("patient", "condition", "practitioner").with_progress()


_LATERALITY_LABELS = dict(Laterality.choices)


def course_label(laterality, condition_name):
    """What a course is called ("Left Knee osteoarthritis"), from its laterality and condition name.

    TreatmentCourse.__str__; calendars call it with values loaded without the model instances.
    """
    side = (
        ""
        if laterality in (Laterality.NOT_APPLICABLE, Laterality.MIDLINE)
        else f"{_LATERALITY_LABELS.get(laterality, laterality)} "
    )
    return f"{side}{condition_name}".strip()


class TreatmentCourse(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="courses")
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="courses")
    body_region = models.CharField(max_length=20, choices=BodyRegion.choices)
    laterality = models.CharField(max_length=10, choices=Laterality.choices)
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="treated_courses"
    )
    planned_sessions = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    interval_days = models.PositiveSmallIntegerField(
        "planned interval (days)", validators=[MinValueValidator(1), MaxValueValidator(180)]
    )
    outcome_instrument = models.ForeignKey(
        OutcomeInstrument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="courses",
        help_text="Optional primary outcome measure besides pain NRS.",
    )
    baseline_pain = models.PositiveSmallIntegerField("baseline pain (NRS 0–10)", validators=PAIN_VALIDATORS)
    baseline_instrument_score = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    goals = models.TextField(blank=True)
    consent = models.ForeignKey(
        "patients.Consent", on_delete=models.PROTECT, null=True, blank=True, related_name="courses"
    )
    status = models.CharField(max_length=12, choices=CourseStatus.choices, default=CourseStatus.PLANNED)
    stop_reason = models.CharField(max_length=20, choices=StopReason.choices, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    deviation_reason = models.TextField(
        "protocol deviation reason",
        blank=True,
        help_text="Required when the plan is outside the clinic protocol.",
    )
    is_protocol_deviation = models.BooleanField(default=False, editable=False)
    closing_note = models.TextField(
        blank=True, help_text="What happened when the course was completed or stopped."
    )

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-id"]
        permissions = [
            ("view_clinical", "Can see clinical entries (injections, side effects, notes)"),
            ("view_outcomes", "Can view outcome reports"),
            ("view_all_outcomes", "Can view outcome reports for every practitioner"),
            ("export_research", "Can download de-identified research exports"),
        ]
        indexes = [
            models.Index(fields=["patient", "-start_date"], name="course_patient_idx"),
            models.Index(fields=["status", "start_date"], name="course_status_idx"),
            models.Index(fields=["practitioner", "status"], name="course_practitioner_idx"),
            models.Index(fields=["condition", "start_date"], name="course_condition_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(baseline_pain__gte=0, baseline_pain__lte=10),
                name="course_baseline_pain_0_10",
                violation_error_message="Baseline pain is scored from 0 to 10.",
            ),
            models.CheckConstraint(
                condition=Q(planned_sessions__gte=1),
                name="course_planned_sessions_positive",
                violation_error_message="A course plans at least one treatment.",
            ),
            models.CheckConstraint(
                condition=Q(interval_days__gte=1),
                name="course_interval_positive",
                violation_error_message="Treatments are at least 1 day apart.",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="course_dates_ordered",
                violation_error_message="A course cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=~Q(status=CourseStatus.STOPPED) | ~Q(stop_reason=""),
                name="course_stop_has_reason",
                violation_error_message="Give a reason for stopping this course.",
            ),
        ]

    def __str__(self):
        return course_label(self.laterality, self.condition.name)

    @property
    def status_badge(self):
        return COURSE_STATUS_BADGES[self.status]

    @property
    def is_open(self):
        return self.status in (CourseStatus.PLANNED, CourseStatus.ACTIVE)

    def clean(self):
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The end date cannot be before the start date."})
        if self.status == CourseStatus.STOPPED and not self.stop_reason:
            raise ValidationError({"stop_reason": "Say why the course was stopped."})
        protocol = ProtocolSettings.load()
        outside = []
        if self.planned_sessions and not protocol.sessions_in_protocol(self.planned_sessions):
            outside.append(
                f"{self.planned_sessions} sessions (protocol {protocol.min_sessions}–{protocol.max_sessions})"
            )
        if self.interval_days and not protocol.interval_in_protocol(self.interval_days):
            outside.append(
                f"{self.interval_days} days apart "
                f"(protocol {protocol.min_interval_days}–{protocol.max_interval_days})"
            )
        self.is_protocol_deviation = bool(outside)
        if outside and not self.deviation_reason.strip():
            message = f"Outside the clinic protocol ({'; '.join(outside)}): record the reason."
            raise ValidationError({"deviation_reason": message})

    def delete(self, *args, **kwargs):
        raise ValidationError("Courses are completed or stopped with a reason, never deleted.")


class CourseExtension(models.Model):
    """A course's planned session count changed after it began, with the reason."""

    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="extensions")
    from_sessions = models.PositiveSmallIntegerField()
    to_sessions = models.PositiveSmallIntegerField()
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(to_sessions__gt=F("from_sessions")),
                name="extension_increases",
                violation_error_message="An extension must add at least one treatment to the course.",
            ),
        ]

    def __str__(self):
        return f"Extended from {self.from_sessions} to {self.to_sessions} sessions"


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CHECKED_IN = "checked_in", "Checked in"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


SESSION_STATUS_BADGES = {
    SessionStatus.SCHEDULED: "secondary",
    SessionStatus.CHECKED_IN: "info",
    SessionStatus.COMPLETED: "success",
    SessionStatus.CANCELLED: "light",
    SessionStatus.NO_SHOW: "warning",
}
# Sessions that hold a place in the course's sequence and in the calendar.
LIVE_SESSION_STATUSES = (SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN, SessionStatus.COMPLETED)
# Visits still to happen (or happening): booked or checked in.
OPEN_SESSION_STATUSES = (SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN)


class NoShowFollowUp(models.TextChoices):
    """What the front desk found out after a missed visit; until recorded, the no-show is on the call list."""

    CALLED = "called", "Spoke to the patient"
    REBOOKED = "rebooked", "Rebooked"
    COURSE_STOPPED = "course_stopped", "Course stopped"
    OTHER = "other", "Other (see note)"


class Guidance(models.TextChoices):
    LANDMARK = "landmark", "Landmark (palpation)"
    ULTRASOUND = "ultrasound", "Ultrasound"
    FLUOROSCOPY = "fluoroscopy", "Fluoroscopy"
    CT = "ct", "CT"


class AnaestheticUse(models.TextChoices):
    NONE = "none", "None"
    TOPICAL = "topical", "Topical cream"
    BLEB = "bleb", "Injected skin bleb"
    IN_PREPARATION = "in_preparation", "Mixed into the preparation"


class TreatmentSession(models.Model):
    """One visit of a course: an appointment until it is completed, then the injection record."""

    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="sessions")
    # The course's patient, repeated here so the diary can check "one place at a time" per patient
    # with an index (and a PostgreSQL exclusion constraint) instead of a join.
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="sessions")
    sequence = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sessions"
    )
    status = models.CharField(max_length=12, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    # A completed visit at which nothing was injected (the patient was assessed, e.g. because an absolute
    # contraindication ruled injection out that day). It is not a treatment: it starts nothing, numbers
    # nothing and is never a baseline or an outcome point (courses.timeline).
    assessment_only = models.BooleanField("assessment only (nothing injected)", default=False)

    pain_pre = models.PositiveSmallIntegerField(
        "pain before injection (NRS 0–10)", null=True, blank=True, validators=PAIN_VALIDATORS
    )
    pain_post = models.PositiveSmallIntegerField(
        "pain after injection (NRS 0–10)", null=True, blank=True, validators=PAIN_VALIDATORS
    )
    guidance = models.CharField(max_length=12, choices=Guidance.choices, blank=True)
    anaesthetic_use = models.CharField(
        "anaesthetic used", max_length=16, choices=AnaestheticUse.choices, blank=True
    )
    took_nsaids = models.BooleanField("NSAIDs since last session", default=False)
    took_anticoagulants = models.BooleanField("anticoagulants since last session", default=False)
    took_opioids = models.BooleanField("opioids since last session", default=False)
    medication_notes = models.CharField("other medications", max_length=200, blank=True)

    aftercare_nsaid_avoid_days = models.PositiveSmallIntegerField(
        "avoid NSAIDs (days)", null=True, blank=True
    )
    aftercare_no_ice_days = models.PositiveSmallIntegerField("no ice (days)", null=True, blank=True)
    aftercare_activity_restriction_days = models.PositiveSmallIntegerField(
        "restrict activity (days)", null=True, blank=True
    )
    aftercare_heat = models.BooleanField("heat packs advised", default=False)
    aftercare_notes = models.CharField("other aftercare advice", max_length=300, blank=True)
    notes = models.TextField("clinical notes", blank=True)

    # Computed from the preparations (never typed): the strongest preparation's dextrose %, and the
    # strongest single local anaesthetic's own final % (agents are never added together).
    final_dextrose_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, editable=False
    )
    final_anaesthetic_percent = models.DecimalField(
        max_digits=5, decimal_places=3, null=True, blank=True, editable=False
    )
    total_volume_ml = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, editable=False
    )

    # Reasons recorded when the practitioner confirmed past a warning.
    screening_override_reason = models.CharField(max_length=300, blank=True)
    spacing_override_reason = models.CharField(max_length=300, blank=True)
    count_override_reason = models.CharField(max_length=300, blank=True)

    checked_in_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    no_show_at = models.DateTimeField("marked as a no-show at", null=True, blank=True)
    no_show_follow_up = models.CharField(
        "after the no-show", max_length=16, choices=NoShowFollowUp.choices, blank=True
    )
    no_show_follow_up_note = models.CharField("note", max_length=200, blank=True)
    no_show_follow_up_at = models.DateTimeField(null=True, blank=True)
    no_show_follow_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    # Optimistic locking: a save must name the version it was edited from.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course", "sequence", "starts_at"]
        indexes = [
            models.Index(fields=["practitioner", "starts_at"], name="session_practitioner_time_idx"),
            models.Index(fields=["patient", "starts_at"], name="session_patient_time_idx"),
            models.Index(fields=["starts_at"], name="session_time_idx"),
            models.Index(fields=["course", "status", "sequence"], name="session_course_idx"),
            models.Index(fields=["status", "starts_at"], name="session_status_time_idx"),
        ]
        constraints = [
            # One treatment number per course among the treatments given and the visits booked (an
            # assessment keeps the number it was booked under, outside the count: courses.timeline).
            models.UniqueConstraint(
                fields=["course", "sequence"],
                condition=Q(status__in=LIVE_SESSION_STATUSES, assessment_only=False),
                name="session_unique_live_sequence",
                violation_error_message="This treatment of the course was booked a moment ago by someone "
                "else: reload the page to see the course's visits.",
            ),
            models.CheckConstraint(
                condition=Q(sequence__gte=1),
                name="session_sequence_positive",
                violation_error_message="Treatment numbers start at 1.",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="session_ends_after_start",
                violation_error_message="A visit must end after it starts.",
            ),
            models.CheckConstraint(
                condition=Q(pain_pre__isnull=True) | Q(pain_pre__gte=0, pain_pre__lte=10),
                name="session_pain_pre_0_10",
                violation_error_message="Pain before treatment is scored from 0 to 10.",
            ),
            models.CheckConstraint(
                condition=Q(pain_post__isnull=True) | Q(pain_post__gte=0, pain_post__lte=10),
                name="session_pain_post_0_10",
                violation_error_message="Pain after treatment is scored from 0 to 10.",
            ),
            models.CheckConstraint(
                condition=~Q(status=SessionStatus.COMPLETED) | Q(pain_pre__isnull=False),
                name="session_completed_has_pain",
                violation_error_message="Record the pain score before treatment to complete the session.",
            ),
            models.CheckConstraint(
                condition=~Q(status=SessionStatus.CANCELLED) | ~Q(cancel_reason=""),
                name="session_cancel_has_reason",
                violation_error_message="Give a reason for cancelling this visit.",
            ),
        ]

    def __str__(self):
        return f"Session {self.sequence} of {self.course}"

    @property
    def status_badge(self):
        return SESSION_STATUS_BADGES[self.status]

    @property
    def is_live(self):
        return self.status in LIVE_SESSION_STATUSES

    @property
    def is_treatment(self):
        return self.status == SessionStatus.COMPLETED and not self.assessment_only

    @property
    def is_spacing_deviation(self):
        """Given or booked outside the course's spacing window, with the reason recorded."""
        return bool(self.spacing_override_reason)

    @property
    def awaits_no_show_follow_up(self):
        return self.status == SessionStatus.NO_SHOW and not self.no_show_follow_up

    @property
    def duration_minutes(self):
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The appointment must end after it starts."})
        if self.course_id and self.patient_id and self.patient_id != self.course.patient_id:
            raise ValidationError("A session belongs to its course's patient.")
        if self.status == SessionStatus.COMPLETED and self.pain_pre is None:
            raise ValidationError(
                {"pain_pre": "Record the pain score before injecting to complete the session."}
            )
        if self.status == SessionStatus.CANCELLED and not self.cancel_reason.strip():
            raise ValidationError({"cancel_reason": "Say why the session was cancelled."})

    def delete(self, *args, **kwargs):
        raise ValidationError("Sessions are cancelled or marked as no-shows with a reason, never deleted.")


class Preparation(ClinicalRecord):
    """One syringe mix of a session (e.g. 25 % inside the knee, 15 % around it), with the strengths computed
    from its components by courses.session_services.preparation_strengths, never typed."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="preparations")
    label = models.CharField(max_length=60, blank=True, help_text="e.g. 'Intra-articular'")
    volume_ml = models.DecimalField(
        "volume drawn up (mL)", max_digits=6, decimal_places=2, null=True, blank=True, editable=False
    )
    final_dextrose_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["session"], name="preparation_session_idx")]

    def __str__(self):
        return self.label or f"Preparation {self.pk}"


class PreparationComponent(ClinicalRecord):
    """One ingredient of a syringe mix: a product lot and the volume drawn."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="components")
    preparation = models.ForeignKey(Preparation, on_delete=models.PROTECT, related_name="components")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="components")
    volume_ml = models.DecimalField("volume (mL)", max_digits=6, decimal_places=2)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["lot"], name="component_lot_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(volume_ml__gt=0, volume_ml__lte=200),
                name="component_volume_positive",
                violation_error_message="Each component's volume is above 0 and at most 200 mL.",
            ),
        ]

    def __str__(self):
        return f"{self.volume_ml} mL {self.lot}"


class Injection(ClinicalRecord):
    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="injections")
    # The syringe it was drawn from; empty on records from before a session could hold several.
    preparation = models.ForeignKey(
        Preparation, on_delete=models.PROTECT, null=True, blank=True, related_name="injections"
    )
    site = models.ForeignKey(InjectionSite, on_delete=models.PROTECT, related_name="injections")
    laterality = models.CharField(max_length=10, choices=Laterality.choices)
    spinal_level = models.CharField(max_length=20, blank=True, help_text="e.g. L4–L5")
    volume_ml = models.DecimalField(
        "volume (mL)",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_VOLUME_ML)],
    )
    needle_gauge = models.PositiveSmallIntegerField(
        "needle gauge (G)", null=True, blank=True, validators=[MinValueValidator(18), MaxValueValidator(34)]
    )
    passes = models.PositiveSmallIntegerField("number of passes", null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["session"], name="injection_session_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(volume_ml__gt=0, volume_ml__lte=20),
                name="injection_volume_0_20",
                violation_error_message="An injection's volume is above 0 and at most 20 mL.",
            ),
        ]

    def __str__(self):
        return f"{self.site.name} ({self.get_laterality_display()}) {self.volume_ml} mL"

    def clean(self):
        errors = {}
        if self.site_id and self.site.needs_spinal_level and not self.spinal_level.strip():
            errors["spinal_level"] = "This is a spine site: give the level, e.g. L4–L5."
        if self.site_id and (problem := site_rules.laterality_problem(self.site, self.laterality)):
            errors["laterality"] = problem
        if errors:
            raise ValidationError(errors)


class Severity(models.IntegerChoices):
    MILD = 1, "1 – Mild"
    MODERATE = 2, "2 – Moderate"
    SEVERE = 3, "3 – Severe or hospitalised"
    LIFE_THREATENING = 4, "4 – Life-threatening"
    DEATH = 5, "5 – Death"


class SideEffect(ClinicalRecord):
    class SeriousCriterion(models.TextChoices):
        DEATH = "death", "Death"
        LIFE_THREATENING = "life_threatening", "Life-threatening"
        HOSPITALISATION = "hospitalisation", "Hospitalisation"
        DISABILITY = "disability", "Persistent disability"
        MEDICALLY_IMPORTANT = "medically_important", "Medically important"

    class Action(models.TextChoices):
        NONE = "none", "None"
        ADVICE = "advice", "Advice / reassurance"
        MEDICATION = "medication", "Medication"
        REVIEW = "review", "Medical review"
        REFERRAL = "referral", "Hospital referral"
        COURSE_CHANGED = "course_changed", "Course paused or stopped"

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", "Resolved"
        RESOLVING = "resolving", "Resolving"
        NOT_RESOLVED = "not_resolved", "Not resolved"
        SEQUELAE = "sequelae", "Resolved with sequelae"
        FATAL = "fatal", "Fatal"
        UNKNOWN = "unknown", "Unknown"

    class Relatedness(models.TextChoices):
        RELATED = "related", "Related"
        POSSIBLY = "possibly", "Possibly related"
        UNLIKELY = "unlikely", "Unlikely related"
        UNRELATED = "unrelated", "Not related"

    reported_session = models.ForeignKey(
        TreatmentSession,
        on_delete=models.PROTECT,
        related_name="reported_side_effects",
        help_text="The visit at which it was reported.",
    )
    attributed_session = models.ForeignKey(
        TreatmentSession,
        on_delete=models.PROTECT,
        related_name="side_effects",
        help_text="The session that caused it (usually the previous one).",
    )
    term = models.ForeignKey(SideEffectTerm, on_delete=models.PROTECT, related_name="side_effects")
    onset_date = models.DateField()
    resolved_date = models.DateField(null=True, blank=True)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    serious = models.BooleanField(default=False)
    serious_criterion = models.CharField(max_length=20, choices=SeriousCriterion.choices, blank=True)
    site = models.ForeignKey(InjectionSite, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    laterality = models.CharField(max_length=10, choices=Laterality.choices, blank=True)
    action_taken = models.CharField(max_length=16, choices=Action.choices, default=Action.NONE)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RESOLVED)
    relatedness = models.CharField(max_length=12, choices=Relatedness.choices, default=Relatedness.POSSIBLY)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["onset_date", "id"]
        indexes = [
            models.Index(fields=["attributed_session"], name="side_effect_attributed_idx"),
            models.Index(fields=["reported_session"], name="side_effect_reported_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__gte=1, severity__lte=5),
                name="side_effect_severity_1_5",
                violation_error_message="Severity is graded from 1 to 5.",
            ),
            models.CheckConstraint(
                condition=Q(resolved_date__isnull=True) | Q(resolved_date__gte=F("onset_date")),
                name="side_effect_dates_ordered",
                violation_error_message="A side effect cannot resolve before its onset.",
            ),
            models.CheckConstraint(
                condition=Q(serious=False, serious_criterion="")
                | (Q(serious=True) & ~Q(serious_criterion="")),
                name="side_effect_serious_has_criterion",
                violation_error_message=(
                    "A serious side effect needs its seriousness criterion, and only a serious one has one."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.term} (grade {self.severity})"

    def clean(self):
        if self.resolved_date and self.onset_date and self.resolved_date < self.onset_date:
            raise ValidationError({"resolved_date": "Resolution cannot be before onset."})
        if self.serious and not self.serious_criterion:
            raise ValidationError({"serious_criterion": "Say which seriousness criterion applies."})
        if not self.serious and self.serious_criterion:
            raise ValidationError({"serious": "Tick 'serious' or clear the criterion."})
        if self.severity and self.severity >= Severity.LIFE_THREATENING and not self.serious:
            raise ValidationError({"serious": "Grade 4 and 5 events are serious."})


class PatientSideEffectReport(models.Model):
    """A reaction the patient reported in a check-in after a treatment, waiting for the practitioner.

    Made by the check-in's submission (courses.services.patient_side_effects_report); it is not a side effect
    until the practitioner confirms it on the next session page, as a side-effect row they have checked and
    graded (the row points back here), or dismisses it with a reason. Never deleted.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the practitioner"
        CONFIRMED = "confirmed", "Confirmed as a side effect"
        DISMISSED = "dismissed", "Dismissed"

    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="patient_reports")
    session = models.ForeignKey(
        TreatmentSession,
        on_delete=models.PROTECT,
        related_name="patient_reports",
        help_text="The treatment the check-in followed.",
    )
    assignment = models.ForeignKey(
        "questionnaires.Assignment", on_delete=models.PROTECT, related_name="side_effect_reports"
    )
    item_code = models.CharField(max_length=40, help_text="The check-in question it answers.")
    term = models.ForeignKey(
        SideEffectTerm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The catalogue term it suggests, if any: the practitioner decides.",
    )
    description = models.CharField(max_length=300, help_text="What the patient reported, in their words.")
    grade = models.PositiveSmallIntegerField(
        choices=Severity.choices,
        null=True,
        blank=True,
        help_text="The grade the patient's severity suggests.",
    )
    reported_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    side_effect = models.OneToOneField(
        SideEffect, on_delete=models.PROTECT, null=True, blank=True, related_name="patient_report"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    dismiss_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["reported_on", "pk"]
        indexes = [models.Index(fields=["course", "status"], name="patient_report_course_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "item_code"],
                name="patient_report_one_per_answer",
                violation_error_message="This answer was already reported.",
            ),
            models.CheckConstraint(
                condition=(Q(status="pending") & Q(side_effect__isnull=True) & Q(decided_at__isnull=True))
                | (Q(status="confirmed") & Q(side_effect__isnull=False) & Q(decided_at__isnull=False))
                | (
                    Q(status="dismissed")
                    & Q(side_effect__isnull=True)
                    & Q(decided_at__isnull=False)
                    & ~Q(dismiss_reason="")
                ),
                name="patient_report_decision_matches",
                violation_error_message=(
                    "A confirmed report names its side effect, a dismissed one says why, "
                    "a waiting one neither."
                ),
            ),
            models.CheckConstraint(
                condition=Q(grade__isnull=True) | Q(grade__gte=1, grade__lte=5),
                name="patient_report_grade_1_5",
                violation_error_message="Grades run from 1 to 5.",
            ),
        ]

    def __str__(self):
        return f"{self.description} (reported {self.reported_on:%d %b %Y})"

    @property
    def decided_sentence(self):
        """What to tell someone who tries to decide on a report already decided."""
        when = timezone.localtime(self.decided_at)
        verb = "confirmed" if self.status == self.Status.CONFIRMED else "dismissed"
        return (
            f"This report was already {verb} by {self.decided_by or 'someone'} on {when:%d %b %Y at %H:%M}."
        )

    def delete(self, *args, **kwargs):
        raise ValidationError("A patient's report is confirmed or dismissed, never deleted.")


class Timepoint(models.TextChoices):
    BASELINE = "baseline", "Baseline"
    SESSION = "session", "At a session"
    BETWEEN = "between", "Between sessions"
    END_OF_COURSE = "eoc", "End of course"
    WEEK_6 = "w6", "6 weeks after last session"
    WEEK_12 = "w12", "3 months (12 weeks) after last session"
    WEEK_26 = "w26", "6 months (26 weeks) after last session"
    WEEK_52 = "w52", "12 months (52 weeks) after last session"


FOLLOW_UP_WEEKS = {Timepoint.WEEK_6: 6, Timepoint.WEEK_12: 12, Timepoint.WEEK_26: 26, Timepoint.WEEK_52: 52}


class OutcomeScore(ClinicalRecord):
    """A pain or instrument score taken between or after sessions."""

    class Source(models.TextChoices):
        CLINIC = "clinic", "In clinic"
        PHONE = "phone", "Phone"
        PATIENT = "patient", "Patient-reported"

    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="scores")
    instrument = models.ForeignKey(OutcomeInstrument, on_delete=models.PROTECT, related_name="scores")
    score = models.DecimalField(max_digits=6, decimal_places=1)
    recorded_on = models.DateField(default=timezone.localdate)
    timepoint = models.CharField(max_length=10, choices=Timepoint.choices)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CLINIC)
    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, null=True, blank=True, related_name="scores"
    )

    class Meta:
        ordering = ["recorded_on", "id"]
        indexes = [models.Index(fields=["course", "instrument", "recorded_on"], name="score_course_idx")]

    def __str__(self):
        return f"{self.instrument.code} {self.score} on {self.recorded_on:%d %b %Y}"

    def clean(self):
        if self.instrument_id and self.score is not None:
            low, high = self.instrument.min_score, self.instrument.max_score
            if not low <= self.score <= high:
                raise ValidationError({"score": f"{self.instrument.code} scores run from {low} to {high}."})
        if self.recorded_on and self.recorded_on > timezone.localdate():
            raise ValidationError({"recorded_on": "A score cannot be recorded in the future."})
