"""The client's address, as recorded in the audit trail and used by the sign-in lockout.

Behind a reverse proxy REMOTE_ADDR is the proxy itself; the client is in X-Forwarded-For. That header
is written by whoever sends the request, so it is trusted only when settings say a proxy is in front
(BEHIND_PROXY), and then only the entry our own proxy appended (PROXY_COUNT hops from the right).
"""

import ipaddress

from django.conf import settings


def _address(value):
    value = (value or "").strip()
    if value.startswith("["):  # [IPv6]:port
        value = value[1:].split("]")[0]
    elif value.count(":") == 1:  # IPv4:port
        value = value.split(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request):
    """The client's IP address, or None when it cannot be told."""
    remote = _address(request.META.get("REMOTE_ADDR"))
    if not getattr(settings, "BEHIND_PROXY", False):
        return remote
    hops = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    count = max(getattr(settings, "PROXY_COUNT", 1), 1)
    if len(hops) < count:
        return remote
    return _address(hops[-count]) or remote
