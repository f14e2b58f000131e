import datetime
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import F, Func, Prefetch, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from clinic.access import log_access
from clinic.inputs import page_number, query_day
from clinic.models import User
from clinic.next_url import safe_next
from courses import safety, timeline
from courses.models import ProtocolSettings, SessionStatus, TreatmentCourse, TreatmentSession
from scheduling import diary, selectors, services
from scheduling.feeds import practitioner_calendar
from scheduling.forms import (
    CancelForm,
    ClosureForm,
    FirstSlotForm,
    NoShowFollowUpForm,
    ProposalFormSet,
    RescheduleForm,
    WorkingHoursForm,
)
from scheduling.models import CalendarFeed, Closure, WorkingHours


def _error_text(error):
    return " ".join(error.messages)


def _calendar_filter(request):
    """(day, chosen practitioner or None for the whole clinic, practitioner choices)."""
    day = query_day(request)
    choices = list(selectors.practitioners())
    wanted = request.GET.get("practitioner")
    if wanted is None and request.user.is_practitioner:
        wanted = str(request.user.pk)
    chosen = next((p for p in choices if str(p.pk) == wanted), None)
    return day, chosen, choices


def _back_to(request, session):
    day = timezone.localdate(session.starts_at)
    return safe_next(request, default=f"{reverse('scheduling:day')}?date={day:%Y-%m-%d}")


# --- Calendars ---------------------------------------------------------------------------------------


# A busy clinic has hundreds of appointments a day and over a thousand a week: the whole-clinic day is
# shown a page of appointments at a time, and the whole-clinic week a page of practitioners at a time.
DAY_PAGE_SIZE = 25
WEEK_PRACTITIONERS_PER_PAGE = 8


def _row_links(sessions, *, user, here):
    """Give each calendar row the addresses its links and actions use.

    Reversed once per page rather than once per row and link: a full day has hundreds of rows.
    """
    links = {
        name: selectors.url_for_pk(route)
        for name, route in (
            ("patient", "patients:patient-detail"),
            ("course", "courses:course-detail"),
            ("check_in", "scheduling:session-check-in"),
            ("no_show", "scheduling:session-no-show"),
            ("cancel", "scheduling:session-cancel"),
            ("reschedule", "scheduling:session-reschedule"),
            ("undo_no_show", "scheduling:session-no-show-undo"),
            ("rebook", "scheduling:session-rebook"),
            ("log", "courses:session-log"),
        )
    }
    today = timezone.localdate()
    can_log = user.has_perm("courses.add_injection")
    back = f"?next={quote(here, safe='')}"
    for session in sessions:
        pk = session.pk
        session.time_range = (
            f"{timezone.localtime(session.starts_at):%H:%M}–{timezone.localtime(session.ends_at):%H:%M}"
        )
        session.patient_url = links["patient"](session.patient_id)
        session.course_url = links["course"](session.course_id)
        session.check_in_url = links["check_in"](pk)
        session.no_show_url = links["no_show"](pk)
        session.cancel_url = links["cancel"](pk)
        session.reschedule_url = links["reschedule"](pk) + back
        session.undo_no_show_url = (
            links["undo_no_show"](pk)
            if session.status == SessionStatus.NO_SHOW
            and timezone.localdate(session.no_show_at or session.starts_at) == today
            else ""
        )
        session.rebook_url = (
            links["rebook"](pk) + back
            if session.status in (SessionStatus.NO_SHOW, SessionStatus.CANCELLED) and session.course.is_open
            else ""
        )
        session.log_url = (
            links["log"](pk)
            if can_log and session.practitioner_id == user.pk and session.status in selectors.OPEN_STATUSES
            else ""
        )
    return sessions


def _page_number(request, appointments, day, size):
    """The page asked for; on today's page without one, the page with the next appointment still to end."""
    wanted = request.GET.get("page")
    if wanted or day != timezone.localdate():
        return wanted
    done = appointments.filter(ends_at__lte=timezone.now()).count()
    return done // size + 1


def _page_with_total(rows, number, size):
    """Paginator.get_page(number) in one query: the page's rows carry their total, where the paginator
    would count first and then load the page.

    The total is an uncorrelated subquery (PostgreSQL runs it once, over the index) rather than
    COUNT(*) OVER (), which would join every row of the day to its patient and course to count them.
    """
    paginator = Paginator(rows, size)
    number = page_number(number)
    if number < 1:
        return paginator.get_page(number)
    start = (number - 1) * size
    total = rows.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    found = list(rows.annotate(page_total=Subquery(total))[start : start + size])
    if not found and number > 1:
        return paginator.get_page(number)  # past the end: the last page, as get_page does
    paginator.count = found[0].page_total if found else 0
    return Page(found, number, paginator)


@require_GET
@permission_required("scheduling.view_calendar", raise_exception=True)
def day(request):
    day, chosen, choices = _calendar_filter(request)
    start, end = selectors.day_bounds(day)
    appointments = selectors.appointments_between(start, end, chosen)
    page = _page_with_total(
        appointments, _page_number(request, appointments, day, DAY_PAGE_SIZE), DAY_PAGE_SIZE
    )
    here = request.get_full_path()
    rows = _row_links(list(page.object_list), user=request.user, here=here)
    closures = list(Closure.objects.overlapping(day, day))
    return render(
        request,
        "scheduling/day.html",
        {
            "day": day,
            "chosen": chosen,
            "practitioner_choices": choices,
            "appointments": rows,
            "page": page,
            "closures": closures,
            "hours": selectors.working_hours_text(day.weekday(), chosen),
            "is_today": day == timezone.localdate(),
            "previous_day": day - datetime.timedelta(days=1),
            "next_day": day + datetime.timedelta(days=1),
            "can_book": request.user.has_perm("scheduling.book_appointments"),
            "here": here,
        },
    )


@require_GET
@permission_required("scheduling.view_calendar", raise_exception=True)
def week(request):
    day, chosen, choices = _calendar_filter(request)
    monday = day - datetime.timedelta(days=day.weekday())
    days = [monday + datetime.timedelta(days=n) for n in range(7)]
    start, _ = selectors.day_bounds(monday)
    _, end = selectors.day_bounds(days[-1])
    page = None
    if chosen:
        team = [chosen]
    else:
        page = _page_with_total(
            selectors.practitioners_booked_between(start, end),
            request.GET.get("page"),
            WEEK_PRACTITIONERS_PER_PAGE,
        )
        team = list(page.object_list)
    # The week's appointments grouped into (practitioner, day) cells in one pass.
    cards = selectors.week_cards_by_cell(start, end, team) if team else {}
    closures = list(Closure.objects.overlapping(monday, days[-1]))
    columns = [
        {
            "day": d,
            "closed": next((c.reason for c in closures if c.starts_on <= d <= c.ends_on), ""),
        }
        for d in days
    ]
    rows = [
        {
            "practitioner": person,
            "cells": [
                {
                    "day": column["day"],
                    "closed": column["closed"],
                    "appointments": cards.get((person.pk, column["day"]), ()),
                }
                for column in columns
            ],
        }
        for person in team
    ]
    return render(
        request,
        "scheduling/week.html",
        {
            "day": day,
            "monday": monday,
            "columns": columns,
            "rows": rows,
            "page": page,
            "chosen": chosen,
            "practitioner_choices": choices,
            "previous_week": monday - datetime.timedelta(days=7),
            "next_week": monday + datetime.timedelta(days=7),
            "today": timezone.localdate(),
        },
    )


# --- Quick actions on an appointment (htmx swaps the row; without JS, POST then redirect) --------------


def _row_response(request, session, *, error=""):
    if request.htmx:
        here = safe_next(request)
        [session] = _row_links([selectors.appointment(session.pk)], user=request.user, here=here)
        return render(
            request,
            "scheduling/_appointment_row.html",
            {
                "session": session,
                # The row keeps the columns of the table it sits in.
                "chosen": request.POST.get("one_practitioner") == "1",
                "can_book": True,
                "row_error": error,
                "here": here,
            },
        )
    if error:
        messages.error(request, error)
    return redirect(_back_to(request, session))


def _quick_action(request, pk, action, done):
    session = get_object_or_404(TreatmentSession, pk=pk)
    try:
        action(session)
    except ValidationError as error:
        return _row_response(request, session, error=_error_text(error))
    if not request.htmx:
        messages.success(request, done.format(name=session.patient.full_name))
    return _row_response(request, session)


@require_POST
@permission_required("scheduling.book_appointments", raise_exception=True)
def session_check_in(request, pk):
    return _quick_action(
        request,
        pk,
        lambda s: diary.visit_check_in(session=s, by=request.user),
        "{name} checked in.",
    )


@require_POST
@permission_required("scheduling.book_appointments", raise_exception=True)
def session_no_show(request, pk):
    return _quick_action(
        request,
        pk,
        lambda s: diary.visit_no_show(session=s, by=request.user),
        "{name} marked as a no-show.",
    )


@require_POST
@permission_required("scheduling.book_appointments", raise_exception=True)
def session_no_show_undo(request, pk):
    return _quick_action(
        request,
        pk,
        lambda s: diary.visit_no_show_undo(session=s, by=request.user),
        "No-show of {name} undone: the visit is booked again.",
    )


@require_POST
@permission_required("scheduling.book_appointments", raise_exception=True)
def session_cancel(request, pk):
    form = CancelForm(request.POST)
    reason = form.data.get("reason", "")
    return _quick_action(
        request,
        pk,
        lambda s: diary.visit_cancel(session=s, reason=reason, by=request.user),
        "Appointment of {name} cancelled.",
    )


def _with_nearest(data):
    """The posted form, with the date and time replaced by the nearest valid slot when "Use this time"
    was pressed (the page then shows the checks at that time, and nothing moves until confirmed)."""
    if data.get("action") != "use-nearest":
        return data
    data = data.copy()
    data["date"], data["time"] = data.get("nearest_date", ""), data.get("nearest_time", "")
    return data


def _refusal_context(error):
    """What a page shows of a refused diary write: the rules broken and the nearest valid time."""
    nearest = getattr(error, "nearest", None)
    local = timezone.localtime(nearest) if nearest else None
    return {
        "nearest": local,
        "nearest_date": f"{local:%Y-%m-%d}" if local else "",
        "nearest_time": f"{local:%H:%M}" if local else "",
        "refused_rules": sorted(getattr(error, "rules", ())),
    }


@permission_required("scheduling.book_appointments", raise_exception=True)
def session_reschedule(request, pk):
    session = get_object_or_404(
        TreatmentSession.objects.select_related("patient", "practitioner", "course__condition"), pk=pk
    )
    if request.method == "GET":
        log_access(request, session, what="schedule")
    local = timezone.localtime(session.starts_at)
    checks, clash_sequence, refusal = None, None, {}
    if request.method == "POST":
        form = RescheduleForm(_with_nearest(request.POST))
        if form.is_valid():
            data = form.cleaned_data
            checks = selectors.reschedule_checks(
                session=session, new_start=data["starts_at"], shift_later=data["shift_later"]
            )
            if request.POST.get("action") == "move":
                try:
                    moved = diary.visit_reschedule(
                        session=session,
                        starts_at=data["starts_at"],
                        shift_later=data["shift_later"],
                        spacing_reason=data["spacing_reason"],
                        by=request.user,
                    )
                except ValidationError as error:
                    clash_sequence = getattr(error, "sequence", None)
                    refusal = _refusal_context(error)
                    form.add_error(None, _error_text(error))
                else:
                    fit = "; ".join(f"{c.label}: {c.message}" for c in checks)
                    count = len(moved)
                    what = "Appointment moved" if count == 1 else f"{count} appointments moved"
                    messages.success(request, f"{what}. {fit}".strip())
                    return redirect(_back_to(request, moved[0]))
    else:
        form = RescheduleForm(initial={"date": local.date(), "time": local.time()})
    return render(
        request,
        "scheduling/reschedule.html",
        {
            "session": session,
            "course_sessions": selectors.course_visits(session.course),
            "window": timeline.spacing_window(session.course, ProtocolSettings.load()),
            "later": diary.later_visits(session),
            "form": form,
            "checks": checks,
            "clash_sequence": clash_sequence,
            "next": safe_next(request),
            "back_url": _back_to(request, session),
            **refusal,
        },
    )


@permission_required("scheduling.book_appointments", raise_exception=True)
def session_rebook(request, pk):
    """Book again the treatment a no-show or a cancellation missed, shifting the later visits if asked."""
    missed = get_object_or_404(
        TreatmentSession.objects.select_related("patient", "practitioner", "course__condition"), pk=pk
    )
    course = missed.course
    if request.method == "GET":
        log_access(request, missed, what="schedule")
    protocol = ProtocolSettings.load()
    sessions = selectors.course_visits(course)
    refusal = {}
    if missed.status not in (SessionStatus.NO_SHOW, SessionStatus.CANCELLED) or not course.is_open:
        messages.error(request, "Only a missed or cancelled visit of an open course is rebooked.")
        return redirect("courses:course-detail", course.pk)
    if request.method == "POST":
        form = RescheduleForm(_with_nearest(request.POST))
        if form.is_valid() and request.POST.get("action") == "move":
            data = form.cleaned_data
            try:
                booked = diary.visit_rebook(
                    missed=missed,
                    starts_at=data["starts_at"],
                    shift_later=data["shift_later"],
                    spacing_reason=data["spacing_reason"],
                    by=request.user,
                )
            except ValidationError as error:
                refusal = _refusal_context(error)
                form.add_error(None, _error_text(error))
            else:
                when = timezone.localtime(booked.starts_at)
                messages.success(
                    request, f"Treatment {booked.sequence} rebooked for {when:%a %d %b %Y at %H:%M}."
                )
                return redirect(_back_to(request, booked))
    else:
        suggested = selectors.suggested_first_day(course, protocol, sessions)
        form = RescheduleForm(
            initial={"date": suggested, "time": timezone.localtime(missed.starts_at).time()}
        )
    return render(
        request,
        "scheduling/rebook.html",
        {
            "missed": missed,
            "course": course,
            "course_sessions": sessions,
            "window": timeline.spacing_window(course, protocol),
            "to_book": timeline.numbers_to_book(course, sessions),
            "later": diary.later_visits(missed),
            "form": form,
            "next": safe_next(request),
            "back_url": safe_next(request, default=reverse("scheduling:day")),
            **refusal,
        },
    )


@require_POST
@permission_required("scheduling.book_appointments", raise_exception=True)
def session_no_show_follow_up(request, pk):
    session = get_object_or_404(TreatmentSession.objects.select_related("patient"), pk=pk)
    form = NoShowFollowUpForm(request.POST)
    if form.is_valid():
        try:
            diary.no_show_follow_up_record(
                session=session,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, f"Follow-up of {session.patient.full_name}'s no-show recorded.")
    else:
        messages.error(
            request, "Nothing was recorded: " + " ".join(e for errors in form.errors.values() for e in errors)
        )
    return redirect(f"{reverse('scheduling:worklists')}#no-shows")


@require_POST
def session_move_to_now(request, pk):
    """The patient is here now: their visit booked for another time moves to now (checked in)."""
    can_log = request.user.has_perms(("courses.change_treatmentsession", "courses.view_clinical"))
    if not (can_log or request.user.has_perm("scheduling.book_appointments")):
        raise PermissionDenied
    session = get_object_or_404(TreatmentSession.objects.select_related("practitioner", "course"), pk=pk)
    practitioner = request.user if request.user.is_practitioner else None
    try:
        moved = diary.visit_move_to_now(
            session=session,
            practitioner=practitioner,
            spacing_reason=request.POST.get("spacing_reason", ""),
            by=request.user,
        )
    except ValidationError as error:
        messages.error(request, f"The visit was not moved: {_error_text(error)}")
        if can_log:
            return redirect("courses:session-log", session.pk)
        return redirect(_back_to(request, session))
    messages.success(request, f"Treatment {moved.sequence} moved to now; the patient is checked in.")
    if can_log:
        return redirect("courses:session-log", moved.pk)
    return redirect(_back_to(request, moved))


# --- Booking a course ------------------------------------------------------------------------------


@permission_required("scheduling.book_appointments", raise_exception=True)
def course_book(request, pk):
    course = get_object_or_404(
        TreatmentCourse.objects.select_related("patient", "practitioner", "condition", "consent"), pk=pk
    )
    if request.method == "GET":
        log_access(request, course, what="booking")
    protocol = ProtocolSettings.load()
    sessions = selectors.course_visits(course)
    to_book = timeline.numbers_to_book(course, sessions)
    context = {
        "course": course,
        "existing": [s for s in sessions if timeline.is_treatment(s) or timeline.is_open_visit(s)],
        "sequences": to_book,
        "window": timeline.spacing_window(course, protocol),
        "slot_minutes": protocol.slot_minutes,
    }
    # Front desk sees only that a practitioner must review (templates/patients/_alerts_banner.html).
    context["alerts"] = safety.alerts_for(course.patient, protocol=protocol, course=course, sessions=sessions)
    if not course.is_open:
        messages.error(request, f"This course is {course.get_status_display().lower()}; it cannot be booked.")
        return render(request, "scheduling/book.html", {**context, "first_form": None})
    proposals, formset, refused = {}, None, {}
    if request.method == "POST":
        formset = ProposalFormSet(request.POST, prefix="rows", to_book=to_book)
        first_form = FirstSlotForm(request.POST)
        if formset.is_valid():
            starts = [row["starts_at"] for row in formset.cleaned_data]
            reasons = {i: row.get("spacing_reason", "") for i, row in enumerate(formset.cleaned_data)}
            try:
                created = diary.course_book(
                    course=course, starts=starts, spacing_reasons=reasons, booked_by=request.user
                )
            except diary.BookingRefused as error:
                refused = error.rows
                formset._non_form_errors = formset.error_class([_error_text(error)])
            except ValidationError as error:
                formset._non_form_errors = formset.error_class([_error_text(error)])
            else:
                messages.success(request, f"{len(created)} treatments booked for {course.patient.full_name}.")
                first = timezone.localdate(created[0].starts_at)
                return redirect(
                    f"{reverse('scheduling:week')}?date={first:%Y-%m-%d}&practitioner={course.practitioner_id}"
                )
    else:
        suggested = selectors.suggested_first_day(course, protocol, sessions)
        first_form = FirstSlotForm(
            request.GET or None, initial={"first_date": suggested, "first_time": "09:00"}
        )
        if request.GET and first_form.is_valid() and to_book:
            rows = selectors.course_proposal(
                course=course, first_start=first_form.cleaned_data["first_start"], sessions=sessions
            )
            initial = []
            for row in rows:
                local = timezone.localtime(row.starts_at) if row.starts_at else None
                initial.append(
                    {
                        "date": local.date() if local else row.target_date,
                        "time": local.time() if local else first_form.cleaned_data["first_time"],
                    }
                )
            formset = ProposalFormSet(initial=initial, prefix="rows", to_book=to_book)
            proposals = dict(enumerate(rows))
    rows = []
    if formset is not None:
        previous = timeline.last_visit(sessions)
        previous_day = timeline.local_day(previous.starts_at) if previous else None
        for index, form in enumerate(formset.forms):
            day = _as_date(form["date"].value())
            spacing = None
            if day and previous_day:
                spacing = context["window"].judge((day - previous_day).days)
            error = refused.get(index)
            rows.append(
                {
                    "form": form,
                    "sequence": to_book[index] if index < len(to_book) else None,
                    "proposal": proposals.get(index),
                    "refused": error,
                    **(_refusal_context(error) if error else {}),
                    "spacing": spacing,
                }
            )
            previous_day = day or previous_day
    return render(
        request,
        "scheduling/book.html",
        {**context, "first_form": first_form, "formset": formset, "rows": rows},
    )


def _as_date(value):
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(value or "")
    except ValueError:
        return None


# --- Work lists --------------------------------------------------------------------------------------


@require_GET
@permission_required("scheduling.view_worklists", raise_exception=True)
def worklists(request):
    cap = selectors.WORKLIST_CAP
    to_book, to_book_count = selectors.courses_to_book_first(cap)
    no_shows = selectors.no_shows_to_call()
    follow_ups, follow_ups_count = selectors.follow_ups_due_first(cap)
    context = {
        "cap": cap,
        "to_book": to_book,
        "to_book_count": to_book_count,
        "overdue": selectors.overdue_sessions_first(cap),
        "overdue_count": selectors.overdue_sessions().count(),
        "no_shows": list(no_shows[:cap]),
        "no_shows_count": no_shows.count(),
        "follow_ups": follow_ups,
        "follow_ups_count": follow_ups_count,
    }
    context["can_book"] = request.user.has_perm("scheduling.book_appointments")
    context["follow_up_form"] = NoShowFollowUpForm()
    return render(request, "scheduling/worklists.html", context)


# --- Working hours and closures ----------------------------------------------------------------------


@permission_required("scheduling.view_workinghours", raise_exception=True)
def working_hours(request):
    can_edit = request.user.has_perm("scheduling.add_workinghours")
    form = None
    if can_edit:
        form = WorkingHoursForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.working_hours_add(
                    practitioner=data["practitioner"],
                    weekday=data["weekday"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Working hours added.")
                return redirect("scheduling:hours")
    elif request.method == "POST":
        raise PermissionDenied
    team = User.objects.practitioners().prefetch_related(
        Prefetch("working_hours", queryset=WorkingHours.objects.order_by("weekday", "starts_at"))
    )
    return render(request, "scheduling/hours.html", {"team": team, "form": form, "can_edit": can_edit})


@require_POST
@permission_required("scheduling.change_workinghours", raise_exception=True)
def working_hours_delete(request, pk):
    hours = get_object_or_404(WorkingHours, pk=pk)
    hours.delete()
    messages.success(request, f"Removed {hours}.")
    return redirect("scheduling:hours")


@permission_required("scheduling.view_closure", raise_exception=True)
def closures(request):
    can_edit = request.user.has_perm("scheduling.add_closure")
    if request.method == "POST" and not can_edit:
        raise PermissionDenied
    form = ClosureForm(request.POST or None) if can_edit else None
    if form is not None and request.method == "POST" and form.is_valid():
        services.closure_save(closure=form.save(commit=False))
        messages.success(request, "Closure added.")
        return redirect("scheduling:closures")
    today = timezone.localdate()
    upcoming = Closure.objects.filter(ends_on__gte=today)
    page = Paginator(upcoming, 25).get_page(page_number(request.GET.get("page")))
    past = Closure.objects.filter(ends_on__lt=today).order_by("-starts_on")[:10]
    return render(
        request,
        "scheduling/closures.html",
        {"page": page, "past": past, "form": form, "can_edit": can_edit},
    )


@permission_required("scheduling.change_closure", raise_exception=True)
def closure_edit(request, pk):
    closure = get_object_or_404(Closure, pk=pk)
    form = ClosureForm(request.POST or None, instance=closure)
    if request.method == "POST" and form.is_valid():
        services.closure_save(closure=form.save(commit=False))
        messages.success(request, "Closure saved.")
        return redirect("scheduling:closures")
    return render(request, "scheduling/closure_form.html", {"form": form, "closure": closure})


@require_POST
@permission_required("scheduling.change_closure", raise_exception=True)
def closure_delete(request, pk):
    closure = get_object_or_404(Closure, pk=pk)
    closure.delete()
    messages.success(request, f"Removed closure {closure}.")
    return redirect("scheduling:closures")


# --- Calendar feed -----------------------------------------------------------------------------------


@permission_required("scheduling.use_calendar_feed", raise_exception=True)
def feed_settings(request):
    if request.method == "POST":
        action = request.POST.get("action")
        if action in ("enable", "regenerate"):
            services.calendar_feed_enable(practitioner=request.user)
            messages.success(request, "Your calendar feed has a new private address.")
        elif action == "disable":
            services.calendar_feed_disable(practitioner=request.user)
            messages.success(request, "Your calendar feed is off; its old address no longer works.")
        return redirect("scheduling:feed-settings")
    feed = CalendarFeed.objects.filter(practitioner=request.user).first()
    feed_url = request.build_absolute_uri(reverse("scheduling:feed", args=[feed.token])) if feed else ""
    return render(request, "scheduling/feed_settings.html", {"feed": feed, "feed_url": feed_url})


@require_GET
@never_cache
@login_not_required
def feed(request, token):
    """The practitioner's appointments as iCalendar: initials and times only, for phone calendars."""
    feed = CalendarFeed.objects.select_related("practitioner").filter(token=token).first()
    # The feed lasts only as long as the role that gave it: an account that lost the Practitioner role
    # (or was deactivated) gets "not found", exactly like a revoked address.
    if feed is None or not feed.practitioner.has_perm("scheduling.use_calendar_feed"):
        raise Http404
    response = HttpResponse(
        practitioner_calendar(feed.practitioner), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="prolotrack.ics"'
    return response
