from django.urls import reverse

from tests.factories import CourseExtensionFactory


def test_the_course_page_lists_extensions_and_shows_the_reason_to_clinicians(
    client_for, practitioner, front_desk
):
    extension = CourseExtensionFactory(course__practitioner=practitioner, course__planned_sessions=6)
    url = reverse("courses:course-detail", args=[extension.course.pk])

    page = client_for(practitioner).get(url).text
    assert "6 → 8 sessions" in page
    assert extension.reason in page

    # Front desk sees that the plan changed, not the clinical reason.
    page = client_for(front_desk).get(url).text
    assert "6 → 8 sessions" in page
    assert extension.reason not in page
