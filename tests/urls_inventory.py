"""Every URL pattern of the project with a sample path, for tests that sweep the whole site."""

import re
import uuid

from django.urls import URLPattern, URLResolver, get_resolver

SAMPLES = {"int": "1", "str": "x", "slug": "x", "uuid": str(uuid.UUID(int=1)), "path": "x"}


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + route, ns)
        elif isinstance(entry, URLPattern):
            yield (f"{namespace}{entry.name}" if entry.name else None), prefix + route


def sample_path(route):
    route = route.lstrip("^").rstrip("$")
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES[m.group(1) or "str"], route)
    return "/" + route.replace("\\", "")


def project_urls():
    """(url name, sample path) for every pattern outside the Django admin."""
    for name, route in _walk(get_resolver().url_patterns):
        if name and name.startswith("admin:"):
            continue
        if "(?P<" in route:  # regex routes belong to the admin only
            continue
        yield name, sample_path(route)
