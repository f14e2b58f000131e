"""Who is calling the API: a bearer token (api.tokens) or a signed-in session (with its CSRF check).

Token requests bypass the pages' sign-in (and so its two-factor step and lockout) by design: a token is a
credential a clinic admin issued for one account, revocable at once. Sessions keep every page rule: the
two-factor and idle/absolute sign-out middleware run before any API view.
"""

from auditlog.context import auditlog_value
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from api import tokens

REFUSED = "Invalid or revoked token."


def _audit_as(user):
    """Name `user` as the actor of the audit entries this request writes.

    The audit middleware runs before the view, when a token's user is not known yet; its context (the
    client address is already in it) is completed here rather than replaced, so every entry of the request
    carries both.
    """
    context = auditlog_value.get(None)
    if context is not None:
        context["actor"] = user


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <key>`: 401 for an unknown or revoked key or a deactivated account."""

    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Send the header as 'Authorization: Bearer <key>'.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(REFUSED) from None
        token = tokens.token_for_key(key)
        if token is None or token.is_revoked:
            raise AuthenticationFailed(REFUSED)
        if not token.user.is_active:
            raise AuthenticationFailed("The account this token belongs to is deactivated.")
        tokens.token_touch(token)
        _audit_as(token.user)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="ProloTrack API"'


class StaffSessionAuthentication(SessionAuthentication):
    """The browser's session (the docs page's "Try it out"): Django's sign-in, and CSRF on writes."""
