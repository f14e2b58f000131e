"""The per-course outcome summary: what the dashboard would otherwise compute per course on every request.

One row per course with the values derived from its completed sessions and current follow-up scores (latest
pain and instrument score with their dates, sessions received, strongest dextrose, anaesthetic). The course's
own fields (status, stop reason, baselines, instrument) and the instrument catalogue (MCIDs, scale ends) are
not copied: the dashboard reads them through the join, so closing a course or editing an MCID needs no
refresh and cannot leave a stale flag.

Kept up to date by `outcomes.summary.course_outcome_refresh()` in the same transaction as every write that
changes its inputs; `course_outcomes_rebuild()` recomputes every row. Derived data: not audited.
"""

from django.db import models

from courses.models import TreatmentCourse

PAIN = {"max_digits": 6, "decimal_places": 1, "null": True, "blank": True}


class CourseOutcome(models.Model):
    course = models.OneToOneField(
        TreatmentCourse, on_delete=models.PROTECT, primary_key=True, related_name="outcome_summary"
    )
    sessions_received = models.PositiveIntegerField(default=0)
    first_session_on = models.DateField(null=True, blank=True)
    last_session_on = models.DateField(null=True, blank=True)
    max_dextrose = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    with_anaesthetic = models.BooleanField(default=False)
    # The last completed session from session 2 on with a pre-injection score, and the last current
    # non-baseline pain NRS score; latest_pain is the later of the two (a tie goes to the score).
    session_pain = models.DecimalField(**PAIN)
    session_pain_on = models.DateField(null=True, blank=True)
    score_pain = models.DecimalField(**PAIN)
    score_pain_on = models.DateField(null=True, blank=True)
    latest_pain = models.DecimalField(**PAIN)
    latest_pain_on = models.DateField(null=True, blank=True)
    # The last current non-baseline score on the course's own outcome instrument.
    instrument_latest = models.DecimalField(**PAIN)
    instrument_latest_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = "course outcome summary"

    def __str__(self):
        return f"Outcome summary of course {self.course_id}"


class CourseSessionCount(models.Model):
    """Completed sessions of a course per dextrose band of the syringe and per body region injected, and
    the intervals between them by length.

    The safety tables divide side effects by these; counting them live means joining every injection of the
    clinic. Refreshed and rebuilt with the course's CourseOutcome row (outcomes.summary).
    """

    class Dimension(models.TextChoices):
        BAND = "band", "Dextrose band of the session"
        REGION = "region", "Body region injected"
        # Here `key` is the number of days between two consecutive completed sessions and `sessions` the
        # number of such intervals: the protocol's spacing window is applied when reading.
        GAP = "gap", "Days between consecutive sessions"

    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="session_counts")
    dimension = models.CharField(max_length=10, choices=Dimension.choices)
    key = models.CharField(max_length=20)
    sessions = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "dimension", "key"], name="session_count_unique"),
        ]
        indexes = [models.Index(fields=["dimension", "key"], name="session_count_dimension_idx")]

    def __str__(self):
        return f"Course {self.course_id}: {self.sessions} session(s) with {self.dimension} {self.key}"
