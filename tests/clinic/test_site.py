from unittest import mock

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.urls import reverse

from tests.urls_inventory import project_urls

# The calendar feed is fetched by calendar apps, which cannot sign in: its secret token is the credential.
# The patients' questionnaire pages are reached by the link in an invitation, without an account: the link's
# secret and the date of birth are the credential (tests/questionnaires/test_patient_pages.py).
PUBLIC = {
    "login",
    "healthz",
    "scheduling:feed",
    "answer:start",
    "answer:question",
    "answer:review",
    "answer:done",
}
# API endpoints answer 401 themselves, asking for a token (tests/api/test_access_matrix.py); the API's
# documentation page is a page like the others.
API = {name for name, _ in project_urls() if name and name.startswith("api:") and name != "api:docs"}


def test_healthz_answers_ok_when_the_database_does(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


def test_healthz_answers_503_when_the_database_is_down(client, db):
    with mock.patch("clinic.views.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


@pytest.mark.parametrize(("name", "path"), [u for u in project_urls() if u[0] not in PUBLIC | API])
def test_every_page_but_sign_in_and_healthz_needs_a_signed_in_user(client, db, name, path):
    response = client.get(path)
    assert response.status_code == 302, name
    assert response["Location"].startswith(reverse("login"))


def test_the_sign_in_page_is_public(client, db):
    assert client.get(reverse("login")).status_code == 200


def test_the_calendar_feed_answers_without_sign_in_but_only_to_a_valid_token(client, db):
    response = client.get(reverse("scheduling:feed", args=["not-a-token"]))
    assert response.status_code == 404


def test_signing_in_leads_home_and_shows_the_role(client, practitioner):
    response = client.post(
        reverse("login"), {"username": "dr.hale", "password": "correct-horse-battery"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Practitioner" in response.text


def test_sign_out_needs_post(client_for, practitioner):
    client = client_for(practitioner)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_each_role_sees_its_own_menu(client_for, front_desk, clinic_admin):
    assert "Catalogues and staff accounts" not in client_for(front_desk).get(reverse("home")).text
    assert "Catalogues and staff accounts" in client_for(clinic_admin).get(reverse("home")).text


def test_static_assets_come_from_npm_packages(client_for, front_desk):
    page = client_for(front_desk).get(reverse("home")).text
    for asset in ("vendor/bootstrap/css/bootstrap.min.css", "vendor/htmx/htmx.min.js"):
        assert asset in page
    assert "cdn" not in page.lower()


def test_models_and_migrations_agree(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
