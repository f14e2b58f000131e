"""Building blocks shared by clinical records: who made them, and voiding instead of deleting."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class CurrentQuerySet(models.QuerySet):
    def current(self):
        return self.filter(voided_at__isnull=True)


class CurrentManager(models.Manager.from_queryset(CurrentQuerySet)):
    """Hides voided rows, so related lists (session.injections.all()) show only what stands."""

    def get_queryset(self):
        return super().get_queryset().filter(voided_at__isnull=True)


class ClinicalRecord(models.Model):
    """A clinical row: stamped with its author, never deleted, voided with a reason when entered in error."""

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, editable=False
    )
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )
    void_reason = models.CharField(max_length=200, blank=True, editable=False)

    objects = CurrentManager()
    all_objects = CurrentQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_voided(self):
        return self.voided_at is not None

    def void(self, *, by, reason):
        if not reason.strip():
            raise ValidationError({"void_reason": "Say why this entry is voided."})
        self.voided_at = timezone.now()
        self.voided_by = by
        self.void_reason = reason.strip()
        self.save(update_fields=["voided_at", "voided_by", "void_reason"])

    def delete(self, *args, **kwargs):
        raise ValidationError("Clinical records are voided, never deleted.")
