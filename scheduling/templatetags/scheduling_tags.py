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
            f'<div class="text-body-secondary">{escape(card.course)} · session {card.sequence} of '
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


@register.simple_tag(takes_context=True)
def appointment_rows(context, sessions):
    """The day view's table rows (templates/scheduling/_appointment_row.html says what each holds).

    Built in Python rather than by including the row template per appointment: a page of 25 rows
    resolves over a thousand template variables, which cost more than the rest of the page together.
    """
    return mark_safe("".join(appointment_row(context, session) for session in sessions))  # noqa: S308


@register.simple_tag(takes_context=True)
def appointment_row(context, session):
    """One appointment of the day view. The view sets the *_url and time_range attributes
    (views._row_links); check-in and no-show submit the page's shared form "appointment-actions"."""
    chosen = context.get("chosen")
    pk = session.pk
    status = session.status
    parts = [
        f'<tr id="appointment-{pk}"',
        ' class="text-body-secondary">' if status == SessionStatus.CANCELLED else ">",
        f'<th scope="row" class="text-nowrap">{session.time_range}</th>',
    ]
    if not chosen:
        parts.append(f"<td>{escape(session.practitioner)}</td>")
    patient = session.patient
    parts += [
        f'<td><a href="{escape(session.patient_url)}">{escape(patient.full_name)}</a>',
        f'<div class="small text-body-secondary">{escape(patient.mrn)}</div></td>',
        f'<td><a href="{escape(session.course_url)}">{escape(session.course)}</a></td>',
        f'<td class="text-nowrap">session {session.sequence} of {session.course.planned_sessions}</td>',
        f'<td><span class="badge text-bg-{session.status_badge}">'
        f"{escape(session.get_status_display())}</span>",
    ]
    if status == SessionStatus.CANCELLED and session.cancel_reason:
        parts.append(f'<div class="small">{escape(session.cancel_reason)}</div>')
    if session.log_url:
        parts.append(f'<div><a class="small" href="{escape(session.log_url)}">Log this session</a></div>')
    parts.append("</td>")
    if context.get("can_book"):
        parts.append('<td class="d-print-none">')
        if context.get("row_error"):
            parts.append(
                '<div class="alert alert-danger py-1 px-2 small mb-2" role="alert">'
                f"{escape(context['row_error'])}</div>"
            )
        parts.append('<div class="d-flex flex-wrap gap-1 align-items-start">')
        if status == SessionStatus.SCHEDULED:
            for url, css, label in (
                (
                    session.check_in_url,
                    "btn-success",
                    '<i class="bi bi-box-arrow-in-right" aria-hidden="true"></i> Check in',
                ),
                (session.no_show_url, "btn-outline-dark", "No-show"),
            ):
                url = escape(url)
                parts.append(
                    f'<button type="submit" form="appointment-actions" formaction="{url}" hx-post="{url}"'
                    f' hx-target="closest tr" hx-swap="outerHTML" class="btn btn-sm {css}">{label}</button>'
                )
            parts.append(
                f'<a class="btn btn-sm btn-outline-primary" href="{escape(session.reschedule_url)}">'
                "Reschedule</a>"
            )
        if status in (SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN):
            url = escape(session.cancel_url)
            parts += [
                '<details class="d-inline-block">',
                '<summary class="btn btn-sm btn-outline-danger">Cancel…</summary>',
                f'<form method="post" class="mt-1 d-flex gap-1" action="{url}" hx-post="{url}"'
                ' hx-target="closest tr" hx-swap="outerHTML">',
                _csrf_input(context),
                f'<input type="hidden" name="next" value="{escape(context.get("here", ""))}">',
                '<input type="hidden" name="one_practitioner" value="{}">'.format("1" if chosen else ""),
                f'<label class="visually-hidden" for="cancel-reason-{pk}">Reason for cancelling</label>',
                f'<input class="form-control form-control-sm" id="cancel-reason-{pk}" name="reason"'
                ' maxlength="200" required placeholder="Reason">',
                '<button type="submit" class="btn btn-sm btn-danger">Cancel appointment</button>',
                "</form></details>",
            ]
        parts.append("</div></td>")
    parts.append("</tr>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped or a number


def _csrf_input(context):
    """What {% csrf_token %} writes, from the same per-render token."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":  # noqa: S105 - Django's marker for "no token"
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">'


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
