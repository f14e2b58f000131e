from django import template
from django.template.defaultfilters import floatformat
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat, timezone
from django.utils.html import escape, format_html_join
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
    number = _Numbers()
    move_url = _url_for_pk("scheduling:session-reschedule")
    log_url = _url_for_pk("courses:session-log")
    rows = []
    for session in sessions:
        status = session.status
        closed = status in (SessionStatus.CANCELLED, SessionStatus.NO_SHOW)
        sequence = session.sequence
        starts = dateformat.format(timezone.localtime(session.starts_at), "D j M Y H:i")
        numbered = not (closed or session.assessment_only)
        which = f"treatment {sequence}" if numbered else f"visit of {starts}"
        parts = [
            '<tr class="text-body-secondary">' if closed else "<tr>",
            # Treatments given and booked carry their number; a missed, cancelled or assessment visit none.
            f"<td>{sequence if numbered else '–'}</td>",
            f'<td class="text-nowrap">{starts}</td>',
            f'<td><span class="badge text-bg-{session.status_badge}">'
            f"{escape(session.get_status_display())}</span>",
        ]
        if session.cancel_reason:
            parts.append(f'<div class="small">{escape(session.cancel_reason)}</div>')
        if status == SessionStatus.SCHEDULED and can_move and (url := move_url(session.pk)):
            parts.append(
                f'\n<a class="small ms-1" href="{url}">Move<span class="visually-hidden"> {which}</span></a>'
            )
        parts.append(f"</td><td>{escape(session.practitioner)}</td>")
        if clinical:
            parts += _clinical_cells(session, number)
            parts.append("<td>")
            if not closed and (url := log_url(session.pk)):
                label = "View" if status == SessionStatus.COMPLETED or not can_log else "Log"
                parts.append(
                    f'<a class="btn btn-sm btn-outline-primary" href="{url}">{label}'
                    f'<span class="visually-hidden"> {which}</span></a>'
                )
            parts.append("</td>")
        parts.append("</tr>")
        rows.append("".join(parts))
    return mark_safe("\n".join(rows))  # noqa: S308 - every text value is escaped, the rest are numbers


class _Numbers(dict):
    """floatformat(value, places), each distinct volume or percentage formatted once per page: a course's
    sessions repeat the same few volumes, and floatformat is the costliest step of a row."""

    def __call__(self, value, places):
        key = (value, places)
        if key not in self:
            self[key] = floatformat(value, places)
        return self[key]


def _clinical_cells(session, number):
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
        + f" {number(volume, '-2')} mL"
        for site, side, level, volume in session.timeline_injections
    )
    dextrose, anaesthetic = session.final_dextrose_percent, session.final_anaesthetic_percent
    preparation = []
    if dextrose is not None:
        preparation.append(f"Dextrose {number(dextrose, '-2')}%")
    if anaesthetic:
        preparation.append(f"{' + ' if dextrose is not None else ''}anaesthetic {number(anaesthetic, '-3')}%")
    preparation += [
        f'<div class="text-body-secondary">{number(volume, "-2")} mL {escape(product)} lot '
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
        f"<td>{number(total, '-2') + ' mL' if total is not None else '–'}</td>",
        f'<td class="small">{effects or "–"}</td>',
    ]


def _csrf_input(context):
    """What {% csrf_token %} writes, from the same per-render token."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":  # noqa: S105 - Django's marker for "no token"
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">'


@register.simple_tag(takes_context=True)
def score_rows(context, course, scores):
    """The follow-up scores table's rows, each with its void form where the user may void scores."""
    can_void = context.get("can_void_score")
    csrf = _csrf_input(context)
    void_url = _url_for_pk_pair("courses:score-void", course.pk)
    rows = []
    for score in scores:
        cells = (
            f"<tr><td>{dateformat.format(score.recorded_on, 'j M Y')}</td>"
            f"<td>{escape(score.get_timepoint_display())}</td><td>{escape(score.instrument.code)}</td>"
            f"<td>{floatformat(score.score, '-1')}</td><td>{escape(score.get_source_display())}</td>"
            f"<td>{escape(score.created_by) if score.created_by else '–'}</td>"
        )
        if can_void:
            pk = score.pk
            cells += (
                '\n<td>\n<details><summary class="small">Void</summary>\n'
                f'<form method="post" action="{void_url(pk)}" class="mt-1">{csrf}\n'
                f'<label class="form-label small" for="void-reason-{pk}">Why is it wrong?</label>\n'
                f'<input class="form-control form-control-sm mb-1" id="void-reason-{pk}" name="reason"'
                ' maxlength="200" required>\n'
                '<button class="btn btn-sm btn-outline-danger" type="submit">Void score</button>\n'
                "</form>\n</details>\n</td>"
            )
        rows.append(cells + "</tr>")
    return mark_safe("\n".join(rows))  # noqa: S308 - text values escaped, the rest dates and numbers


def _url_for_pk_pair(route, first):
    """pk -> reverse(route, args=[first, pk]), reversing once."""
    head, _, tail = reverse(route, args=[first, _MARKER]).rpartition(str(_MARKER))
    return lambda pk: f"{head}{pk}{tail}"


@register.simple_tag
def trend_rows(trend):
    """The pain trend table's rows after the baseline: the chart's points as text."""
    return format_html_join(
        "\n",
        '<tr><td>{}</td><th scope="row">{}</th><td>{}</td><td>{}</td></tr>',
        (
            (p["date_label"], p["label"], floatformat(p["nrs"], "-1"), floatformat(p["improvement"], "-1"))
            for p in trend["points"]
        ),
    )


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
