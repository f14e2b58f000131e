"""Two-factor sign-in (clinic.two_factor): enrolment, the code after the password, recovery codes, the
lockout on wrong codes, the clinic-wide requirement and a clinic admin's reset of a lost phone."""

import re

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import two_factor
from clinic.models import User
from courses.models import ProtocolSettings
from tests.second_factor import app_code, enrol, pass_second_factor

pytestmark = pytest.mark.password_only

PASSWORD = "correct-horse-battery"


def signed_in_with_password(user, address="192.0.2.50"):
    client = Client(REMOTE_ADDR=address)
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def enrol_through_the_page(client):
    page = client.get(reverse("two-factor-enrol"))
    key = client.session[two_factor.ENROLMENT_KEY]
    code = f"{TOTP(bytes.fromhex(key)).token():06d}"
    return page, client.post(reverse("two-factor-enrol"), {"code": code, "next": "/patients/"})


# --- Who is asked ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/patients/", "/outcomes/", "/admin/", "/admin/clinic/user/", "/audit/lockouts/"]
)
def test_a_clinic_admin_without_an_app_is_sent_to_enrol_from_every_page(clinic_admin, path):
    client = signed_in_with_password(clinic_admin)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor-enrol"))


def test_a_clinic_admin_with_an_app_is_asked_for_the_code_and_comes_back_to_the_page(clinic_admin):
    enrol(clinic_admin)
    client = signed_in_with_password(clinic_admin)
    response = client.get("/patients/?q=smith")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('two-factor-verify')}?next=%2Fpatients%2F%3Fq%3Dsmith"


def test_the_django_admin_needs_the_second_factor_too(clinic_admin):
    clinic_admin.is_staff = True
    clinic_admin.save()
    enrol(clinic_admin)
    client = signed_in_with_password(clinic_admin)
    assert client.get("/admin/").status_code == 302
    client.post(reverse("two-factor-verify"), {"code": app_code(enrol(clinic_admin))})
    assert client.get("/admin/").status_code == 200


def test_other_staff_sign_in_with_the_password_alone_by_default(front_desk):
    client = signed_in_with_password(front_desk)
    assert client.get("/patients/").status_code == 200


def test_the_clinic_can_require_it_of_everyone(front_desk):
    settings_row = ProtocolSettings.load()
    settings_row.two_factor_for_everyone = True
    settings_row.save()
    client = signed_in_with_password(front_desk)
    response = client.get("/patients/")
    assert response["Location"].startswith(reverse("two-factor-enrol"))


def test_the_requirement_reaches_signed_in_staff_within_minutes(front_desk, monkeypatch):
    import time

    client = signed_in_with_password(front_desk)
    assert client.get("/patients/").status_code == 200
    settings_row = ProtocolSettings.load()
    settings_row.two_factor_for_everyone = True
    settings_row.save()
    later = time.time() + two_factor.RECHECK_SECONDS + 1
    monkeypatch.setattr(two_factor.time, "time", lambda: later)
    assert client.get("/patients/")["Location"].startswith(reverse("two-factor-enrol"))


def test_staff_who_enrolled_of_their_own_accord_are_asked_for_the_code(practitioner):
    enrol(practitioner)
    client = signed_in_with_password(practitioner)
    assert client.get("/")["Location"].startswith(reverse("two-factor-verify"))


def test_an_htmx_request_is_sent_to_the_code_page_by_hx_redirect(clinic_admin):
    enrol(clinic_admin)
    client = signed_in_with_password(clinic_admin)
    response = client.get("/patients/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("two-factor-verify")


def test_signing_out_needs_no_code(clinic_admin):
    client = signed_in_with_password(clinic_admin)
    client.post(reverse("logout"))
    assert SESSION_KEY not in client.session


def test_the_protocol_settings_page_sets_the_requirement(client_for, clinic_admin):
    client = client_for(clinic_admin)
    pass_second_factor(client, clinic_admin)
    data = {
        "min_sessions": 3,
        "max_sessions": 8,
        "default_sessions": 6,
        "min_interval_days": 14,
        "max_interval_days": 21,
        "default_interval_days": 14,
        "slot_minutes": 30,
        "screening_valid_days": 180,
        "reminder_hours_before": 24,
        "two_factor_for_everyone": "on",
    }
    assert client.post(reverse("courses:protocol-settings"), data).status_code == 302
    assert ProtocolSettings.load().two_factor_for_everyone is True


# --- Enrolment -------------------------------------------------------------------------------------


def test_the_enrolment_page_shows_a_qr_code_and_the_key_without_saving_anything(clinic_admin):
    client = signed_in_with_password(clinic_admin)
    page = client.get(reverse("two-factor-enrol"))
    text = page.content.decode()
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in text
    assert "otpauth://totp/" in text
    secret = page.context["secret"].replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert not TOTPDevice.objects.exists()
    # The same key until it is confirmed, so a reload does not invalidate the scanned code.
    assert client.get(reverse("two-factor-enrol")).context["secret"] == page.context["secret"]


def test_a_right_code_enrols_the_app_and_shows_ten_recovery_codes_once(clinic_admin):
    client = signed_in_with_password(clinic_admin)
    _, response = enrol_through_the_page(client)
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10
    assert set(codes) == set(
        StaticToken.objects.filter(device__user=clinic_admin).values_list("token", flat=True)
    )
    assert TOTPDevice.objects.get(user=clinic_admin).confirmed
    assert response.context["next"] == "/patients/"
    assert client.get("/patients/").status_code == 200  # the session passed the second factor


def test_a_wrong_code_enrols_nothing_and_says_why(clinic_admin):
    client = signed_in_with_password(clinic_admin)
    client.get(reverse("two-factor-enrol"))
    response = client.post(reverse("two-factor-enrol"), {"code": "000000"})
    assert response.status_code == 200
    assert "That code does not match" in response.content.decode()
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()


def test_the_password_alone_cannot_replace_an_enrolled_app(clinic_admin):
    enrol(clinic_admin)
    client = signed_in_with_password(clinic_admin)
    response = client.get(reverse("two-factor-enrol"))
    assert response["Location"].startswith(reverse("two-factor-verify"))


def test_enrolment_is_in_the_audit_trail(clinic_admin):
    client = signed_in_with_password(clinic_admin)
    enrol_through_the_page(client)
    device = TOTPDevice.objects.get()
    entry = LogEntry.objects.get_for_object(device).get()
    assert entry.action == LogEntry.Action.CREATE and entry.actor == clinic_admin
    assert "key" not in entry.changes_dict


# --- The code after the password -------------------------------------------------------------------


def test_the_right_code_signs_in_and_returns_to_the_page(clinic_admin):
    device = enrol(clinic_admin)
    client = signed_in_with_password(clinic_admin)
    response = client.post(reverse("two-factor-verify"), {"code": app_code(device), "next": "/patients/"})
    assert response["Location"] == "/patients/"
    assert client.get("/patients/").status_code == 200


def test_a_code_works_only_once(clinic_admin):
    device = enrol(clinic_admin)
    code = app_code(device)
    first = signed_in_with_password(clinic_admin)
    assert first.post(reverse("two-factor-verify"), {"code": code}).status_code == 302
    second = signed_in_with_password(clinic_admin)
    response = second.post(reverse("two-factor-verify"), {"code": code})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()


def test_an_off_site_next_is_not_followed(clinic_admin):
    device = enrol(clinic_admin)
    client = signed_in_with_password(clinic_admin)
    response = client.post(
        reverse("two-factor-verify"), {"code": app_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_a_recovery_code_signs_in_once(clinic_admin):
    enrol(clinic_admin)
    (code, *_rest) = two_factor.recovery_codes_issue(user=clinic_admin)
    client = signed_in_with_password(clinic_admin)
    response = client.post(reverse("two-factor-verify"), {"code": code.upper()}, follow=True)
    assert "You signed in with a recovery code; 9 left." in response.content.decode()
    again = signed_in_with_password(clinic_admin)
    assert again.post(reverse("two-factor-verify"), {"code": code}).status_code == 200


def test_new_recovery_codes_replace_the_old_ones(client_for, clinic_admin):
    enrol(clinic_admin)
    old = two_factor.recovery_codes_issue(user=clinic_admin)
    client = signed_in_with_password(clinic_admin)
    client.post(reverse("two-factor-verify"), {"code": old[0]})
    response = client.post(reverse("two-factor-recovery-codes"))
    new = response.context["codes"]
    assert not set(new) & set(old)
    assert two_factor.recovery_codes_left(clinic_admin) == 10


@pytest.mark.parametrize("junk", ["", "x" * 500, "12345\x00", "١٢٣٤٥٦", "' OR 1=1 --"])
def test_junk_codes_are_refused_without_an_error(clinic_admin, junk):
    enrol(clinic_admin)
    client = signed_in_with_password(clinic_admin)
    response = client.post(reverse("two-factor-verify"), {"code": junk})
    assert response.status_code in (200, 400)
    assert DEVICE_ID_SESSION_KEY not in client.session


# --- The lockout covers the second factor ----------------------------------------------------------


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True


def test_five_wrong_codes_lock_the_account_out_like_five_wrong_passwords(axes_on, clinic_admin):
    enrol(clinic_admin)
    client = signed_in_with_password(clinic_admin)
    for _ in range(4):
        assert client.post(reverse("two-factor-verify"), {"code": "000000"}).status_code == 200
    response = client.post(reverse("two-factor-verify"), {"code": "000000"})
    assert response.status_code == 429
    assert "Sign-in locked for 15 minutes" in response.content.decode()
    assert SESSION_KEY not in client.session  # signed out: the password must be typed again
    refused = Client(REMOTE_ADDR="192.0.2.50").post(
        reverse("login"), {"username": clinic_admin.username, "password": PASSWORD}
    )
    assert refused.status_code == 429


def test_a_right_password_does_not_clear_wrong_codes_but_a_whole_sign_in_does(axes_on, clinic_admin):
    device = enrol(clinic_admin)
    for _ in range(3):
        signed_in_with_password(clinic_admin).post(reverse("two-factor-verify"), {"code": "000000"})
    assert AccessAttempt.objects.get(username=clinic_admin.username).failures_since_start == 3
    client = signed_in_with_password(clinic_admin)
    assert AccessAttempt.objects.get(username=clinic_admin.username).failures_since_start == 3
    device.throttle_reset()
    client.post(reverse("two-factor-verify"), {"code": app_code(device)})
    assert not AccessAttempt.objects.filter(username=clinic_admin.username).exists()


def test_staff_without_a_second_factor_still_clear_the_count_with_the_password(axes_on, front_desk):
    Client(REMOTE_ADDR="192.0.2.50").post(
        reverse("login"), {"username": front_desk.username, "password": "no"}
    )
    assert AccessAttempt.objects.filter(username=front_desk.username).exists()
    signed_in_with_password(front_desk)
    assert not AccessAttempt.objects.filter(username=front_desk.username).exists()


# --- A clinic admin resets a lost phone ------------------------------------------------------------


def test_a_clinic_admin_resets_a_lost_phone_and_it_is_audited(clinic_admin, practitioner):
    lost = enrol(practitioner)
    two_factor.recovery_codes_issue(user=practitioner)
    admin = signed_in_with_password(clinic_admin)
    enrol_through_the_page(admin)

    page = admin.get(reverse("clinic:staff-two-factor"))
    assert f"Reset {practitioner.username}" in page.content.decode()
    response = admin.post(reverse("clinic:staff-two-factor-reset", args=[practitioner.pk]), follow=True)

    assert "authenticator app and recovery codes are removed" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=practitioner).exists()
    assert not StaticDevice.objects.filter(user=practitioner).exists()
    removed = LogEntry.objects.get_for_object(lost).get(action=LogEntry.Action.DELETE)
    assert removed.actor == clinic_admin
    history = admin.get(
        reverse("clinic:history", args=[ContentType.objects.get_for_model(User).pk, practitioner.pk])
    )
    assert "Reset: authenticator app and recovery codes removed" in history.content.decode()


def test_a_reset_clinic_admins_session_must_enrol_again(clinic_admin):
    colleague = clinic_admin
    device = enrol(colleague)
    client = signed_in_with_password(colleague)
    client.post(reverse("two-factor-verify"), {"code": app_code(device)})
    assert client.get("/").status_code == 200
    two_factor.devices_reset(user=colleague)
    assert client.get("/")["Location"].startswith(reverse("two-factor-enrol"))


def test_only_clinic_admins_reset(client_for, front_desk, practitioner):
    enrol(practitioner)
    response = client_for(front_desk).post(reverse("clinic:staff-two-factor-reset", args=[practitioner.pk]))
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=practitioner).exists()


# --- The demo clinic admin stays usable by a newcomer ----------------------------------------------


def test_the_demo_clinic_admin_signs_in_with_the_documented_key_through_demo_code(db, settings):
    from io import StringIO

    from django.core.management import call_command

    from clinic.demo import DEMO_PASSWORD, seed_users

    admin = seed_users()["clinicadmin"]
    # The README's key, PROLOTRACKDEMOCLINICADMINTOTPKEY, as stored (hex).
    assert TOTPDevice.objects.get(user=admin).key == "7c5cb74e20128646384b4350200d886cdd37a898"
    settings.DEBUG = True
    out = StringIO()
    call_command("demo_code", "clinicadmin", stdout=out)
    client = Client()
    client.post(reverse("login"), {"username": "clinicadmin", "password": DEMO_PASSWORD})
    response = client.post(reverse("two-factor-verify"), {"code": out.getvalue().strip()})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    # Seeding again keeps the enrolled app.
    seed_users()
    assert TOTPDevice.objects.filter(user=admin).count() == 1


def test_demo_code_is_refused_outside_debug(db, settings):
    from django.core.management import CommandError, call_command

    settings.DEBUG = False
    with pytest.raises(CommandError, match="needs DEBUG=1"):
        call_command("demo_code", "clinicadmin")
