from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.functional import cached_property

from clinic import roles


class UserQuerySet(models.QuerySet):
    def with_role(self, role):
        return self.filter(groups__name=role, is_active=True)

    def practitioners(self):
        """Active practitioners, for choosing who treats or owns a patient."""
        return self.with_role(roles.PRACTITIONER).order_by("last_name", "first_name", "username")


class ClinicUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A member of clinic staff. What they may do comes from their role groups."""

    objects = ClinicUserManager()

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self):
        return self.get_full_name() or self.username

    @cached_property
    def role_names(self):
        # Read with the permissions in one query (clinic.backends), which fills this cached value.
        from clinic.backends import load_access

        load_access(self)
        return self.__dict__["role_names"]

    def has_role(self, role):
        return role in self.role_names

    @property
    def is_practitioner(self):
        return self.has_role(roles.PRACTITIONER)

    @property
    def is_front_desk(self):
        return self.has_role(roles.FRONT_DESK)

    @property
    def is_clinic_admin(self):
        return self.is_superuser or self.has_role(roles.CLINIC_ADMIN)

    @property
    def role_label(self):
        names = [role for role in roles.ROLES if role in self.role_names]
        if not names and self.is_superuser:
            return "Superuser"
        return ", ".join(names) or "No role"

    @property
    def initials(self):
        parts = [self.first_name[:1], self.last_name[:1]]
        return "".join(parts).upper() or self.username[:2].upper()


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


MESSAGE_STATUS_BADGES = {
    MessageStatus.QUEUED: "secondary",
    MessageStatus.SENDING: "info",
    MessageStatus.SENT: "success",
    MessageStatus.FAILED: "danger",
}


class OutboundMessageQuerySet(models.QuerySet):
    def needing_attention(self):
        """Failed messages, newest first: what the clinic admins' messages page asks someone to look at."""
        return self.filter(status=MessageStatus.FAILED).order_by("-created_at")


class OutboundMessage(models.Model):
    """One e-mail to a patient, in the outbox until a worker has sent it (clinic.outbox).

    (kind, key) names what the message is about, e.g. ("reminder", "session:12:..."), so the database
    itself refuses a second message of the same kind about the same thing.
    """

    kind = models.CharField(max_length=40)
    key = models.CharField(max_length=200)
    recipient = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A worker may try it from this moment (later after a failure: the back-off).
    next_attempt_at = models.DateTimeField()
    # When a task for it was last handed to the queue; the sweep hands it again if nothing happened.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # Who is sending it and since when: a claim too old is a worker that died half-way.
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OutboundMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "key"],
                name="outbound_message_once_per_kind_and_key",
                violation_error_message="This message has already been put in the outbox.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=MessageStatus.SENT) | models.Q(sent_at__isnull=False),
                name="outbound_message_sent_has_time",
                violation_error_message="A sent message records when it was sent.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=MessageStatus.SENDING) | models.Q(claimed_at__isnull=False),
                name="outbound_message_sending_is_claimed",
                violation_error_message="A message being sent records when a worker took it.",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbound_message_due_idx")]

    def __str__(self):
        return f"{self.kind} to {self.recipient} ({self.get_status_display()})"

    @property
    def status_badge(self):
        return MESSAGE_STATUS_BADGES[self.status]
