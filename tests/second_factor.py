"""Two-factor sign-in in tests: enrol a user's app with a known secret and type its current code."""

import time

from auditlog.context import disable_auditlog
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import two_factor

# 20 bytes, hex: the same secret for every test user, so a failing test can be reproduced in any app.
TEST_KEY = "3132333435363738393031323334353637383930"


def enrol(user, key=TEST_KEY):
    """The user's confirmed authenticator app (created without an audit entry: it is test set-up)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        with disable_auditlog():
            device = TOTPDevice.objects.create(user=user, name=two_factor.APP_DEVICE, key=key, confirmed=True)
    return device


def app_code(device):
    """The code the app shows now, or the next one when now's was already used (codes work once)."""
    device.refresh_from_db()
    while True:
        now = int(time.time()) // device.step
        step = max(now, device.last_t + 1)
        if step <= now + 1:  # the app's clock may run one step ahead (OTP_TOTP_TOLERANCE)
            return f"{hotp(device.bin_key, step):06d}"
        time.sleep(device.step - time.time() % device.step + 0.1)  # both usable codes spent


def pass_second_factor(client, user):
    """Mark the test client's session as verified with the user's app, as typing a code would."""
    device = enrol(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
