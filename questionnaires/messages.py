"""The invitation message and who is due one. Nothing clinical leaves the clinic in it: no condition, no
instrument name, no score; only the clinic's name and phone number, the link and the closing date.

Sent by `manage.py send_invitations` (questionnaires.services.invitations_send) until the clinic's message
queue takes it over.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from questionnaires.models import Assignment, AssignmentStatus


def invitation_message(assignment, link):
    """(subject, body) of the invitation to answer `assignment` at `link`."""
    context = {
        "given_name": assignment.course.patient.given_name,
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "link": link,
        # The last moment the link works, in the clinic's time zone.
        "closes": timezone.localtime(assignment.closes_at),
    }
    subject = f"{settings.CLINIC_NAME}: a few questions for you"
    return subject, render_to_string("questionnaires/invitation_email.txt", context)


def invitations_due(now):
    """Questionnaires whose window is open and which have not been sent, for patients with an e-mail."""
    return (
        Assignment.objects.filter(
            status=AssignmentStatus.SCHEDULED,
            opens_at__lte=now,
            closes_at__gt=now,
            course__patient__archived=False,
        )
        .exclude(course__patient__email="")
        .select_related("course__patient")
        .order_by("opens_at", "pk")
    )
