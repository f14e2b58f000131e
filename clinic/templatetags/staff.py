"""Site-wide tags for lists of staff."""

from django import template

register = template.Library()


@register.inclusion_tag("clinic/_staff_options.html")
def staff_options(people, chosen):
    """`<option>`s for choosing a member of staff (a filter's practitioner list), `chosen` (a user or a
    user's id) selected."""
    return {"people": people, "chosen_pk": getattr(chosen, "pk", chosen)}
