"""A concurrent booking of the same course shows the constraint's sentence, not its name."""

import datetime

from django.urls import reverse

from tests.factories import TreatmentSessionFactory
from tests.scheduling.conftest import at


def test_a_concurrent_booking_of_the_same_course_shows_the_sentence(
    course, monday, client_for, front_desk, monkeypatch
):
    TreatmentSessionFactory(course=course, sequence=1, starts_at=at(monday - datetime.timedelta(days=14), 10))
    # The race: the page was built, and the booking checked, as if treatment 1 were still free.
    monkeypatch.setattr("courses.timeline.numbers_to_book", lambda course, sessions: [1])
    response = client_for(front_desk).post(
        reverse("scheduling:course-book", args=[course.pk]),
        {
            "rows-TOTAL_FORMS": "1",
            "rows-INITIAL_FORMS": "1",
            "rows-0-date": monday.isoformat(),
            "rows-0-time": "10:00",
        },
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "booked a moment ago by someone" in text
    assert "is violated" not in text
    assert course.sessions.count() == 1
