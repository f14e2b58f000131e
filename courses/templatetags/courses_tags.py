from django import template
from django.template.defaultfilters import floatformat
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from clinic.choices import Laterality
from courses.models import SessionStatus, TreatmentCourse

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
_MARKER = 2_147_480_000


def _url_for_pk(route):
    """pk -> reverse(route, args=[pk]) reversing once ("" where the route is not installed)."""
    try:
        head, _, tail = reverse(route, args=[_MARKER]).rpartition(str(_MARKER))
    except NoReverseMatch:
        return lambda pk: ""
    return lambda pk: f"{head}{pk}{tail}"


@register.simple_tag(takes_context=True)
def timeline_rows(context, sessions):
    """The course page's session rows (templates/courses/_timeline.html has the columns).

    Written in Python: each row lists its injections, preparation and side effects with their
    volumes, a nested loop of formatted numbers that cost more in template variables than the rest
    of the page. Context: clinical, can_log, perms; sessions from selectors.course_sessions().
    """
    clinical = context.get("clinical")
    can_log = context.get("can_log")
    perms = context.get("perms")
    can_move = bool(perms) and "scheduling.book_appointments" in perms
    move_url = _url_for_pk("scheduling:session-reschedule")
    log_url = _url_for_pk("courses:session-log")
    rows = []
    for session in sessions:
        status = session.status
        closed = status in (SessionStatus.CANCELLED, SessionStatus.NO_SHOW)
        sequence = session.sequence
        starts = dateformat.format(timezone.localtime(session.starts_at), "D j M Y H:i")
        parts = [
            '<tr class="text-body-secondary">' if closed else "<tr>",
            f"<td>{sequence}</td>",
            f'<td class="text-nowrap">{starts}</td>',
            f'<td><span class="badge text-bg-{session.status_badge}">'
            f"{escape(session.get_status_display())}</span>",
        ]
        if session.cancel_reason:
            parts.append(f'<div class="small">{escape(session.cancel_reason)}</div>')
        if status == SessionStatus.SCHEDULED and can_move and (url := move_url(session.pk)):
            parts.append(
                f'\n<a class="small ms-1" href="{url}">Move'
                f'<span class="visually-hidden"> session {sequence}</span></a>'
            )
        parts.append(f"</td><td>{escape(session.practitioner)}</td>")
        if clinical:
            parts += _clinical_cells(session)
            parts.append("<td>")
            if not closed and (url := log_url(session.pk)):
                label = "View" if status == SessionStatus.COMPLETED or not can_log else "Log"
                parts.append(
                    f'<a class="btn btn-sm btn-outline-primary" href="{url}">{label}'
                    f'<span class="visually-hidden"> session {sequence}</span></a>'
                )
            parts.append("</td>")
        parts.append("</tr>")
        rows.append("".join(parts))
    return mark_safe("\n".join(rows))  # noqa: S308 - every text value is escaped, the rest are numbers


def _clinical_cells(session):
    """Pain, sites, preparation, total volume and side-effect cells of one timeline row."""
    if session.pain_pre is None:
        pain = "–"
    elif session.pain_post is None:
        pain = f"{session.pain_pre}"
    else:
        pain = f"{session.pain_pre} → {session.pain_post}"
    sites = "; ".join(
        f"{escape(site)}"
        + ("" if side == Laterality.NOT_APPLICABLE else f" ({_LATERALITY_LABELS.get(side, side).lower()})")
        + (f" {escape(level)}" if level else "")
        + f" {floatformat(volume, '-2')} mL"
        for site, side, level, volume in session.timeline_injections
    )
    dextrose, anaesthetic = session.final_dextrose_percent, session.final_anaesthetic_percent
    preparation = []
    if dextrose is not None:
        preparation.append(f"Dextrose {floatformat(dextrose, '-2')}%")
    if anaesthetic:
        preparation.append(
            f"{' + ' if dextrose is not None else ''}anaesthetic {floatformat(anaesthetic, '-3')}%"
        )
    preparation += [
        f'<div class="text-body-secondary">{floatformat(volume, "-2")} mL {escape(product)} lot '
        f"{escape(lot)}</div>"
        for volume, product, lot in session.timeline_components
    ]
    if not session.timeline_components and dextrose is None:
        preparation.append("–")
    total = session.total_volume_ml
    effects = "".join(
        f"<div>{escape(term)} "
        f'<span class="badge text-bg-{"danger" if serious else "warning" if severity >= 2 else "light"}">'
        f"grade {severity}{', serious' if serious else ''}</span></div>"
        for term, severity, serious in session.timeline_side_effects
    )
    return [
        f"<td>{pain}</td>",
        f'<td class="small">{sites or "–"}</td>',
        f'<td class="small">{"".join(preparation)}</td>',
        f"<td>{floatformat(total, '-2') + ' mL' if total is not None else '–'}</td>",
        f'<td class="small">{effects or "–"}</td>',
    ]
