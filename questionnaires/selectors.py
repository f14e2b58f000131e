from questionnaires.models import Assignment


def course_assignments(course):
    """The course page's list: every questionnaire of the course but the cancelled ones, in window order."""
    return list(
        Assignment.objects.filter(course=course)
        .exclude(status="cancelled")
        .select_related("questionnaire", "session", "timepoint")
        .order_by("opens_at", "pk")
    )


def link_locks(assignments, now):
    """The course's links locked now after five wrong dates of birth (the clinic may call the patient),
    from its assignments already loaded."""
    return [assignment for assignment in assignments if assignment.is_locked_at(now)]
