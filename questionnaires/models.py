"""Patient questionnaires: instruments as data item by item, the schedule that anchors them to a course,
the assignments it creates, and the patients' answers."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Scoring(models.TextChoices):
    SUM = "sum", "Sum of the item scores"
    MEAN = "mean", "Mean of the item scores"
    PERCENT_OF_MAX = "percent", "Percentage of the maximum for the items answered"
    NONE = "none", "Not scored (answers only)"


class Questionnaire(models.Model):
    """An instrument the patient fills in: its items, how they are scored and where the score lands."""

    class Origin(models.TextChoices):
        SHIPPED = "shipped", "Shipped with ProloTrack (free to reproduce)"
        ENTERED = "entered", "Entered by the clinic"
        FHIR = "fhir", "Imported from a FHIR Questionnaire"

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=120)
    version = models.CharField(max_length=40, blank=True)
    purpose = models.CharField(
        max_length=300, blank=True, help_text="What it asks, in one line (staff only)."
    )
    scoring = models.CharField(max_length=10, choices=Scoring.choices, default=Scoring.SUM)
    min_answered = models.PositiveSmallIntegerField(
        "fewest scored items answered",
        default=1,
        help_text="With fewer scored items answered than this, no score is computed.",
    )
    score_min = models.DecimalField("lowest score", max_digits=7, decimal_places=2, null=True, blank=True)
    score_max = models.DecimalField("highest score", max_digits=7, decimal_places=2, null=True, blank=True)
    higher_is_better = models.BooleanField(default=False)
    instrument = models.ForeignKey(
        "courses.OutcomeInstrument",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="questionnaires",
        help_text="The catalogue instrument whose score history receives this questionnaire's score.",
    )
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.ENTERED)
    copyright_note = models.CharField(
        max_length=300, blank=True, help_text="Licence or permission under which the clinic uses the items."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score_min__isnull=True)
                | Q(score_max__isnull=True)
                | Q(score_max__gt=F("score_min")),
                name="questionnaire_range_ordered",
                violation_error_message="The highest score must be above the lowest score.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def clean(self):
        if self.instrument_id and self.scoring == Scoring.NONE:
            raise ValidationError(
                {"instrument": "A questionnaire that is not scored cannot feed an instrument."}
            )
        if self.instrument_id:
            instrument = self.instrument
            if (self.score_min, self.score_max) != (instrument.min_score, instrument.max_score):
                raise ValidationError(
                    {
                        "instrument": f"{instrument.code} scores run from {instrument.min_score} to "
                        f"{instrument.max_score}: give this questionnaire the same range."
                    }
                )
            if self.higher_is_better != instrument.higher_is_better:
                raise ValidationError({"higher_is_better": f"{instrument.code} has the other direction."})


class AnswerType(models.TextChoices):
    INTEGER = "integer", "Whole number on a scale"
    CHOICE = "choice", "One choice"
    YES_NO = "yes_no", "Yes or no"
    TEXT = "text", "Free text"


class QuestionnaireItem(models.Model):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="items")
    link_id = models.CharField("link id", max_length=60)
    text = models.CharField(max_length=500)
    help_text = models.CharField(max_length=300, blank=True)
    answer_type = models.CharField(max_length=10, choices=AnswerType.choices)
    min_value = models.SmallIntegerField(null=True, blank=True)
    max_value = models.SmallIntegerField(null=True, blank=True)
    min_label = models.CharField("label of the lowest value", max_length=80, blank=True)
    max_label = models.CharField("label of the highest value", max_length=80, blank=True)
    required = models.BooleanField(default=True)
    scored = models.BooleanField(default=True)
    reversed = models.BooleanField(
        default=False, help_text="Scored from the other end: the lowest answer counts as the highest."
    )
    order = models.PositiveSmallIntegerField(default=0)
    shows_answer_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Shows the patient's answer to this earlier item above the question (e.g. the activity "
        "they named, above its rating).",
    )

    class Meta:
        ordering = ["questionnaire", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "link_id"],
                name="item_link_id_unique",
                violation_error_message="This questionnaire already has an item with this link id.",
            ),
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(max_value__gt=F("min_value")),
                name="item_range_ordered",
                violation_error_message="An item's highest value must be above its lowest value.",
            ),
        ]

    def __str__(self):
        return f"{self.link_id}: {self.text[:60]}"

    def clean(self):
        if self.answer_type == AnswerType.INTEGER and (self.min_value is None or self.max_value is None):
            raise ValidationError({"max_value": "A scale needs its lowest and highest value."})
        if self.answer_type == AnswerType.TEXT and self.scored:
            raise ValidationError({"scored": "A free-text answer cannot be scored."})

    @property
    def is_scale(self):
        return self.answer_type == AnswerType.INTEGER

    def value_range(self):
        """(lowest, highest) item score this item can give, or None when it gives none."""
        if not self.scored:
            return None
        if self.answer_type == AnswerType.INTEGER:
            return Decimal(self.min_value), Decimal(self.max_value)
        if self.answer_type == AnswerType.YES_NO:
            return Decimal(0), Decimal(1)
        scores = [choice.score for choice in self.choices.all() if choice.score is not None]
        return (min(scores), max(scores)) if scores else None


class ItemChoice(models.Model):
    """One answer a choice item offers, with the score it carries."""

    item = models.ForeignKey(QuestionnaireItem, on_delete=models.CASCADE, related_name="choices")
    code = models.CharField(max_length=60)
    label = models.CharField(max_length=200)
    score = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["item", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "code"],
                name="choice_code_unique",
                violation_error_message="This item already offers a choice with this code.",
            ),
        ]

    def __str__(self):
        return self.label


# --- The schedule: protocol data, edited by clinic admins -------------------------------------------


class Anchor(models.TextChoices):
    BEFORE_TREATMENT = "before", "Before each treatment"
    AFTER_TREATMENT = "after", "Check-in after each treatment"
    FOLLOW_UP = "follow_up", "At each follow-up timepoint"


class ScheduleRule(models.Model):
    """When a questionnaire is asked in a course. Treatment rules open and close a number of hours from
    the visit's start; follow-up rules use the protocol timepoints' windows (outcomes.timepoints)."""

    anchor = models.CharField(max_length=10, choices=Anchor.choices)
    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rules",
        help_text="Left blank: the questionnaire of the course's own outcome instrument, if it has one.",
    )
    opens_hours = models.SmallIntegerField(
        "opens (hours from the visit's start)",
        default=0,
        help_text="Negative before the visit. Follow-up rules use the timepoint's window instead.",
    )
    closes_hours = models.SmallIntegerField("closes (hours from the visit's start)", default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["anchor", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_hours__gt=F("opens_hours")) | Q(anchor="follow_up"),
                name="rule_window_ordered",
                violation_error_message="A questionnaire must close after it opens.",
            ),
            models.UniqueConstraint(
                fields=["anchor", "questionnaire"],
                name="rule_unique_per_anchor",
                violation_error_message="This questionnaire is already asked at this point of a course.",
            ),
        ]

    def __str__(self):
        what = self.questionnaire.name if self.questionnaire_id else "The course's instrument"
        return f"{what}: {self.get_anchor_display().lower()}"

    def clean(self):
        # The database cannot hold "one rule per anchor for the course's instrument" (a blank questionnaire)
        # on every backend, so it is checked here.
        if self.anchor and self.questionnaire_id is None:
            twins = ScheduleRule.objects.filter(anchor=self.anchor, questionnaire__isnull=True).exclude(
                pk=self.pk
            )
            if twins.exists():
                raise ValidationError(
                    {"questionnaire": "The course's instrument is already asked at this point."}
                )


# --- Assignments: one questionnaire for one course at one point of it -----------------------------


class AssignmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENT = "sent", "Sent"
    OPENED = "opened", "Opened"
    COMPLETED = "completed", "Completed"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


ASSIGNMENT_STATUS_BADGES = {
    AssignmentStatus.SCHEDULED: "secondary",
    AssignmentStatus.SENT: "info",
    AssignmentStatus.OPENED: "primary",
    AssignmentStatus.COMPLETED: "success",
    AssignmentStatus.EXPIRED: "warning",
    AssignmentStatus.CANCELLED: "light",
}
# Assignments the schedule may still move or cancel: nobody has started answering them.
MOVABLE_STATUSES = (AssignmentStatus.SCHEDULED, AssignmentStatus.SENT)
# Assignments that hold their place: another one for the same point is never created beside them.
HELD_STATUSES = (
    AssignmentStatus.SCHEDULED,
    AssignmentStatus.SENT,
    AssignmentStatus.OPENED,
    AssignmentStatus.COMPLETED,
    AssignmentStatus.EXPIRED,
)


class AssignmentQuerySet(models.QuerySet):
    def held(self):
        return self.filter(status__in=HELD_STATUSES)


class Assignment(models.Model):
    course = models.ForeignKey(
        "courses.TreatmentCourse", on_delete=models.PROTECT, related_name="assignments"
    )
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="assignments")
    anchor = models.CharField(max_length=10, choices=Anchor.choices)
    session = models.ForeignKey(
        "courses.TreatmentSession",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
        help_text="The visit it is anchored to (before or after a treatment).",
    )
    timepoint = models.ForeignKey(
        "courses.ProtocolTimepoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
        help_text="The follow-up timepoint it is anchored to.",
    )
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=AssignmentStatus.choices, default=AssignmentStatus.SCHEDULED
    )
    # SHA-256 of the link's secret: the secret itself is only ever in the invitation.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    invited_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    failed_checks = models.PositiveSmallIntegerField("wrong dates of birth in a row", default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    score = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    outcome_score = models.OneToOneField(
        "courses.OutcomeScore", on_delete=models.PROTECT, null=True, blank=True, related_name="assignment"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["opens_at", "pk"]
        indexes = [
            models.Index(fields=["course", "status"], name="assignment_course_idx"),
            models.Index(fields=["status", "opens_at"], name="assignment_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")),
                name="assignment_window_ordered",
                violation_error_message="A questionnaire must close after it opens.",
            ),
            models.CheckConstraint(
                condition=(Q(anchor="follow_up") & Q(timepoint__isnull=False) & Q(session__isnull=True))
                | (~Q(anchor="follow_up") & Q(session__isnull=False) & Q(timepoint__isnull=True)),
                name="assignment_anchor_matches",
                violation_error_message=(
                    "A treatment questionnaire names its visit; a follow-up its timepoint."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""),
                name="assignment_cancel_has_reason",
                violation_error_message="Say why the questionnaire was cancelled.",
            ),
            models.UniqueConstraint(
                fields=["course", "questionnaire", "anchor", "session"],
                condition=Q(status__in=HELD_STATUSES, session__isnull=False),
                name="assignment_one_per_visit",
                violation_error_message="This questionnaire is already scheduled for this visit.",
            ),
            models.UniqueConstraint(
                fields=["course", "questionnaire", "timepoint"],
                condition=Q(status__in=HELD_STATUSES, timepoint__isnull=False),
                name="assignment_one_per_timepoint",
                violation_error_message="This questionnaire is already scheduled for this timepoint.",
            ),
        ]
        permissions = [
            ("send_assignment", "Can send a questionnaire again or hand it to the patient on a tablet"),
        ]

    def __str__(self):
        return f"{self.questionnaire.name} for course {self.course_id} ({self.get_status_display()})"

    @property
    def shown_status(self):
        """The status as of now: a window that closed unanswered reads as expired before the next
        `send_invitations` run marks it so."""
        waiting = (AssignmentStatus.SCHEDULED, AssignmentStatus.SENT, AssignmentStatus.OPENED)
        if self.status in waiting and self.closes_at <= timezone.now():
            return AssignmentStatus.EXPIRED
        return AssignmentStatus(self.status)

    @property
    def status_badge(self):
        return ASSIGNMENT_STATUS_BADGES[self.shown_status]

    def is_open_at(self, moment):
        return self.opens_at <= moment < self.closes_at

    def is_locked_at(self, moment):
        return self.locked_until is not None and moment < self.locked_until

    def delete(self, *args, **kwargs):
        raise ValidationError("Questionnaires are cancelled with a reason, never deleted.")


class Answer(models.Model):
    """The patient's answer to one item, saved as they go (so they can leave and resume)."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="answers")
    item = models.ForeignKey(QuestionnaireItem, on_delete=models.PROTECT, related_name="answers")
    value_integer = models.SmallIntegerField(null=True, blank=True)
    choice = models.ForeignKey(ItemChoice, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    value_text = models.TextField(blank=True)
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["item__order", "item_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "item"],
                name="answer_one_per_item",
                violation_error_message="This question was already answered.",
            ),
        ]

    def __str__(self):
        return f"{self.item.link_id} = {self.display}"

    @property
    def display(self):
        if self.choice_id:
            return self.choice.label
        if self.value_integer is not None:
            if self.item.answer_type == AnswerType.YES_NO:
                return "Yes" if self.value_integer else "No"
            return str(self.value_integer)
        return self.value_text

    @property
    def is_blank(self):
        return self.choice_id is None and self.value_integer is None and not self.value_text.strip()


class LinkLock(models.Model):
    """A link locked after five wrong dates of birth: the clinic sees it on the course page and is told."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="locks")
    locked_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField()

    class Meta:
        ordering = ["-locked_at"]

    def __str__(self):
        return f"Link locked {self.locked_at:%d %b %Y %H:%M} (course {self.assignment.course_id})"


class StaffAction(models.Model):
    """A member of staff sending a questionnaire again or handing it to the patient on a clinic tablet:
    who did it and when (the audit trail records the row too); resends are counted from these rows."""

    class Kind(models.TextChoices):
        RESEND = "resend", "Invitation sent again"
        TABLET = "tablet", "Filled in on the clinic tablet"

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="staff_actions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    by = models.ForeignKey("clinic.User", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["assignment", "kind", "at"], name="staff_action_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.by} at {self.at:%d %b %Y %H:%M}"


class UrgentAlert(models.Model):
    """A check-in reporting what must be seen the same day (a fever, a hot swollen joint): raised with the
    submission for the course's practitioner, shown until someone acknowledges it."""

    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT, related_name="urgent_alert")
    course = models.ForeignKey(
        "courses.TreatmentCourse", on_delete=models.PROTECT, related_name="urgent_alerts"
    )
    practitioner = models.ForeignKey("clinic.User", on_delete=models.PROTECT, related_name="urgent_alerts")
    reason = models.CharField(max_length=300)
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        "clinic.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        indexes = [models.Index(fields=["acknowledged_at", "raised_at"], name="urgent_alert_open_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True)
                | Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False),
                name="urgent_alert_acknowledged_by_whom",
                violation_error_message="An acknowledged alert names who acknowledged it.",
            ),
        ]

    def __str__(self):
        return f"Urgent check-in for course {self.course_id} at {self.raised_at:%d %b %Y %H:%M}"

    def delete(self, *args, **kwargs):
        raise ValidationError("Urgent alerts are acknowledged, never deleted.")
