from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from clinic.choices import Laterality
from courses.models import TreatmentCourse

register = template.Library()

HOME_CARD_LIMIT = 6


@register.inclusion_tag("courses/_my_courses_card.html", takes_context=True)
def my_courses_card(context):
    """The home page's list of the signed-in practitioner's open courses (one query)."""
    user = context["user"]
    courses = (
        TreatmentCourse.objects.open()
        .filter(practitioner=user)
        .for_list()
        .order_by("status", "-start_date", "-id")
    )
    shown = list(courses[: HOME_CARD_LIMIT + 1])
    return {
        "courses": shown[:HOME_CARD_LIMIT],
        "more": len(shown) > HOME_CARD_LIMIT,
        "perms": context.get("perms"),
    }


_LATERALITY_LABELS = dict(Laterality.choices)


@register.filter
def side_label(side):
    """An injection's side in words, for the middle of a sentence: "right", "bilateral"."""
    return _LATERALITY_LABELS.get(side, side).lower()


@register.simple_tag
def plain_form(form, cols=""):
    """A small form in Bootstrap markup, as crispy-forms renders it but written here in Python.

    Widgets render through the form's renderer (views._plain sets the Python one); labels and errors
    are escaped, help texts are trusted markup from the form definitions (as |safe did).
    """
    html = []
    errors = form.non_field_errors()
    if errors:
        items = "".join(f"<li>{escape(error)}</li>" for error in errors)
        html.append(f'<div class="alert alert-block alert-danger"><ul class="m-0">{items}</ul></div>')
    html += [str(field) for field in form.hidden_fields()]
    if cols:
        html.append('<div class="row">')
    column = f" {escape(cols)}" if cols else ""
    for field in form.visible_fields():
        auto_id = escape(field.auto_id)
        required = field.field.required
        label_class = "form-label requiredField" if required else "form-label"
        asterisk = '<span class="asteriskField">*</span>' if required else ""
        html.append(
            f'\n<div id="div_{auto_id}" class="mb-3{column}">\n'
            f'<label for="{escape(field.id_for_label)}" class="{label_class}">{escape(field.label)}{asterisk}'
            f"</label>\n{field}\n"
        )
        html += [
            f'<span class="invalid-feedback d-block"><strong>{escape(error)}</strong></span>'
            for error in field.errors
        ]
        if field.help_text:
            html.append(f'\n<div id="{auto_id}_helptext" class="form-text">{field.help_text}</div>')
        html.append("\n</div>")
    if cols:
        html.append("</div>")
    return mark_safe("".join(html))  # noqa: S308 - labels and errors escaped, widgets safe HTML
