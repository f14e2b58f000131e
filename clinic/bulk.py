"""Loading many rows at once: COPY on PostgreSQL (several times faster than INSERTs), bulk_create elsewhere.

For rows no audit trail follows: the scale seeder's generated clinic, and the derived outcome summaries
that `outcomes_rebuild` recomputes from the clinical records.
"""

from django.db import connection
from django.db.models import AutoField, BigAutoField
from django.utils import timezone

BATCH = 2000


def insert_rows(model, objects, *, batch_size=BATCH):
    """Insert `objects` in batches; each gets its id (drawn from the table's sequence for COPY)."""
    if not objects:
        return
    if connection.vendor == "postgresql":
        _copy(model, objects, batch_size)
    else:
        model.objects.bulk_create(objects, batch_size=batch_size)


def _copy(model, objects, batch_size):
    fields = model._meta.concrete_fields
    table = model._meta.db_table
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    serial = isinstance(model._meta.pk, AutoField | BigAutoField)
    now = timezone.now()
    readers = []
    for field in fields:
        if getattr(field, "auto_now", False):
            readers.append(lambda obj, now=now: now)
        elif field.is_relation:
            readers.append(_foreign_key_reader(field))
        elif field.get_internal_type() == "FileField":
            readers.append(lambda obj, name=field.attname: getattr(obj, name).name or "")
        else:
            readers.append(lambda obj, name=field.attname: getattr(obj, name))
    with connection.cursor() as cursor:
        for start in range(0, len(objects), batch_size):
            batch = objects[start : start + batch_size]
            if serial:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [table, model._meta.pk.column, len(batch)],
                )
                for obj, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                    obj.pk = pk
            for obj in batch:
                obj._state.adding = False
                obj._state.db = connection.alias
            with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
                for obj in batch:
                    copy.write_row([read(obj) for read in readers])


def _foreign_key_reader(field):
    def read(obj):
        value = getattr(obj, field.attname)
        if value is None:
            related = field.get_cached_value(obj, None)
            value = related.pk if related is not None else None
        return value

    return read
