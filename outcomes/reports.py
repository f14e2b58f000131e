"""Cached outcome reports: the dashboard's rendered figures and the tables behind its charts and CSVs.

A report is the same for everyone with the same scope (the whole clinic, or one practitioner's own courses),
filters and day ("this month" moves with the date), as long as no report input changed. The key holds all
four plus the report data version (outcomes.versions), which every such write bumps in its own transaction:
a write makes the earlier entries unreachable in every process, and the per-process cache stays correct
across workers. The TIMEOUT of CACHES["reports"] is a backstop, not what keeps reports current.
"""

import datetime
import hashlib
import json

from django.core.cache import caches
from django.utils import timezone

from outcomes.versions import report_version

ALIAS = "reports"


def scope(user):
    """Whose courses the user's reports cover: never share an entry between two different answers."""
    return "clinic" if user.has_perm("courses.view_all_outcomes") else f"practitioner-{user.pk}"


def _plain(value):
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


class ReportCache:
    """The cache entries of one request's reports (scope, day, data version; then its filters)."""

    def __init__(self, user):
        # The version is read first: an entry may hold newer data than its key says, never older.
        self.version = report_version()
        self.base = f"outcomes:{self.version}"
        self.prefix = None
        self.scope = scope(user)
        self.cache = caches[ALIAS]

    def practitioner_ids(self, compute):
        """The ids listed in the practitioner filter (same for every user of a data version)."""
        key = f"{self.base}:practitioners"
        ids = self.cache.get(key)
        if ids is None:
            ids = compute()
            self.cache.set(key, ids)
        return ids

    def bind(self, filters, params):
        normalised = json.dumps(
            [sorted((key, _plain(value)) for key, value in filters.items()), sorted(params.items())],
            default=str,
        )
        digest = hashlib.sha256(normalised.encode()).hexdigest()[:32]
        self.prefix = f"{self.base}:{self.scope}:{timezone.localdate():%Y%m%d}:{digest}"

    def form_html(self, query, render):
        """The rendered filter form for this exact query string (it shows what was typed, errors included)."""
        digest = hashlib.sha256(json.dumps(sorted(query.lists())).encode()).hexdigest()[:32]
        key = f"{self.base}:{self.scope}:form:{digest}"
        html = self.cache.get(key)
        if html is None:
            html = render()
            self.cache.set(key, html)
        return html

    def get(self, name):
        return self.cache.get(f"{self.prefix}:{name}")

    def set(self, name, value):
        self.cache.set(f"{self.prefix}:{name}", value)

    def set_tables(self, tables):
        """Store a dashboard section's tables, each under its own name (for its chart and CSV)."""
        self.cache.set_many({f"{self.prefix}:table:{table.name}": table for table in tables})

    def table(self, name, compute):
        """The named table: from its own entry (stored by the dashboard or a chart), or `compute()`."""
        table = self.get(f"table:{name}")
        if table is None:
            table = compute()
            self.set(f"table:{name}", table)
        return table
