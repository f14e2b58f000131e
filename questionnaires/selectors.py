import datetime

from questionnaires.models import Anchor, Assignment, AssignmentStatus


def course_assignments(course):
    """The course page's list: every questionnaire of the course but the cancelled ones, in window order.
    Each is given the page's own course (with its patient) rather than joining it again: every join costs
    PostgreSQL planning time on each request (1.7 ms with seven, the page's dearest query to plan)."""
    assignments = list(
        Assignment.objects.filter(course=course)
        .exclude(status="cancelled")
        .select_related(
            "questionnaire", "timepoint", "urgent_alert__practitioner", "urgent_alert__acknowledged_by"
        )
        .order_by("opens_at", "pk")
    )
    for assignment in assignments:
        assignment.course = course
    return assignments


def link_locks(assignments, now):
    """The course's links locked now after five wrong dates of birth (the clinic may call the patient),
    from its assignments already loaded."""
    return [assignment for assignment in assignments if assignment.is_locked_at(now)]


def answerable_now(assignments, now):
    """The questionnaires the patient could answer now (open, not done, not locked): the ones the staff may
    send again or hand over on the tablet (questionnaires.services checks it again on the way in)."""
    waiting = (AssignmentStatus.SCHEDULED, AssignmentStatus.SENT, AssignmentStatus.OPENED)
    return [a for a in assignments if a.status in waiting and a.is_open_at(now) and not a.is_locked_at(now)]


def course_alerts(assignments):
    """The course's urgent check-ins, newest first (acknowledged ones with who and when), from its
    assignments already loaded with them."""
    alerts = [a.urgent_alert for a in assignments if getattr(a, "urgent_alert", None) is not None]
    return sorted(alerts, key=lambda alert: (alert.raised_at, alert.pk), reverse=True)


# Closed unanswered follow-ups stay on the list to chase this long after their window closed.
CHASE_CLOSED_FOR = datetime.timedelta(days=14)
WAITING = (AssignmentStatus.SCHEDULED, AssignmentStatus.SENT, AssignmentStatus.OPENED)


def follow_ups_to_chase(now, *, closed=False):
    """Follow-up questionnaires not answered, of patients still on the books: open now (closing soonest
    first), or with `closed` those whose window closed unanswered in the last CHASE_CLOSED_FOR (latest
    first)."""
    follow_ups = Assignment.objects.filter(
        anchor=Anchor.FOLLOW_UP, course__patient__archived=False
    ).select_related("questionnaire", "timepoint", "course__patient", "course__practitioner")
    if closed:
        return follow_ups.filter(
            status__in=(*WAITING, AssignmentStatus.EXPIRED),
            closes_at__lte=now,
            closes_at__gt=now - CHASE_CLOSED_FOR,
        ).order_by("-closes_at", "pk")
    return follow_ups.filter(status__in=WAITING, opens_at__lte=now, closes_at__gt=now).order_by(
        "closes_at", "pk"
    )
