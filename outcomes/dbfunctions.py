"""Small portable SQL helpers the outcome reports need (SQLite and PostgreSQL)."""

from django.db.models import Func, IntegerField


class DaysBetween(Func):
    """Whole days from `start` to `end` (both dates)."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(ROUND(julianday(%(expressions)s)) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra_context,
        )
