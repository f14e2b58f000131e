from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from courses.models import SessionStatus
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


@register.simple_tag
def week_cards(cards):
    """The appointment cards of one week-view cell (selectors.WeekCard).

    Built in Python rather than a template loop: a whole-clinic week page holds a few hundred cards, and
    each template variable costs more than formatting the whole card here.
    """
    return mark_safe(  # noqa: S308 - names and labels escaped, the rest numbers and fixed words
        "".join(
            f'<div class="border rounded p-1 mb-1'
            f'{" text-body-secondary" if card.status == SessionStatus.CANCELLED else ""}">'
            f"<strong>{card.time}</strong>"
            f'<div><a href="{escape(card.patient_url)}">{escape(card.patient_name)}</a></div>'
            f'<div class="text-body-secondary">{escape(card.course)} · treatment {card.sequence} of '
            f"{card.planned_sessions}</div>"
            f'<span class="badge text-bg-{card.status_badge}">{escape(card.status_label)}</span></div>'
            for card in cards
        )
    )


@register.simple_tag(takes_context=True)
def week_rows(context, rows):
    """The week view's rows: one per practitioner (headed by their name unless one is chosen), a cell per
    day with its closure and appointment cards. Written in Python: a page is 8 × 7 cells."""
    chosen = context.get("chosen")
    here = f"?date={context['day']:%Y-%m-%d}&practitioner="
    html = []
    for row in rows:
        html.append("<tr>\n")
        if not chosen:
            person = row["practitioner"]
            html.append(f'<th scope="row"><a href="{here}{person.pk}">{escape(person)}</a></th>')
        for cell in row["cells"]:
            html.append("\n<td>")
            if cell["closed"]:
                html.append(
                    f'<div class="alert alert-warning p-1 mb-1">Closed: {escape(cell["closed"])}</div>'
                )
            if cell["appointments"]:
                html.append(week_cards(cell["appointments"]))
            elif not cell["closed"]:
                html.append('<span class="text-body-secondary">–</span>')
            html.append("</td>")
        html.append("\n</tr>\n")
    return mark_safe("".join(html))  # noqa: S308 - names and reasons escaped, cards safe HTML


@register.simple_tag
def calendar_pages(page, day, chosen, what):
    """Page links of a whole-clinic calendar, keeping the chosen day and practitioner.

    Written once in Python and shown above and below the table: a busy day has twenty pages.
    """
    if not page or page.paginator.num_pages <= 1:
        return ""
    base = f"?date={day:%Y-%m-%d}&practitioner={chosen.pk if chosen else 'all'}&page="
    items = []
    if page.has_previous():
        items.append(
            f'<li class="page-item"><a class="page-link" href="{base}{page.previous_page_number()}">'
            "Previous</a></li>"
        )
    for number in page.paginator.page_range:
        if number == page.number:
            items.append(
                '<li class="page-item active">'
                f'<span class="page-link" aria-current="page">{number}</span></li>'
            )
        else:
            items.append(
                f'<li class="page-item"><a class="page-link" href="{base}{number}">{number}</a></li>'
            )
    if page.has_next():
        items.append(
            f'<li class="page-item"><a class="page-link" href="{base}{page.next_page_number()}">Next</a></li>'
        )
    return mark_safe(  # noqa: S308 - numbers, a date and an escaped label
        f'<nav aria-label="{escape(what)} pages" class="d-print-none">'
        f'<ul class="pagination pagination-sm flex-wrap">{"".join(items)}</ul></nav>'
    )
