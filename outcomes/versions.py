"""The report data version: one counter, bumped after any write a report could show has committed.

Cached reports (outcomes.reports) carry the version in their key, so a write makes every earlier entry
unreachable in every process as soon as its bump lands. The version is read from the database, one cheap
query per report request, before the report is computed.

The bump runs once per transaction, *after* it commits (transaction.on_commit), as its own short UPDATE: no
lock on the counter is held while a clinical save is in progress, so two practitioners saving at once never
wait for each other on it. Correctness needs only the order "data committed, then version bumped": a report
read before the bump is cached under the old version, which nobody asks for once the bump has landed; a
report computed after it sees the new data. If the process dies between the commit and the bump, cached
reports may show the earlier figures until the next write or REPORT_CACHE_SECONDS, whichever comes first.
"""

import random

from django.db import IntegrityError, transaction
from django.db.models import F

from outcomes.models import ReportVersion

ROW = 1


def report_version():
    """ "epoch.version" of the report data, or "0" before the first write."""
    row = ReportVersion.objects.filter(pk=ROW).values_list("epoch", "version").first()
    return f"{row[0]}.{row[1]}" if row else "0"


def bump_pending(connection):
    """True when this transaction has already asked for a bump at commit."""
    return connection.in_atomic_block and any(
        callback is _bump for _, callback, _ in connection.run_on_commit
    )


def report_data_changed():
    """Bump the version once the current transaction commits (at once outside a transaction).

    Several calls in one transaction bump once; a transaction rolled back bumps nothing (Django drops its
    on_commit callbacks, also those of a rolled-back savepoint).
    """
    connection = transaction.get_connection()
    if bump_pending(connection):
        return
    transaction.on_commit(_bump)


def _bump():
    if ReportVersion.objects.filter(pk=ROW).update(version=F("version") + 1):
        return
    # The first write of a new database makes the row (bulk_create: a counter, not an audited record).
    try:
        with transaction.atomic():
            ReportVersion.objects.bulk_create(
                [ReportVersion(pk=ROW, epoch=random.SystemRandom().getrandbits(62), version=1)]
            )
    except IntegrityError:
        # Another process made it first.
        ReportVersion.objects.filter(pk=ROW).update(version=F("version") + 1)
