"""API errors as JSON: a refusal by a rule or the database is a 400 or 409 with the sentence the page shows.

- A diary guard (scheduling.diary.VisitRefused, BookingRefused): 409, with each rule broken and the nearest
  valid time, as the booking and rescheduling pages offer it.
- Any other rule (django ValidationError from a service or a model's clean()): 400, keyed by field.
- The database refusing a write (two writers at once): 409 with the constraint's sentence.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from clinic.constraints import sentence_for
from scheduling.diary import BookingRefused, VisitRefused


def _refusal(error):
    return {
        "detail": " ".join(error.messages),
        "refusals": [{"rule": r.rule, "message": r.message} for r in error.refusals],
        "nearest": error.nearest.isoformat() if error.nearest else None,
        "sequence": error.sequence,
    }


def validation_body(error):
    """{"detail": the sentences, "errors": {field: [sentences]}} of a Django ValidationError."""
    body = {"detail": " ".join(error.messages)}
    if hasattr(error, "error_dict"):
        body["errors"] = {field: list(messages) for field, messages in error.message_dict.items()}
    return body


def _flatten(detail, prefix=""):
    """{field (dotted for nested input, e.g. "starts.1"): [sentences]} from DRF's error detail."""
    if isinstance(detail, dict):
        found = {}
        for key, value in detail.items():
            found.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return found
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        found = {}
        for index, value in enumerate(detail):
            found.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return found
    items = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(item) for item in items]} if items else {}


def exception_handler(exc, context):
    if isinstance(exc, ValidationError):
        errors = _flatten(exc.detail)
        detail = " ".join(message for messages in errors.values() for message in messages)
        return Response({"detail": detail, "errors": errors}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, VisitRefused):
        return Response(_refusal(exc), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, BookingRefused):
        body = {
            "detail": " ".join(exc.messages),
            "rows": {str(row): _refusal(error) for row, error in sorted(exc.rows.items())},
        }
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        return Response(validation_body(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        return Response({"detail": sentence_for(exc)}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
