"""The report data version: one counter, bumped in the same transaction as any write a report could show.

Cached reports (outcomes.reports) carry the version in their key, so a write makes every earlier entry
unreachable the moment it commits, in every process: the version is read from the database, one cheap query
per report request. Reading it before computing matters: a report computed from newer data than its key says
is only ever served until that newer version is read, never the other way round.
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


def _bumped_in_this_transaction():
    """A no-op on_commit callback marks the transaction that already bumped. Django drops it on rollback
    (also of the savepoint that bumped, whose UPDATE is undone with it) and after commit."""


def bumped_in_this_transaction(connection):
    return connection.in_atomic_block and any(
        callback is _bumped_in_this_transaction for _, callback, _ in connection.run_on_commit
    )


def report_data_changed():
    """Bump the version; inside a transaction only its first call writes (one UPDATE of the row).

    The row stays locked until the transaction ends, so concurrent writers queue on it: that is what keeps
    the version in step with the data, and it is held only from a transaction's first report write.
    """
    connection = transaction.get_connection()
    if bumped_in_this_transaction(connection):
        return
    if connection.in_atomic_block:
        transaction.on_commit(_bumped_in_this_transaction)
    if ReportVersion.objects.filter(pk=ROW).update(version=F("version") + 1):
        return
    # The first write of a new database makes the row (bulk_create: a counter, not an audited record).
    try:
        with transaction.atomic():
            ReportVersion.objects.bulk_create(
                [ReportVersion(pk=ROW, epoch=random.SystemRandom().getrandbits(62), version=1)]
            )
    except IntegrityError:
        # Another transaction made it first.
        ReportVersion.objects.filter(pk=ROW).update(version=F("version") + 1)
