"""NUL bytes and over-long values never reach the database: a 400 page that says why (clinic.inputs), and
a refused or junk sign-in still counts towards the lockout."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from patients.models import Patient
from tests.factories import CalendarFeedFactory, PatientFactory


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True


def test_a_nul_in_the_query_string_is_refused_with_a_clear_page(client_for, front_desk):
    response = client_for(front_desk).get("/patients/?q=a%00b")
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_a_nul_in_a_query_string_name_is_refused(client_for, front_desk):
    assert client_for(front_desk).get("/patients/?a%00b=1").status_code == 400


def test_a_nul_in_the_path_of_a_calendar_feed_is_refused(db, client):
    feed = CalendarFeedFactory()
    response = client.get(f"/schedule/feed/{feed.token}%00.ics")
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_a_nul_in_a_posted_field_is_refused_and_nothing_is_saved(client_for, front_desk):
    patient = PatientFactory(given_name="Ada")
    response = client_for(front_desk).post(
        reverse("patients:patient-edit", args=[patient.pk]), {"given_name": "A\x00da"}
    )
    assert response.status_code == 400
    assert "Nothing was saved" in response.content.decode()
    patient.refresh_from_db()
    assert patient.given_name == "Ada"


def test_a_nul_in_a_header_is_refused(client_for, front_desk):
    response = client_for(front_desk).get("/patients/", HTTP_USER_AGENT="Mozilla\x00")
    assert response.status_code == 400
    assert "header" in response.content.decode()


def test_a_nul_in_a_json_body_is_refused(client_for, front_desk):
    response = client_for(front_desk).post(
        "/patients/", data='{"q": "a\\u0000b"}', content_type="application/json"
    )
    assert response.status_code == 400


def test_an_over_long_query_value_is_refused(client_for, front_desk):
    response = client_for(front_desk).get("/patients/", {"q": "a" * 5000})
    assert response.status_code == 400
    assert "longer than" in response.content.decode()


def test_ordinary_input_passes(client_for, front_desk):
    assert client_for(front_desk).get("/patients/", {"q": "Ada Lovelace – ümlaut"}).status_code == 200


def _sign_in(data, **headers):
    return Client(REMOTE_ADDR="192.0.2.60").post(reverse("login"), data, **headers)


def test_a_sign_in_with_a_nul_in_a_header_is_refused_and_counted(axes_on, practitioner):
    response = _sign_in({"username": practitioner.username, "password": "x"}, HTTP_USER_AGENT="a\x00b")
    assert response.status_code == 400
    attempt = AccessAttempt.objects.get()
    assert attempt.username == practitioner.username
    assert attempt.failures_since_start == 1
    assert "\x00" not in attempt.user_agent


def test_a_sign_in_with_a_nul_in_the_user_name_is_refused_and_counted(axes_on, practitioner):
    response = _sign_in({"username": f"{practitioner.username}\x00", "password": "x"})
    assert response.status_code == 400
    assert AccessAttempt.objects.get().username == practitioner.username


def test_a_300_character_user_name_is_a_counted_failure_not_a_crash(axes_on, db):
    response = _sign_in({"username": "u" * 300, "password": "whatever"})
    assert response.status_code == 200
    attempt = AccessAttempt.objects.get()
    assert attempt.username == "u" * 150
    assert attempt.failures_since_start == 1


def test_five_junk_sign_ins_lock_the_name_out(axes_on, db):
    for _ in range(5):
        response = _sign_in({"username": "u" * 300, "password": "whatever"})
    assert response.status_code == 429


def test_an_empty_password_is_a_counted_failure(axes_on, practitioner):
    response = _sign_in({"username": practitioner.username, "password": ""})
    assert response.status_code == 200
    assert AccessAttempt.objects.get().failures_since_start == 1


def test_patients_are_untouched_by_refused_requests(client_for, front_desk):
    client_for(front_desk).post(reverse("patients:patient-create"), {"given_name": "\x00"})
    assert not Patient.objects.exists()


def test_a_junk_sign_in_on_the_admin_page_is_counted_too(axes_on, db):
    response = Client(REMOTE_ADDR="192.0.2.61").post(
        reverse("admin:login"), {"username": "a" * 300, "password": "x"}
    )
    assert response.status_code == 200
    assert AccessAttempt.objects.get().username == "a" * 150
