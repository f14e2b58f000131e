"""The per-course outcome summary: what the dashboard would otherwise compute per course on every request.

One row per course with the values derived from its completed sessions and current follow-up scores (latest
pain and instrument score with their dates, sessions received, strongest dextrose, anaesthetic), and the
course's response flags (courses.selectors.RESPONDER_DEFINITION applied to those values, the course's
baselines and status and the instrument catalogue). Per-course breakdowns (sessions by band and region,
intervals, side effects, pain score sums) are rows of CourseSessionCount.

Kept up to date in the same transaction as every write that changes an input: services announce what they
changed (clinic.changes) and outcomes.refresh recomputes the courses named (`outcomes.summary`);
`course_outcomes_rebuild()` recomputes every row. Derived data: not audited.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from courses.models import Condition, OutcomeInstrument, ProtocolTimepoint, TreatmentCourse
from outcomes import timepoints

PAIN = {"max_digits": 6, "decimal_places": 1, "null": True, "blank": True}


class CourseOutcome(models.Model):
    course = models.OneToOneField(
        TreatmentCourse, on_delete=models.PROTECT, primary_key=True, related_name="outcome_summary"
    )
    # Treatments given (completed visits with an injection; assessments are not treatments), the day of the
    # first (it fixes the baseline) and of the last (follow-ups are timed from it).
    sessions_received = models.PositiveIntegerField(default=0)
    first_session_on = models.DateField(null=True, blank=True)
    last_session_on = models.DateField(null=True, blank=True)
    # The baselines (courses.timeline): the last score on or before the first treatment.
    baseline_pain = models.DecimalField(**PAIN)
    baseline_pain_on = models.DateField(null=True, blank=True)
    baseline_instrument = models.DecimalField(**PAIN)
    max_dextrose = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    # The dextrose band of most of the course's treatments (outcomes.selectors.BANDS; a tie goes to the
    # stronger band) and the volume injected over the course: exposure without the course-length artefact of
    # the strongest band ever used.
    modal_band = models.CharField(max_length=10, blank=True)
    total_volume_ml = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    with_anaesthetic = models.BooleanField(default=False)
    # Side effects attributed to the course's completed treatments, and the serious ones: the dashboard's
    # headline adds these up instead of the per-term counts (outcomes.CourseSessionCount).
    side_effects = models.PositiveIntegerField(default=0)
    serious_side_effects = models.PositiveIntegerField(default=0)
    # The last completed session from session 2 on with a pre-injection score, and the last current
    # non-baseline pain NRS score; latest_pain is the later of the two (a tie goes to the score).
    session_pain = models.DecimalField(**PAIN)
    session_pain_on = models.DateField(null=True, blank=True)
    score_pain = models.DecimalField(**PAIN)
    score_pain_on = models.DateField(null=True, blank=True)
    latest_pain = models.DecimalField(**PAIN)
    latest_pain_on = models.DateField(null=True, blank=True)
    # The first pain NRS outcome point meeting the MCID against the baseline (time to first response).
    first_response_on = models.DateField(null=True, blank=True)
    # The last current non-baseline score on the course's own outcome instrument.
    instrument_latest = models.DecimalField(**PAIN)
    instrument_latest_on = models.DateField(null=True, blank=True)
    # Response flags (see outcomes.summary.response_flags): the pain NRS, then the course's own instrument
    # when it is tracked (an instrument other than the NRS, with a baseline score).
    evaluable = models.BooleanField(default=False)
    responder_mcid = models.BooleanField(default=False)
    evaluable_50 = models.BooleanField(default=False)
    responder_50 = models.BooleanField(default=False)
    baseline_zero = models.BooleanField(default=False)
    lost = models.BooleanField(default=False)
    awaiting = models.BooleanField(default=False)
    instrument_tracked = models.BooleanField(default=False)
    instrument_evaluable = models.BooleanField(default=False)
    instrument_responder = models.BooleanField(default=False)
    instrument_evaluable_50 = models.BooleanField(default=False)
    instrument_responder_50 = models.BooleanField(default=False)
    instrument_lost = models.BooleanField(default=False)
    instrument_awaiting = models.BooleanField(default=False)

    class Meta:
        verbose_name = "course outcome summary"

    def __str__(self):
        return f"Outcome summary of course {self.course_id}"


class CourseSessionCount(models.Model):
    """Per-course counts the report tables add up: completed sessions per dextrose band and per body region
    injected, intervals between them by length, side effects by term and grade, by session band and by site,
    and pain scores (count, sum, sum of squares) per session number and per weeks-since-start window.

    Counting them live means joining every session, injection and side effect of the clinic on every
    request. Refreshed and rebuilt with the course's CourseOutcome row (outcomes.summary).
    """

    class Dimension(models.TextChoices):
        BAND = "band", "Dextrose band of the session"
        REGION = "region", "Body region injected"
        # Here `key` is the number of days between two consecutive completed sessions and `sessions` the
        # number of such intervals: the protocol's spacing window is applied when reading.
        GAP = "gap", "Days between consecutive sessions"
        # Side effects attributed to the course's completed sessions: `sessions` counts the events and
        # `serious` the serious ones. Keys are catalogue ids ("term id:grade", site id or "none"), so a
        # renamed term or a site moved to another region needs no refresh.
        EFFECT_TERM = "se_term", "Side effects by term and grade"
        EFFECT_BAND = "se_band", "Side effects by dextrose band of the session"
        EFFECT_SITE = "se_site", "Side effects by injection site"
        # Pain NRS points of the trends: `sessions` is the number of points (a completed session without a
        # pre-injection score counts, as in the live query), `total` and `total_sq` their sum and sum of
        # squares. Key: the session number, or the index of the weeks-since-start window.
        PAIN_SESSION = "pain_seq", "Pain before each session number"
        PAIN_WEEK = "pain_week", "Pain by weeks since course start"

    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="session_counts")
    dimension = models.CharField(max_length=10, choices=Dimension.choices)
    key = models.CharField(max_length=20)
    sessions = models.PositiveIntegerField()
    serious = models.PositiveIntegerField(default=0)
    total = models.DecimalField(max_digits=9, decimal_places=1, null=True, blank=True)
    total_sq = models.DecimalField(max_digits=11, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["course", "dimension", "key"],
                name="session_count_unique",
                violation_error_message=(
                    "These outcome figures were refreshed a moment ago by someone else: reload the page."
                ),
            ),
        ]
        indexes = [models.Index(fields=["dimension", "key"], name="session_count_dimension_idx")]

    def __str__(self):
        return f"Course {self.course_id}: {self.sessions} session(s) with {self.dimension} {self.key}"


class CourseTimepoint(models.Model):
    """A course's value at one protocol timepoint on one instrument (outcomes.timepoints): the pain NRS for
    every course with a treatment, and the course's own instrument when it is tracked.

    `opens_on`/`closes_on` are empty while the course has no window (still open); `value` is empty when no
    score fell in the window, and the reports then read *missing* or *awaiting* from `closes_on` and the day.
    Refreshed with the course's CourseOutcome row (outcomes.summary), and rebuilt for every course when the
    timepoints or an instrument's MCID change. Derived data: not audited.
    """

    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="timepoint_values")
    timepoint = models.ForeignKey(ProtocolTimepoint, on_delete=models.PROTECT, related_name="+")
    instrument = models.ForeignKey(OutcomeInstrument, on_delete=models.PROTECT, related_name="+")
    opens_on = models.DateField(null=True, blank=True)
    target_on = models.DateField(null=True, blank=True)
    closes_on = models.DateField(null=True, blank=True)
    value = models.DecimalField(**PAIN)
    value_on = models.DateField(null=True, blank=True)
    # Direction-aware: positive is better (OutcomeInstrument.improvement).
    improvement = models.DecimalField(**PAIN)
    meets_mcid = models.BooleanField(default=False)
    # There was room to improve (the baseline was not already at the scale's best end), so ≥ 50 % applies.
    evaluable_half = models.BooleanField(default=False)
    meets_half = models.BooleanField(default=False)
    # Copies of what the reports group and filter by (the course's and its summary's), so a report is one
    # scan of this table: condition, practitioner, the dextrose band of most treatments, treatments received,
    # total-volume band, anaesthetic, and completed without a protocol deviation (per-protocol also needs
    # the protocol's treatment count, read when reporting).
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    modal_band = models.CharField(max_length=10, blank=True)
    sessions_received = models.PositiveIntegerField(default=0)
    volume_band = models.CharField(max_length=10, blank=True)
    with_anaesthetic = models.BooleanField(default=False)
    completed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["course", "timepoint", "instrument"],
                name="course_timepoint_unique",
                violation_error_message=(
                    "These outcome figures were refreshed a moment ago by someone else: reload the page."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["timepoint", "instrument"], name="course_timepoint_idx"),
            # The windows still open today without a value (awaiting), counted beside TimepointTally.
            models.Index(
                fields=["instrument", "closes_on"],
                include=["timepoint", "practitioner"],
                condition=models.Q(value__isnull=True),
                name="course_timepoint_open_idx",
            ),
        ]

    def __str__(self):
        return f"Course {self.course_id} at {self.timepoint_id} on {self.instrument_id}: {self.value}"

    @property
    def state(self):
        """Scored, missing or awaiting today (outcomes.timepoints.state)."""
        return timepoints.state(self.value is not None, self.closes_on, timezone.localdate())

    @property
    def state_label(self):
        return timepoints.STATE_LABELS[self.state]


class TimepointTally(models.Model):
    """The timepoint rows (CourseTimepoint) added up per instrument, timepoint and practitioner, and by what
    per-protocol reads (completed without a deviation, treatments received): the responder tallies of the
    unfiltered dashboard, for the whole clinic or one practitioner, read from a few hundred rows instead of
    every course's values.

    What depends on the day (a value still awaited or already missing) is not stored: `unscheduled` counts
    the rows without a window yet, and the reports count the windows still open today from CourseTimepoint
    (course_timepoint_open_idx). Kept by outcomes.summary in the same statements that rewrite a course's
    timepoint rows: its old rows are subtracted and its new rows added, so concurrent writes add up
    (counts are plain integers: a tally out of step must never refuse a clinical write). Derived data: not
    audited.
    """

    instrument = models.ForeignKey(OutcomeInstrument, on_delete=models.PROTECT, related_name="+")
    timepoint = models.ForeignKey(ProtocolTimepoint, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    completed = models.BooleanField()
    sessions_received = models.IntegerField()
    treated = models.IntegerField(default=0)
    scored = models.IntegerField(default=0)
    unscheduled = models.IntegerField(default=0)
    mcid = models.IntegerField(default=0)
    half_evaluable = models.IntegerField(default=0)
    half = models.IntegerField(default=0)
    improvement_sum = models.DecimalField(max_digits=12, decimal_places=1, default=0)
    improvement_sq = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "timepoint", "practitioner", "completed", "sessions_received"],
                name="timepoint_tally_unique",
                violation_error_message=(
                    "These responder tallies are already counted for this instrument, timepoint and "
                    "practitioner."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.treated} course(s) at {self.timepoint_id} on {self.instrument_id}"


class ReportVersion(models.Model):
    """One row: the version of everything the outcome reports show, part of every cached report's key.

    `version` is bumped once after each transaction that wrote a report input commits (outcomes.versions);
    `epoch` is drawn when the row is first made, so a database rebuilt from scratch
    never reuses the keys of an earlier one. Not audited: it is a counter, not a record.
    """

    epoch = models.BigIntegerField()
    version = models.BigIntegerField(default=0)

    def __str__(self):
        return f"Report data version {self.epoch}.{self.version}"
