"""Urgent alerts: a check-in reporting a fever or a hot, red, swollen joint is seen by the course's
practitioner the same day. `alert_raise_if_urgent` is the one rule, called by `services.response_submit` in
the submission's transaction; it stores an UrgentAlert (the course page and the urgent list show it until
acknowledged) and e-mails the practitioner through the outbox with no clinical detail: only that a check-in
needs attention, and a link to the course page, which asks them to sign in."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clinic.outbox import message_send_once
from questionnaires.models import AnswerType, UrgentAlert

# Items whose answer, anything but "no", needs the practitioner today (the shipped check-in's "fever" item:
# "a fever, or a joint that is hot, red and swollen").
URGENT_ITEMS = {"fever": "Fever or a hot, red, swollen joint"}
NOT_REPORTED = "none"
ALERT_KIND = "urgent_check_in"


def _reported(answer):
    if answer.is_blank:
        return None
    if answer.choice_id:
        return None if answer.choice.code == NOT_REPORTED else answer.choice.label
    if answer.item.answer_type == AnswerType.YES_NO:
        return "Yes" if answer.value_integer else None
    return str(answer.value_integer) if answer.value_integer is not None else answer.value_text


def urgent_reasons(answers):
    """What in these answers needs the practitioner today, as lines for the staff (empty when nothing)."""
    reasons = []
    for answer in answers:
        title = URGENT_ITEMS.get(answer.item.link_id)
        reported = _reported(answer) if title else None
        if reported:
            reasons.append(f"{title}: {reported}")
    return reasons


def alert_raise_if_urgent(*, assignment, answers, now=None):
    """Raise the urgent alert for a submitted check-in when its answers call for one; the alert or None.
    Runs inside the submission's transaction: a submission that fails raises nothing and sends nothing."""
    reasons = urgent_reasons(answers)
    if not reasons:
        return None
    now = now or timezone.now()
    course = assignment.course
    alert = UrgentAlert(
        assignment=assignment,
        course=course,
        practitioner=course.practitioner,
        reason="; ".join(reasons)[:300],
        raised_at=now,
    )
    alert.full_clean()
    alert.save()
    to = course.practitioner.email or settings.CLINIC_EMAIL
    if to:
        link = settings.SITE_URL + reverse("courses:course-detail", args=[course.pk]) + "#urgent"
        message_send_once(
            kind=ALERT_KIND,
            key=f"alert:{alert.pk}",
            to=to,
            subject="A patient check-in needs your attention",
            body=render_to_string(
                "questionnaires/urgent_alert_email.txt", {"link": link, "clinic_name": settings.CLINIC_NAME}
            ),
            now=now,
        )
    return alert


@transaction.atomic
def alert_acknowledge(*, alert, by, now=None):
    """Someone has seen the alert and acts on it: recorded with who and when, once."""
    alert = UrgentAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.acknowledged_at is not None:
        when = timezone.localtime(alert.acknowledged_at)
        raise ValidationError(f"{alert.acknowledged_by} acknowledged it at {when:%d %b %H:%M}.")
    alert.acknowledged_by, alert.acknowledged_at = by, now or timezone.now()
    alert.full_clean()
    alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
    return alert


def alerts_open():
    """Alerts nobody has acknowledged yet, oldest first."""
    return (
        UrgentAlert.objects.filter(acknowledged_at__isnull=True)
        .select_related("course__patient", "practitioner")
        .order_by("raised_at", "pk")
    )
