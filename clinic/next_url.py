"""The one rule for user-supplied "next" / "Back" addresses.

A `next` value arrives in the query string or the posted form and is then used either as a redirect or
rendered as a link (a page's Back button, a hidden field carried to the next request). Both go through
`safe_next`, checked exactly as Django checks its own redirects (`url_has_allowed_host_and_scheme`): our own
host only, http(s) only, so `javascript:…`, `data:…`, `//evil.example` and `https://evil.example` fall back to
the page's sensible default. A bare word (`patients`) is refused too: Django's `redirect()` would take it
for a URL pattern name and fail to reverse it.
"""

from django.utils.http import url_has_allowed_host_and_scheme

# A next address longer than this is not one of our own pages (ours are a path and a few filters).
MAX_LENGTH = 2000


def is_safe(request, target):
    """True when `target` is an address on this site that a link or redirect may use."""
    if not target or len(target) > MAX_LENGTH:
        return False
    if not target.startswith("/") and not target.lower().startswith(("http://", "https://")):
        return False
    return url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def safe_next(request, default=""):
    """The `next` address posted or in the query string when it is one of ours, `default` otherwise."""
    target = (request.POST.get("next") or request.GET.get("next") or "").strip()
    return target if is_safe(request, target) else default
