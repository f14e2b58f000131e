"""The schema and its documentation page: for staff, from the sidecar package's files (no CDN), no inline
script or style under the Content-Security-Policy."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse


def test_the_docs_page_loads_swagger_ui_from_our_static_files(client_for, front_desk):
    response = client_for(front_desk).get(reverse("api:docs"))
    assert response.status_code == 200
    page = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all("src=" in attrs for attrs in scripts), "no inline script"
    assert "<style" not in page
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert url.startswith("/"), f"{url} is not served by us"
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url
    assert "cdn" not in page.lower()
    script = client_for(front_desk).get(f"{reverse('api:docs')}?script")
    assert script.status_code == 200
    assert reverse("api:schema") in script.content.decode()


def test_the_docs_page_needs_a_signed_in_member_of_staff(client, client_for, stranger):
    response = client.get(reverse("api:docs"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client_for(stranger).get(reverse("api:docs")).status_code == 403


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_the_schema_is_openapi_3_and_lists_every_endpoint(api_as, practitioner, fmt):
    response = api_as(practitioner).get(reverse("api:schema"), {"format": fmt})
    assert response.status_code == 200
    text = response.content.decode()
    assert "openapi: 3" in text or '"openapi":"3' in text.replace(" ", "")
    for path in ("/api/v1/patients/", "/api/v1/visits/book/", "/api/v1/outcomes/headline/"):
        assert path in text


def test_the_schema_needs_credentials(db):
    from rest_framework.test import APIClient

    assert APIClient().get(reverse("api:schema")).status_code == 401


def test_list_endpoints_are_throttled_per_user(api_as, front_desk, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute", "anon": "3/minute"})
    api = api_as(front_desk)
    statuses = [api.get(reverse("api:patient-list")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
