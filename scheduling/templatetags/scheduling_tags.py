from django import template
from django.utils import timezone
from django.utils.html import format_html_join

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
def week_cards(sessions):
    """The appointment cards of one week-view cell.

    Built in Python rather than a template loop: a whole-clinic week page holds a few hundred cards, and
    each template variable costs more than formatting the whole card here.
    """
    return format_html_join(
        "",
        '<div class="border rounded p-1 mb-1{}"><strong>{}</strong>'
        '<div><a href="{}">{}</a></div>'
        '<div class="text-body-secondary">{} · session {} of {}</div>'
        '<span class="badge text-bg-{}">{}</span></div>',
        (
            (
                " text-body-secondary" if session.status == SessionStatus.CANCELLED else "",
                f"{timezone.localtime(session.starts_at):%H:%M}",
                session.patient_url,
                session.patient.full_name,
                session.course,
                session.sequence,
                session.course.planned_sessions,
                session.status_badge,
                session.get_status_display(),
            )
            for session in sessions
        ),
    )
