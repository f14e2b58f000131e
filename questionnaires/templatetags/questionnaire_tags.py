from django import template
from django.utils import timezone

from courses.selectors import course_patient_reports
from questionnaires import selectors
from questionnaires.models import Anchor, AssignmentStatus

register = template.Library()


@register.inclusion_tag("questionnaires/_course_questionnaires.html", takes_context=True)
def course_questionnaires(context, course):
    """The course page's questionnaires: status for whoever may see them, scores for clinical staff."""
    user = context["request"].user
    if not user.has_perm("questionnaires.view_assignment"):
        return {"shown": False}
    assignments = selectors.course_assignments(course)
    now = timezone.now()
    return {
        "shown": True,
        "assignments": assignments,
        "locks": selectors.link_locks(assignments, now),
        "clinical": user.has_perm("courses.view_clinical"),
        "can_send": user.has_perm("questionnaires.send_assignment"),
        "answerable": selectors.answerable_now(assignments, now),
        "alerts": selectors.course_alerts(assignments)
        if user.has_perm("questionnaires.view_urgentalert")
        else [],
        "can_acknowledge": user.has_perm("questionnaires.change_urgentalert"),
        "can_decide_reports": user.has_perm("courses.change_patientsideeffectreport"),
        # Only a submitted check-in reports anything: without one, no query.
        "reports": course_patient_reports(course)
        if user.has_perm("courses.view_patientsideeffectreport")
        and any(
            a.anchor == Anchor.AFTER_TREATMENT and a.status == AssignmentStatus.COMPLETED for a in assignments
        )
        else [],
    }
