"""Request middleware for the security rules: audit context and automatic sign-out."""

import time
from functools import partial

from auditlog.cid import set_cid
from auditlog.context import _set_extra_data, auditlog_value
from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from clinic.network import client_ip

SIGNED_IN_AT = "signed_in_at"
LAST_ACTIVITY = "last_activity"
ACTIVITY_RESOLUTION_SECONDS = 60


# The request's who-and-where reaches each audit entry through one receiver connected once, instead of
# django-auditlog's connecting and disconnecting a receiver around every request (which also empties
# Django's cache of pre_save receivers for every model, each time).
_REQUEST_DUID = ("clinic.middleware.AuditMiddleware", 0)
pre_save.connect(
    partial(_set_extra_data, signal_duid=_REQUEST_DUID),
    sender=LogEntry,
    dispatch_uid=_REQUEST_DUID,
    weak=False,
)


class AuditMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, with the client address taken only from trusted proxy headers.

    The context (actor, address, correlation id) is the same as django-auditlog's; it is set for the
    request and taken away after it, so nothing outside a request (a command, a worker) is attributed to
    the last request's user.
    """

    def __call__(self, request):
        set_cid(request)
        context = self.get_extra_data(request)
        context["signal_duid"] = _REQUEST_DUID
        token = auditlog_value.set(context)
        try:
            return self.get_response(request)
        finally:
            auditlog_value.reset(token)

    @staticmethod
    def _get_remote_addr(request):
        return client_ip(request)

    @staticmethod
    def _get_remote_port(request):
        # The port of a proxied client says nothing useful and can be forged.
        return None


@receiver(user_logged_in)
def stamp_sign_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[SIGNED_IN_AT] = now
        request.session[LAST_ACTIVITY] = now


class SessionTimeoutMiddleware:
    """Signs staff out after SESSION_IDLE_MINUTES without a request, and SESSION_MAX_HOURS after sign-in.

    A workstation left signed in at the front desk or in a treatment room must not stay open to the next
    person; the absolute limit also ends sessions kept alive by a page left polling.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ended = self._expired(request)
            if ended:
                return self._sign_out(request, ended)
        return self.get_response(request)

    def _expired(self, request):
        session = request.session
        now = time.time()
        idle_minutes = settings.SESSION_IDLE_MINUTES
        max_hours = settings.SESSION_MAX_HOURS
        signed_in_at = session.get(SIGNED_IN_AT)
        last_activity = session.get(LAST_ACTIVITY)
        if signed_in_at is None:
            # A session from before this rule: start its clock now.
            session[SIGNED_IN_AT] = signed_in_at = now
        if now - signed_in_at > max_hours * 3600:
            hours = f"{max_hours} hour" + ("" if max_hours == 1 else "s")
            return f"You were signed out {hours} after signing in. Please sign in again."
        if last_activity is not None and now - last_activity > idle_minutes * 60:
            minutes = f"{idle_minutes} minute" + ("" if idle_minutes == 1 else "s")
            return f"You were signed out after {minutes} without activity."
        if last_activity is None or now - last_activity >= ACTIVITY_RESOLUTION_SECONDS:
            # Written at most once a minute, so ordinary page views do not each write the session.
            session[LAST_ACTIVITY] = now
        return None

    def _sign_out(self, request, message):
        path = request.get_full_path()
        logout(request)  # flushes the session server-side
        messages.info(request, message)
        login_url = reverse(settings.LOGIN_URL)
        if request.method == "GET" and not getattr(request, "htmx", False):
            login_url = f"{login_url}?{urlencode({'next': path})}"
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = login_url
            return response
        return redirect(login_url)
