import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WorkingHours(models.Model):
    """One range of a practitioner's weekly hours; a day may have several (a morning and an afternoon)."""

    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts_at = models.TimeField("from")
    ends_at = models.TimeField("until")

    class Meta:
        verbose_name_plural = "working hours"
        ordering = ["practitioner", "weekday", "starts_at"]
        permissions = [
            ("book_appointments", "Can book, move, check in, cancel appointments"),
            ("view_calendar", "Can view the clinic calendar"),
            ("view_worklists", "Can view front-desk work lists"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="hours_end_after_start",
                violation_error_message="Working hours must end after they start.",
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6),
                name="hours_weekday_0_6",
                violation_error_message="Choose a day of the week.",
            ),
        ]

    def __str__(self):
        return f"{self.practitioner} {self.get_weekday_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The end must be after the start."})
        if self.practitioner_id and self.weekday is not None and self.starts_at and self.ends_at:
            overlapping = WorkingHours.objects.filter(
                practitioner_id=self.practitioner_id,
                weekday=self.weekday,
                starts_at__lt=self.ends_at,
                ends_at__gt=self.starts_at,
            ).exclude(pk=self.pk)
            if overlapping.exists():
                raise ValidationError({"starts_at": "This overlaps another range on the same day."})


class ClosureQuerySet(models.QuerySet):
    def overlapping(self, first_day, last_day):
        return self.filter(starts_on__lte=last_day, ends_on__gte=first_day)


class Closure(models.Model):
    """Days the whole clinic is closed (public holidays, training days)."""

    starts_on = models.DateField("first closed day")
    ends_on = models.DateField("last closed day")
    reason = models.CharField(max_length=120)

    objects = ClosureQuerySet.as_manager()

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="closure_dates_ordered",
                violation_error_message="A closure cannot end before it starts.",
            ),
        ]

    def __str__(self):
        if self.starts_on == self.ends_on:
            return f"{self.reason} ({self.starts_on:%d %b %Y})"
        return f"{self.reason} ({self.starts_on:%d %b} – {self.ends_on:%d %b %Y})"

    def clean(self):
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The last closed day cannot be before the first."})


def new_feed_token():
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A practitioner's private iCalendar feed. Its token is the only secret: revoking deletes the row."""

    practitioner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        permissions = [("use_calendar_feed", "Can publish their own calendar feed")]

    def __str__(self):
        return f"Calendar feed of {self.practitioner}"
