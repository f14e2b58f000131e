"""API tokens: issue (the key shown once), revoke, and find the token a request's key belongs to.

A key is `secrets.token_urlsafe(32)`; the database keeps its first characters (to find the row and to tell
tokens apart in lists) and its SHA-256 digest, never the key. A stolen database therefore holds no usable
key. A token acts as its account, with the account's role read afresh on every request, so it never has
more power than the account, and none once the account is deactivated.
"""

import hashlib
import hmac
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from api.models import ApiToken

PREFIX_LENGTH = 8
# last_used_at is written at most this often per token, so a busy integration costs no write per request.
TOUCH_SECONDS = 60


def digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def token_issue(*, user, name, issued_by):
    """A new token for `user`: returns (token, key). The key is not stored and cannot be shown again."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Name the token after what will use it."})
    if not user.is_active:
        raise ValidationError({"user": "This account is deactivated: it cannot be given a token."})
    if not (user.role_names or user.is_superuser):
        raise ValidationError({"user": "This account has no role, so a token for it could do nothing."})
    key = secrets.token_urlsafe(32)
    token = ApiToken(
        name=name, user=user, prefix=key[:PREFIX_LENGTH], key_hash=digest(key), created_by=issued_by
    )
    token.full_clean()
    token.save()
    return token, key


@transaction.atomic
def token_revoke(*, token, revoked_by):
    """Stop a token working, at once; it stays listed (and in the audit trail) as revoked."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.is_revoked:
        raise ValidationError("This token was already revoked.")
    token.revoked_at = timezone.now()
    token.full_clean()
    token.save(update_fields=["revoked_at"])
    return token


def token_for_key(key):
    """The token (revoked or not, with its user) whose key is `key`, or None."""
    if not key or len(key) < PREFIX_LENGTH:
        return None
    wanted = digest(key)
    for token in ApiToken.objects.filter(prefix=key[:PREFIX_LENGTH]).select_related("user"):
        if hmac.compare_digest(token.key_hash, wanted):
            return token
    return None


def token_touch(token, *, now=None):
    """Record that the token was used, at most once a minute (one UPDATE, no audit entry)."""
    now = now or timezone.now()
    if token.last_used_at is not None and (now - token.last_used_at).total_seconds() < TOUCH_SECONDS:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
