"""A front-desk user who follows a practitioner-only address gets the "Not allowed" page, not an error."""

import re

import pytest
from playwright.sync_api import expect

from clinic import roles
from courses.models import TreatmentSession
from tests.browser.kit import axe_violations, sign_in
from tests.factories import TreatmentSessionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_front_desk_opening_practitioner_pages_is_told_it_is_not_allowed(page, live_server, problems):
    session = TreatmentSessionFactory(sequence=1)
    UserFactory(username="desk", role=roles.FRONT_DESK)
    sign_in(page, live_server, "desk", "correct-horse-battery")

    for path in (f"/courses/sessions/{session.pk}/log/", "/courses/new/", "/outcomes/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 403, path
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        expect(page).to_have_title(re.compile(r"^Not allowed"))
    # Chromium reports each refused page load on the console; those are the point of this test.
    problems[:] = [p for p in problems if "status of 403" not in p]
    assert not axe_violations(page)

    page.get_by_role("link", name="Back to home").click()
    page.wait_for_url(f"{live_server.url}/")
    session.refresh_from_db()
    assert session.status == "scheduled"
    assert TreatmentSession.objects.count() == 1
