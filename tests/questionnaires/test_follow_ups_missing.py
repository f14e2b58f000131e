"""The work list of follow-up questionnaires to chase: open and unanswered, or closed unanswered lately."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from questionnaires.views import CHASE_PAGE_SIZE
from tests.factories import AssignmentFactory, PatientFactory, TreatmentCourseFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def follow_up(name, **values):
    patient = PatientFactory(family_name=name, phone="07700 900123")
    return AssignmentFactory(course=TreatmentCourseFactory(patient=patient, status="completed"), **values)


def test_open_unanswered_follow_ups_are_listed_with_phone_and_closing_date(client, front_desk):
    now = timezone.now()
    follow_up("Waiting", status="sent")
    follow_up("Answered", status="completed", completed_at=now)
    follow_up("Later", opens_at=now + DAY, closes_at=now + 5 * DAY)
    follow_up("Lapsed", status="expired", opens_at=now - 20 * DAY, closes_at=now - 3 * DAY)
    follow_up("Longago", status="expired", opens_at=now - 60 * DAY, closes_at=now - 30 * DAY)
    client.force_login(front_desk)
    html = client.get(reverse("questionnaires:follow-ups-missing")).content.decode()
    assert "Waiting" in html and "07700 900123" in html
    for absent in ("Answered", "Later", "Lapsed", "Longago"):
        assert absent not in html
    closed = client.get(reverse("questionnaires:follow-ups-missing"), {"closed": "1"}).content.decode()
    assert "Lapsed" in closed
    for absent in ("Waiting", "Answered", "Later", "Longago"):
        assert absent not in closed


def test_the_list_is_paginated_and_survives_a_junk_page(client, clinic_admin):
    for number in range(CHASE_PAGE_SIZE + 1):
        follow_up(f"Patient{number:03d}")
    client.force_login(clinic_admin)
    url = reverse("questionnaires:follow-ups-missing")
    assert "Page 1 of 2" in client.get(url).content.decode()
    assert "Page 2 of 2" in client.get(url, {"page": "2"}).content.decode()
    assert client.get(url, {"page": "x\x00"}).status_code in (200, 400)


def test_the_work_lists_page_links_to_it(client, front_desk):
    client.force_login(front_desk)
    html = client.get(reverse("scheduling:worklists")).content.decode()
    assert reverse("questionnaires:follow-ups-missing") in html
