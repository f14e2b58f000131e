"""Site-wide tags for lists of staff."""

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def staff_options(people, chosen):
    """`<option>`s for choosing a member of staff (a filter's practitioner list), `chosen` selected.

    Written in one pass: a whole clinic has dozens of practitioners, and a template loop paid for a
    variable lookup, a model comparison and a name per option.
    """
    chosen_pk = getattr(chosen, "pk", chosen)
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((person.pk, mark_safe(" selected") if person.pk == chosen_pk else "", person) for person in people),
    )
