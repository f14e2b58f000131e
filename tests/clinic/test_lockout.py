"""django-axes: five wrong passwords lock one username from one address for 15 minutes."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def axes_on(settings):
    # Test settings switch axes off so client.login() keeps working elsewhere; here it is the subject.
    settings.AXES_ENABLED = True


def sign_in(username, password, address="192.0.2.50"):
    client = Client(REMOTE_ADDR=address)
    return client, client.post(reverse("login"), {"username": username, "password": password})


def fail(username, times, address="192.0.2.50"):
    for _ in range(times):
        _, response = sign_in(username, "wrong-password", address)
    return response


def test_the_settings_lock_a_username_and_address_pair_for_15_minutes(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    # A complete sign-in clears the count (clinic.two_factor), not a right password before a wrong code.
    assert settings.AXES_RESET_ON_SUCCESS is False
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_four_failures_still_allow_the_right_password(practitioner):
    response = fail(practitioner.username, 4)
    assert response.status_code == 200  # the form again, with its error
    _, response = sign_in(practitioner.username, PASSWORD)
    assert response.status_code == 302


def test_the_fifth_failure_locks_even_the_right_password_out_with_a_clear_page(practitioner):
    response = fail(practitioner.username, 5)
    assert response.status_code == 429
    assert "Sign-in locked for 15 minutes" in response.content.decode()

    client, response = sign_in(practitioner.username, PASSWORD)

    assert response.status_code == 429
    assert SESSION_KEY not in client.session
    text = response.content.decode()
    assert "Sign-in locked for 15 minutes" in text
    assert practitioner.username in text
    assert "ask a clinic admin to unlock" in text


def test_a_lock_does_not_touch_other_users_or_other_computers(practitioner, front_desk):
    fail(practitioner.username, 5)
    _, colleague = sign_in(front_desk.username, PASSWORD)  # same router, other user
    assert colleague.status_code == 302
    _, elsewhere = sign_in(practitioner.username, PASSWORD, address="198.51.100.9")
    assert elsewhere.status_code == 302


def test_success_resets_the_count(practitioner):
    fail(practitioner.username, 4)
    sign_in(practitioner.username, PASSWORD)
    response = fail(practitioner.username, 4)
    assert response.status_code == 200


def test_a_clinic_admin_sees_and_lifts_a_lock(client_for, clinic_admin, practitioner):
    fail(practitioner.username, 5)
    admin = client_for(clinic_admin)

    page = admin.get(reverse("clinic:lockouts"))
    assert page.status_code == 200
    attempt = page.context["rows"][0]["attempt"]
    assert attempt.username == practitioner.username

    response = admin.post(reverse("clinic:lockout-unlock", args=[attempt.pk]), follow=True)

    assert f"{practitioner.username} can sign in again from 192.0.2.50." in response.content.decode()
    assert not AccessAttempt.objects.filter(username=practitioner.username).exists()
    _, response = sign_in(practitioner.username, PASSWORD)
    assert response.status_code == 302


def test_other_roles_cannot_unlock(client_for, practitioner, front_desk):
    fail(practitioner.username, 5)
    attempt = AccessAttempt.objects.get()
    assert client_for(front_desk).post(reverse("clinic:lockout-unlock", args=[attempt.pk])).status_code == 403
    assert AccessAttempt.objects.exists()


def test_the_axes_reset_command_unlocks_from_the_shell(practitioner):
    fail(practitioner.username, 5)
    call_command("axes_reset_username", practitioner.username)
    _, response = sign_in(practitioner.username, PASSWORD)
    assert response.status_code == 302


def test_clinic_admins_find_the_lockouts_page_in_the_menu(client_for, clinic_admin, practitioner):
    url = reverse("clinic:lockouts")
    assert url in client_for(clinic_admin).get(reverse("home")).content.decode()
    assert url not in Client().get(reverse("login")).content.decode()
    client = Client()
    client.force_login(practitioner)
    assert url not in client.get(reverse("home")).content.decode()
