"""Junk in the query string of every page, as the roles with the widest access: never a server error.

A deterministic sweep (the Hypothesis fuzz of issue 14 would widen it): every parameter any page reads set
at once to an extreme value, on every URL of the project (tests/urls_inventory.py).
"""

import pytest
from django.test import Client

from tests.factories import TreatmentCourseFactory, TreatmentSessionFactory
from tests.urls_inventory import project_urls

# "²" passes str.isdigit() but not int(): an id check written with isdigit() alone lets it through.
JUNK = ["9999-12-31", "99999999999999999999", "-1", "ü\u202e<script>", "²"]
PARAMS = [
    *("date", "page", "q", "practitioner", "status", "sort", "first_date", "first_time", "level", "next"),
    *("start_from", "start_to", "condition", "band", "anaesthetic", "sessions_received", "term", "severity"),
    *("session_band", "region", "figure", "mcid", "dimension", "patient", "lot", "report", "tab", "course"),
]


@pytest.mark.parametrize("value", JUNK)
def test_no_page_fails_on_junk_in_its_query_string(value, clinic_admin, front_desk, practitioner):
    session = TreatmentSessionFactory(course=TreatmentCourseFactory(practitioner=practitioner), sequence=1)
    failures = []
    for user in (clinic_admin, front_desk, practitioner):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        for name, path in project_urls():
            response = client.get(path.replace("/1/", f"/{session.pk}/"), dict.fromkeys(PARAMS, value))
            if response.status_code >= 500:
                failures.append((user.username, name, response.status_code))
    assert failures == []
