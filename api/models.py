from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class ApiTokenQuerySet(models.QuerySet):
    def live(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A named key with which another system calls the API as one member of staff, with their role.

    Only a SHA-256 digest of the key is stored (api.tokens): the key itself is shown once, when issued.
    `prefix` (the key's first characters) finds the row and tells tokens apart in lists. Tokens are
    revoked, never deleted, so the audit trail can always name the token an entry came from.
    """

    name = models.CharField(max_length=100, help_text="What uses it, e.g. 'Practice management sync'.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens")
    prefix = models.CharField(max_length=8, db_index=True, editable=False)
    key_hash = models.CharField("key digest (SHA-256)", max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self):
        return self.revoked_at is not None

    def delete(self, *args, **kwargs):
        raise ValidationError("API tokens are revoked, never deleted.")
