from django import template
from django.utils import timezone

from scheduling import selectors

register = template.Library()

CARD_ROWS = 8


@register.inclusion_tag("scheduling/_today_card.html", takes_context=True)
def todays_list_card(context):
    """Front desk's home card: today's appointments across the clinic, in two queries."""
    start, end = selectors.day_bounds(timezone.localdate())
    appointments = selectors.appointments_between(start, end)
    return _card(context, appointments, title="Today's list", practitioner=None)


@register.inclusion_tag("scheduling/_today_card.html", takes_context=True)
def my_day_card(context):
    """A practitioner's home card: their own appointments today."""
    user = context["user"]
    start, end = selectors.day_bounds(timezone.localdate())
    appointments = selectors.appointments_between(start, end, user)
    return _card(context, appointments, title="My day", practitioner=user)


def _card(context, appointments, *, title, practitioner):
    rows = list(appointments[: CARD_ROWS + 1])
    return {
        "title": title,
        "practitioner": practitioner,
        "rows": rows[:CARD_ROWS],
        "more": len(rows) > CARD_ROWS,
        "total": appointments.count() if len(rows) > CARD_ROWS else len(rows),
        "waiting": sum(1 for s in rows if s.status == "checked_in"),
        "today": timezone.localdate(),
        "perms": context.get("perms"),
    }
