"""The outcomes dashboard's questionnaire response rates: answered of sent, per point of the course."""

import pytest
from django.urls import reverse
from django.utils import timezone

from outcomes.selectors import outcome_courses
from questionnaires.rates import response_rates
from tests.factories import AssignmentFactory, TreatmentCourseFactory

pytestmark = pytest.mark.django_db


def test_rates_count_answered_of_sent_per_timepoint_with_an_interval(clinic_admin):
    now = timezone.now()
    for status in ("completed", "completed", "sent", "expired"):
        AssignmentFactory(course=TreatmentCourseFactory(status="completed"), status=status, invited_at=now)
    AssignmentFactory(course=TreatmentCourseFactory(status="completed"))  # never sent: not counted
    table = response_rates(outcome_courses(clinic_admin, {}))
    (row,) = table.rows
    assert (row["point"], row["sent"], row["completed"]) == ("3 months", 4, 2)
    assert row["rate"].percent == 50 and row["rate"].low < 50 < row["rate"].high


def test_the_responders_section_shows_the_table(clinic_admin, client):
    AssignmentFactory(status="completed", invited_at=timezone.now())
    client.force_login(clinic_admin)
    html = client.get(reverse("outcomes:dashboard"), {"tab": "responders"}).content.decode()
    assert "Patient questionnaires answered, of those sent" in html
