import pytest

from tests.browser.kit import axe_violations
from tests.factories import UserFactory

# Live-server tests commit for real; serialized rollback restores the groups and catalogues that
# migrations seeded, so later tests still find them.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_practitioner_signs_in_and_sees_their_role(page, live_server):
    UserFactory(username="dr.hale", first_name="Morgan", last_name="Hale", role="Practitioner")
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    assert not axe_violations(page)
    page.get_by_label("Username").fill("dr.hale")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_text("Practitioner").first.is_visible()


def test_a_wrong_password_keeps_the_username_and_says_why(page, live_server):
    UserFactory(username="desk", role="Front desk")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("desk")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_text("Please enter a correct username and password").is_visible()
    assert page.get_by_label("Username").input_value() == "desk"


def test_a_new_clinic_admin_enrols_an_authenticator_app_at_first_sign_in(page, live_server):
    import base64

    from django_otp.oath import TOTP

    UserFactory(username="newadmin", role="Clinic admin")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("newadmin")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/two-factor/enrol/**")
    assert page.get_by_role("img", name="QR code for adding ProloTrack to an authenticator app").is_visible()
    assert not axe_violations(page)

    secret = page.get_by_test_id("two-factor-secret").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(f"{TOTP(base64.b32decode(secret)).token():06d}")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    codes = page.get_by_test_id("recovery-codes").get_by_role("listitem")
    assert codes.count() == 10
    page.get_by_role("link", name="I have saved them").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_text("Clinic admin").first.is_visible()
