"""Automatic sign-out (idle and absolute limits), sign-out of other sessions on a password change, and
server-side invalidation at sign-out."""

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from clinic.middleware import LAST_ACTIVITY, SIGNED_IN_AT

PASSWORD = "correct-horse-battery"


def age_session(client, **seconds_ago):
    session = client.session
    now = time.time()
    for key, ago in seconds_ago.items():
        session[key] = now - ago
    session.save()


def test_signing_in_starts_both_clocks(client, practitioner):
    client.post(reverse("login"), {"username": practitioner.username, "password": PASSWORD})
    session = client.session
    assert time.time() - session[SIGNED_IN_AT] < 5
    assert time.time() - session[LAST_ACTIVITY] < 5


def test_activity_within_the_idle_limit_keeps_the_session(client_for, practitioner):
    client = client_for(practitioner)
    age_session(client, last_activity=29 * 60)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert time.time() - client.session[LAST_ACTIVITY] < 5


def test_thirty_idle_minutes_sign_the_user_out_with_a_message(client_for, practitioner):
    client = client_for(practitioner)
    age_session(client, last_activity=31 * 60)
    old_key = client.session.session_key

    response = client.get(reverse("home") + "?tab=today")

    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=%2F%3Ftab%3Dtoday"
    assert not Session.objects.filter(session_key=old_key).exists()
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == ["You were signed out after 30 minutes without activity."]
    login_page = client.get(response["Location"])
    assert "You were signed out after 30 minutes without activity." in login_page.content.decode()
    assert SESSION_KEY not in client.session


def test_the_idle_limit_comes_from_the_environment_setting(client_for, practitioner, settings):
    settings.SESSION_IDLE_MINUTES = 5
    client = client_for(practitioner)
    age_session(client, last_activity=6 * 60)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "You were signed out after 5 minutes without activity."
    ]


def test_twelve_hours_after_sign_in_the_session_ends_however_busy(client_for, practitioner):
    client = client_for(practitioner)
    age_session(client, signed_in_at=12 * 3600 + 60, last_activity=10)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "12 hours after signing in" in str(next(iter(get_messages(response.wsgi_request))))


def test_the_absolute_limit_is_configurable(client_for, practitioner, settings):
    settings.SESSION_MAX_HOURS = 1
    client = client_for(practitioner)
    age_session(client, signed_in_at=3601, last_activity=10)
    assert client.get(reverse("home")).status_code == 302


def test_an_htmx_request_is_sent_to_sign_in_by_header(client_for, practitioner):
    client = client_for(practitioner)
    age_session(client, last_activity=31 * 60)
    response = client.get(reverse("home"), headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("login")


def test_the_session_cookie_ends_with_the_browser_and_the_absolute_limit(settings):
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_MAX_HOURS * 3600
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_changing_the_password_signs_out_the_users_other_sessions(practitioner):
    desk_pc, treatment_room = Client(), Client()
    for client in (desk_pc, treatment_room):
        assert (
            client.post(
                reverse("login"), {"username": practitioner.username, "password": PASSWORD}
            ).status_code
            == 302
        )
        assert client.get(reverse("home")).status_code == 200

    response = desk_pc.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase",
            "new_password2": "a-new-long-passphrase",
        },
    )

    assert response.status_code == 302
    assert desk_pc.get(reverse("home")).status_code == 200  # the session that changed it stays in
    response = treatment_room.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_signing_out_deletes_the_session_on_the_server(practitioner):
    client = Client()
    client.post(reverse("login"), {"username": practitioner.username, "password": PASSWORD})
    old_key = client.cookies["sessionid"].value
    assert Session.objects.filter(session_key=old_key).exists()

    client.post(reverse("logout"))

    assert not Session.objects.filter(session_key=old_key).exists()
    replay = Client()
    replay.cookies["sessionid"] = old_key  # a copied cookie is worthless after sign-out
    response = replay.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("path_name", ["home", "password_change"])
def test_force_login_based_tests_are_unaffected(client_for, practitioner, path_name):
    assert client_for(practitioner).get(reverse(path_name)).status_code == 200
