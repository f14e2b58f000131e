"""API tokens: a clinic admin issues one from the page (the key shown once), only a digest is stored, a
revoked token or a deactivated account gets 401, and the token never has more than its account's role."""

import datetime
import hashlib

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api import tokens
from api.models import ApiToken
from clinic import roles

PATIENTS = reverse("api:patient-list")


def bearer(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def issue_from_page(client, user, name="Practice sync"):
    response = client.post(reverse("tokens:token-issue"), {"name": name, "user": user.pk})
    assert response.status_code == 200
    return response, response.context["key"]


def test_a_clinic_admin_issues_a_token_whose_key_is_shown_once_and_stored_only_as_a_digest(
    client_for, clinic_admin, front_desk
):
    client = client_for(clinic_admin)
    response, key = issue_from_page(client, front_desk)

    assert key in response.text
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get()
    assert (token.name, token.user, token.created_by) == ("Practice sync", front_desk, clinic_admin)
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:8]
    stored = [str(value) for value in ApiToken.objects.values_list().get()]
    assert not any(key in value for value in stored)
    # The list shows the key's first characters, never the key.
    listing = client.get(reverse("tokens:token-list")).text
    assert f"{key[:8]}…" in listing
    assert key not in listing


def test_the_token_page_is_reached_from_the_clinic_menu_of_clinic_admins_only(
    client_for, clinic_admin, front_desk
):
    assert reverse("tokens:token-list") in client_for(clinic_admin).get(reverse("home")).text
    assert reverse("tokens:token-list") not in client_for(front_desk).get(reverse("home")).text


def test_a_token_calls_the_api_as_its_account(front_desk, issue_token):
    response = bearer(issue_token(front_desk)).get(PATIENTS)
    assert response.status_code == 200


def test_a_token_is_refused_without_a_role_to_act_with(clinic_admin, stranger):
    with pytest.raises(Exception, match="no role"):
        tokens.token_issue(user=stranger, name="Nothing", issued_by=clinic_admin)


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-key", "Bearer ", "Bearer a b", "Bearer ü-key", "Token abc", "Basic Zm9vOmJhcg=="],
)
def test_an_unknown_or_malformed_key_gets_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(PATIENTS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_no_credentials_get_401_with_the_scheme_to_use(db):
    response = APIClient().get(PATIENTS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="ProloTrack API"'


def test_a_revoked_token_gets_401_at_once_and_stays_listed(client_for, clinic_admin, front_desk, issue_token):
    key = issue_token(front_desk)
    token = ApiToken.objects.get()
    response = client_for(clinic_admin).post(reverse("tokens:token-revoke", args=[token.pk]))
    assert response.status_code == 302

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(key).get(PATIENTS).status_code == 401
    assert "Revoked" in client_for(clinic_admin).get(reverse("tokens:token-list")).text
    # Revoking twice says so, and changes nothing.
    client_for(clinic_admin).post(reverse("tokens:token-revoke", args=[token.pk]))
    assert ApiToken.objects.get().revoked_at == token.revoked_at


def test_a_deactivated_account_s_token_gets_401(front_desk, issue_token):
    key = issue_token(front_desk)
    front_desk.is_active = False
    front_desk.save()
    response = bearer(key).get(PATIENTS)
    assert response.status_code == 401
    assert "deactivated" in response.json()["detail"]


def test_a_token_loses_what_its_account_loses(practitioner, issue_token, scene):
    """Permissions are read on every request: taking the role away takes it from the token too."""
    key = issue_token(practitioner)
    url = reverse("api:course-treatments", args=[scene["course"].pk])
    assert bearer(key).get(url).status_code == 200
    practitioner.groups.remove(Group.objects.get(name=roles.PRACTITIONER))
    assert bearer(key).get(url).status_code == 403


def test_last_used_is_stamped_at_most_once_a_minute(front_desk, issue_token, monkeypatch):
    key = issue_token(front_desk)
    token = ApiToken.objects.get()
    assert token.last_used_at is None

    bearer(key).get(PATIENTS)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None

    bearer(key).get(PATIENTS)
    token.refresh_from_db()
    assert token.last_used_at == first

    later = timezone.now() + datetime.timedelta(minutes=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    bearer(key).get(PATIENTS)
    token.refresh_from_db()
    assert token.last_used_at == later


def test_issuing_and_revoking_are_in_the_audit_trail_without_the_key(client_for, clinic_admin, front_desk):
    client = client_for(clinic_admin)
    _, key = issue_from_page(client, front_desk)
    token = ApiToken.objects.get()
    client.post(reverse("tokens:token-revoke", args=[token.pk]))

    entries = LogEntry.objects.get_for_object(token).order_by("timestamp", "pk")
    assert [entry.action for entry in entries] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
    assert all(entry.actor == clinic_admin for entry in entries)
    for entry in entries:
        assert "key_hash" not in entry.changes_dict
        assert key not in str(entry.changes)
    assert "revoked_at" in entries[1].changes_dict


def test_only_clinic_admins_issue_and_a_bad_form_is_refused_without_a_token(
    client_for, clinic_admin, front_desk
):
    assert (
        client_for(front_desk)
        .post(reverse("tokens:token-issue"), {"name": "x", "user": front_desk.pk})
        .status_code
        == 403
    )
    response = client_for(clinic_admin).post(reverse("tokens:token-issue"), {"name": " ", "user": "junk"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_tokens_are_revoked_never_deleted(front_desk, issue_token):
    issue_token(front_desk)
    with pytest.raises(Exception, match="never deleted"):
        ApiToken.objects.get().delete()


@pytest.mark.password_only
def test_a_token_needs_no_second_factor_but_a_session_still_does(clinic_admin, issue_token):
    """Tokens bypass two-factor sign-in by design (README "API"), so only clinic admins issue them; a
    session signed in with the password alone is sent to give its second factor, on the API as on pages."""
    assert bearer(issue_token(clinic_admin)).get(PATIENTS).status_code == 200

    session = APIClient()
    session.force_login(clinic_admin)
    response = session.get(PATIENTS)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor-enrol"))
