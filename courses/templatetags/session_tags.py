"""The session-logging page's form cells (see courses.session_forms.field_cell)."""

from django import template

from courses.session_forms import field_cell

register = template.Library()


@register.filter
def session_cell(field, col=""):
    """{{ form.pain_pre|session_cell:"col-md-3" }}: the field's label, input and errors in that column."""
    return field_cell(field, col)
