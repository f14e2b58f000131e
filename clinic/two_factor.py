"""Two-factor sign-in: who needs a second factor, enrolment, codes, recovery codes and resets.

Built on django-otp: per member of staff one authenticator app (a TOTP device) and one set of single-use
recovery codes (a static device). Clinic admins always need a second factor, everyone does when the clinic
asks it (ProtocolSettings.two_factor_for_everyone), and anyone who enrolled of their own accord is asked for
it too. TwoFactorMiddleware sends a signed-in user who needs it and has not given it in this session to the
code page (or to enrolment when they have no app yet), from every page, the Django admin's included.

Wrong codes are failed sign-ins for django-axes (same user name and address, same limit), and only a
complete sign-in clears the count, so the lockout covers the second factor too.
"""

import base64
import binascii
import io
import re
import time

from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from clinic.network import client_ip

APP_DEVICE = "Authenticator app"
RECOVERY_DEVICE = "Recovery codes"
# The secret being enrolled lives in the session until a first code proves the app has it.
ENROLMENT_KEY = "two_factor_enrolment_key"
APP_CODE = re.compile(r"^\d{6}$")
# When a session last found its user needs no second factor: asked again after RECHECK_SECONDS, so staff
# without one pay no query per page, and a clinic-wide requirement reaches signed-in sessions within minutes.
NOT_NEEDED_AT = "two_factor_not_needed_at"
RECHECK_SECONDS = 300


def second_factor_not_required(view):
    """Marks a view reachable before the second factor: the code and enrolment pages, signing out."""
    view.second_factor_not_required = True
    return view


# --- Who needs it ------------------------------------------------------------------------------------


def is_required(user):
    """Whether the clinic demands a second factor of this user (whether or not they enrolled)."""
    if user.is_clinic_admin:
        return True
    from courses.models import ProtocolSettings

    return ProtocolSettings.load().two_factor_for_everyone


def app_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def is_enrolled(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


class TwoFactorMiddleware:
    """Every page needs the second factor from those who need one (after LoginRequiredMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or getattr(view_func, "second_factor_not_required", False):
            return None
        if user.is_verified():
            return None
        session = request.session
        checked = session.get(NOT_NEEDED_AT)
        if checked is not None and time.time() - checked < RECHECK_SECONDS and not user.is_clinic_admin:
            return None
        enrolled = is_enrolled(user)
        if not enrolled and not is_required(user):
            session[NOT_NEEDED_AT] = time.time()
            return None
        target = reverse("two-factor-verify" if enrolled else "two-factor-enrol")
        if request.method == "GET" and not getattr(request, "htmx", False):
            target = f"{target}?{urlencode({'next': request.get_full_path()})}"
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)


# --- Enrolment ---------------------------------------------------------------------------------------


def enrolment_key(request):
    """The secret shown on the enrolment page: the same one until a code confirms it."""
    key = request.session.get(ENROLMENT_KEY)
    if not key:
        key = request.session[ENROLMENT_KEY] = default_key()
    return key


def enrolment_details(user, key):
    """What the enrolment page shows: the otpauth address, its QR code and the secret typed by hand."""
    device = TOTPDevice(user=user, key=key, name=APP_DEVICE)
    uri = device.config_url
    secret = base64.b32encode(binascii.unhexlify(key)).decode()
    return {"uri": uri, "qr": qr_data_uri(uri), "secret": " ".join(re.findall(".{1,4}", secret))}


def qr_data_uri(text):
    """A QR code as an SVG data: address for an <img> (the CSP allows data: images; no script, no CDN)."""
    import qrcode
    import qrcode.image.svg

    buffer = io.BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2).save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _normalise(code):
    return re.sub(r"[\s-]", "", code or "").lower()


@transaction.atomic
def enrolment_confirm(*, user, key, code):
    """Enrol the app holding `key` when `code` is its current code: returns the new recovery codes, or None.

    A new app replaces the old one (a new phone), and a new set of recovery codes replaces the old set.
    """
    code = _normalise(code)
    try:
        totp = TOTP(binascii.unhexlify(key), step=30, t0=0, digits=6)
    except (binascii.Error, TypeError, ValueError):
        return None
    if not APP_CODE.match(code) or not totp.verify(int(code), tolerance=settings.OTP_TOTP_TOLERANCE):
        return None
    for old in TOTPDevice.objects.filter(user=user):
        old.delete()  # one by one, so the audit trail records the replaced app
    # last_t: the code just typed cannot be used again to sign in.
    device = TOTPDevice.objects.create(user=user, name=APP_DEVICE, key=key, confirmed=True, last_t=totp.t())
    return device, recovery_codes_issue(user=user)


@transaction.atomic
def recovery_codes_issue(*, user):
    """A fresh set of single-use recovery codes (the old set stops working), returned once to be shown."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE, defaults={"confirmed": True}
    )
    StaticToken.objects.filter(device=device).delete()
    codes = [StaticToken.random_token() for _ in range(settings.RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def devices_reset(*, user, reset_by=None, remote_addr=None):
    """A lost phone: remove the user's app and recovery codes (audited), so they enrol again at sign-in.

    Sessions that passed the second factor with the removed app stop being verified at their next request.
    Besides each device's removal, the reset is filed under the staff account, so it reads on their history.
    """
    from auditlog.models import LogEntry

    deleted = 0
    for device in [*TOTPDevice.objects.filter(user=user), *StaticDevice.objects.filter(user=user)]:
        device.delete()  # one by one, so the audit trail records each removal
        deleted += 1
    if deleted:
        LogEntry.objects.log_create(
            user,
            force_log=True,
            action=LogEntry.Action.UPDATE,
            changes={"two_factor_sign_in": ["On", "Reset: authenticator app and recovery codes removed"]},
            actor=reset_by,
            remote_addr=remote_addr,
        )
    return deleted


# --- Signing in with a code --------------------------------------------------------------------------


def _credentials(user):
    return {"username": user.get_username()}


def is_locked_out(request):
    return AxesProxyHandler.is_locked(request, _credentials(request.user))


def verify(request, code):
    """Check a code from the app or a recovery code; on success the session is verified.

    Returns the device that matched, or None after counting a failed sign-in for the lockout.
    """
    user = request.user
    code = _normalise(code)
    if APP_CODE.match(code):
        devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    else:
        devices = StaticDevice.objects.filter(user=user, confirmed=True)
    for device in devices:
        if code and device.verify_token(code):
            otp_login(request, device)
            request.session.pop(ENROLMENT_KEY, None)
            sign_in_complete(request, user)
            return device
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)
    return None


def sign_in_complete(request, user):
    """A whole sign-in succeeded: clear the failed attempts of this user from this address."""
    axes_reset(ip=client_ip(request), username=user.get_username())


@receiver(user_logged_in)
def password_sign_in(sender, request, user, **kwargs):
    # Users without a second factor are fully signed in by their password; others once they give a code.
    if request is None or is_enrolled(user) or is_required(user):
        return
    if hasattr(request, "session"):
        request.session[NOT_NEEDED_AT] = time.time()
    if settings.AXES_ENABLED:
        sign_in_complete(request, user)
