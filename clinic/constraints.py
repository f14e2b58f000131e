"""The one place a database refusal becomes the sentence the user reads.

Every model constraint carries its sentence as `violation_error_message` (tests/clinic/test_constraints.py
fails on one without), so `full_clean()` already refuses with it. When the database refuses instead, in the
race between two writers that `full_clean()` cannot see, the IntegrityError names the constraint (or, for
a unique index on SQLite, its table and columns); `sentence_for` finds the same sentence, and
`ConstraintRefusalMiddleware` shows it on a page instead of a server error.
"""

import functools
import logging
import re

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.shortcuts import render
from django.urls import reverse

from clinic.next_url import safe_next

logger = logging.getLogger(__name__)

# Constraints made in SQL by a migration, which no model declares.
SLOT_TAKEN = "Slot taken: another appointment was booked in this time a moment ago."
DATABASE_ONLY = {
    # scheduling/migrations/0003_no_double_booking.py (PostgreSQL exclusion constraints)
    "session_no_practitioner_overlap": SLOT_TAKEN,
    "session_no_patient_overlap": SLOT_TAKEN,
}

UNKNOWN = (
    "This was not saved: it conflicts with a change saved a moment ago. Reload the page to see the record "
    "as it is now, then try again."
)

_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)")


@functools.cache
def _sentences():
    """({constraint name: sentence}, {(table, columns): sentence})."""
    by_name, by_columns = dict(DATABASE_ONLY), {}
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            sentence = constraint.get_violation_error_message()
            by_name[constraint.name] = sentence
            if getattr(constraint, "fields", None):
                columns = frozenset(model._meta.get_field(name).column for name in constraint.fields)
                by_columns[(model._meta.db_table, columns)] = sentence
    return by_name, by_columns


def constraint_name(error):
    """The constraint an IntegrityError names, or ''."""
    diag = getattr(getattr(error, "__cause__", None), "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return name
    text = str(error)
    by_name, _ = _sentences()
    return next((known for known in by_name if re.search(rf"\b{re.escape(known)}\b", text)), "")


def sentence_for(error):
    """The sentence for the constraint an IntegrityError broke, or a general one."""
    by_name, by_columns = _sentences()
    name = constraint_name(error)
    if name in by_name:
        return by_name[name]
    found = _SQLITE_UNIQUE.search(str(error))
    if found:
        pairs = [column.strip().rsplit(".", 1) for column in found.group(1).split(",")]
        tables = {pair[0] for pair in pairs if len(pair) == 2}
        if len(tables) == 1:
            key = (tables.pop(), frozenset(pair[1] for pair in pairs))
            if key in by_columns:
                return by_columns[key]
    return UNKNOWN


def as_validation_error(error):
    return ValidationError(sentence_for(error), code="constraint")


class ConstraintRefusalMiddleware:
    """A write refused by the database, or a ValidationError no view caught, is a clear page (409 / 400)
    saying nothing was saved, never a server error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, IntegrityError):
            logger.warning("Write refused by the database on %s: %s", request.path, exception)
            return _refused(request, [sentence_for(exception)], status=409)
        if isinstance(exception, ValidationError):
            logger.warning("Refusal no view caught on %s: %s", request.path, exception)
            return _refused(request, exception.messages, status=400)
        return None


def _refused(request, sentences, *, status):
    return render(
        request,
        "refused.html",
        {"sentences": sentences, "back_url": safe_next(request, default=reverse("home"))},
        status=status,
    )
