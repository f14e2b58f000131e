"""A request body handed to the pages' own forms, so the API validates and normalises input exactly as the
pages do (the same ModelForms, `clean_<field>` methods and date ranges).

Forms read strings, as a browser posts them; a JSON body's numbers, booleans and nulls are turned into
those strings first, and anything a form field could not take (a list, an object, a NUL character) is
refused here with a 400.
"""

from decimal import Decimal

from rest_framework.exceptions import ValidationError

from clinic.inputs import NUL


def _as_text(name, value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, str):
        if NUL in value:
            raise ValidationError({name: ["Contains a NUL character, which no field accepts."]})
        return value
    raise ValidationError({name: ["Give a single value."]})


def prefilled(form):
    """What the page's form shows before anyone types (model defaults, today's date...): a body that leaves
    a field out gets it, as a browser submits what the form was pre-filled with."""
    values = {}
    for name, field in form.fields.items():
        value = form.get_initial_for_field(field, name)
        if value is not None:
            values[name] = value
    return values


def form_data(data, fields, *, initial=None):
    """The body's values for `fields` as a form would receive them, over `initial` (for a partial update)."""
    if not hasattr(data, "keys"):
        raise ValidationError({"detail": "Send a JSON object."})
    values = dict(initial or {})
    for name in fields:
        if name not in data:
            continue
        value = data[name]
        if hasattr(data, "getlist"):  # a form-encoded body: one value per field
            sent = data.getlist(name)
            value = sent[0] if len(sent) == 1 else sent
        values[name] = _as_text(name, value)
    return values


def form_errors(form):
    """A 400 carrying the form's errors, keyed by field as the page shows them beside each field."""
    return ValidationError(
        {field: [str(message) for message in messages] for field, messages in form.errors.items()}
    )
