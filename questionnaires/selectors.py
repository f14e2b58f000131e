from questionnaires.models import Assignment, LinkLock


def course_assignments(course):
    """The course page's list: every questionnaire of the course but the cancelled ones, in window order."""
    return list(
        Assignment.objects.filter(course=course)
        .exclude(status="cancelled")
        .select_related("questionnaire", "session", "timepoint")
        .order_by("opens_at", "pk")
    )


def course_link_locks(course, now):
    """Links of the course locked now after five wrong dates of birth (the clinic may call the patient)."""
    return list(
        LinkLock.objects.filter(assignment__course=course, locked_until__gt=now).select_related(
            "assignment__questionnaire"
        )
    )
