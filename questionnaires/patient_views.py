"""The patient's pages, reached by a questionnaire link without an account.

These are the only pages of ProloTrack open without signing in (besides /healthz and the calendar feed):
each is marked @login_not_required and reachable before a second factor, shows nothing of the staff site
(its own base template: no menu, no staff names), and reads nothing but the assignment its link opens.
Once the patient has confirmed their date of birth, a cookie signed by Django (django.core.signing, tied to
the current link and scoped to /q/) lets them move between questions and come back for two hours; the
answers themselves are saved on the server at every step.
"""

import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from clinic.two_factor import second_factor_not_required
from questionnaires import services
from questionnaires.forms import AnswerForm, BirthDateForm, initial_answer

CONFIRMED_FOR = datetime.timedelta(hours=2)
COOKIE_SALT = "questionnaires.confirmed"
COOKIE_PATH = "/q/"
REFUSED_STATUS = {services.UNKNOWN: 404, services.EXPIRED: 410, services.LOCKED: 429, services.NOT_YET: 403}


def patient_page(view):
    """Open without an account or a second factor; never cached (the pages carry answers)."""
    return second_factor_not_required(login_not_required(never_cache(view)))


def _context(**extra):
    return {"clinic_name": settings.CLINIC_NAME, "clinic_phone": settings.CLINIC_PHONE, **extra}


def _refused(request, state, assignment=None):
    context = _context(state=state)
    if state == services.LOCKED:
        context["until"] = timezone.localtime(assignment.locked_until)
    if state == services.NOT_YET:
        context["opens"] = timezone.localtime(assignment.opens_at)
    return render(request, "questionnaires/link_refused.html", context, status=REFUSED_STATUS[state])


def _cookie_name(assignment):
    return f"q{assignment.pk}"


def _confirmed(request, assignment):
    value = request.get_signed_cookie(
        _cookie_name(assignment), default=None, salt=COOKIE_SALT, max_age=CONFIRMED_FOR.total_seconds()
    )
    return value is not None and value == assignment.token_hash[:20]


def _remember(response, assignment, now):
    max_age = int(min(CONFIRMED_FOR, assignment.closes_at - now).total_seconds())
    response.set_signed_cookie(
        _cookie_name(assignment),
        assignment.token_hash[:20],
        salt=COOKIE_SALT,
        max_age=max_age,
        path=COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _open(token, now):
    assignment = services.assignment_for_token(token)
    return assignment, services.link_state(assignment, now)


class Progress:
    """The questions the patient sees, in order (an item showing an earlier answer that was left empty is
    skipped: a rating of an activity they did not name), and their answers so far."""

    def __init__(self, assignment):
        self.items = list(assignment.questionnaire.items.prefetch_related("choices"))
        self.answers = {a.item_id: a for a in assignment.answers.select_related("choice", "item")}
        self.visible = [item for item in self.items if self._shown(item)]

    def _shown(self, item):
        if item.shows_answer_of_id is None:
            return True
        earlier = self.answers.get(item.shows_answer_of_id)
        return earlier is not None and not earlier.is_blank

    def first_unanswered(self):
        for number, item in enumerate(self.visible, start=1):
            if item.pk not in self.answers:
                return number
        return None


def _next_page(token, progress):
    number = progress.first_unanswered()
    if number is None:
        return redirect("answer:review", token)
    return redirect("answer:question", token, number)


@require_http_methods(["GET", "POST"])
@patient_page
def start(request, token):
    """Opening the link: who it is from, and the date-of-birth check. Opening alone changes nothing."""
    now = timezone.now()
    assignment, state = _open(token, now)
    if state != services.USABLE:
        return _refused(request, state, assignment)
    if request.method == "GET" and _confirmed(request, assignment):
        return _next_page(token, Progress(assignment))
    form = BirthDateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                right = services.identity_confirm(
                    assignment=assignment, date_of_birth=form.cleaned_data["date_of_birth"], now=now
                )
            except ValidationError:
                assignment, state = _open(token, now)
                return _refused(request, state if state != services.USABLE else services.UNKNOWN, assignment)
            if right:
                assignment.refresh_from_db()
                return _remember(_next_page(token, Progress(assignment)), assignment, now)
            assignment.refresh_from_db()
            if assignment.is_locked_at(now):
                return _refused(request, services.LOCKED, assignment)
            form.add_error(
                None, "That date of birth does not match our records. Please check the day, month and year."
            )
        status = 400
    return render(
        request,
        "questionnaires/start.html",
        _context(form=form, tries_left=services.WRONG_BIRTH_DATES_ALLOWED - assignment.failed_checks),
        status=status,
    )


def _answering(request, token, now):
    """(assignment, None) when the link is usable and the patient confirmed; else (None, a response)."""
    assignment, state = _open(token, now)
    if state != services.USABLE:
        return None, _refused(request, state, assignment)
    if not _confirmed(request, assignment):
        return None, redirect("answer:start", token)
    return assignment, None


@require_http_methods(["GET", "POST"])
@patient_page
def question(request, token, number):
    now = timezone.now()
    assignment, refused = _answering(request, token, now)
    if refused:
        return refused
    progress = Progress(assignment)
    if not 1 <= number <= len(progress.visible):
        return _next_page(token, progress)
    item = progress.visible[number - 1]
    status = 200
    if request.method == "POST":
        form = AnswerForm(item, request.POST)
        if form.is_valid():
            try:
                services.answer_save(
                    assignment=assignment, item=item, raw=form.cleaned_data["answer"], now=now
                )
            except ValidationError as error:
                form.add_error("answer", error)
            else:
                progress = Progress(assignment)
                following = number + 1
                if following <= len(progress.visible) and request.POST.get("review") != "1":
                    return redirect("answer:question", token, following)
                return redirect("answer:review", token)
        status = 400
    else:
        form = AnswerForm(item, initial={"answer": initial_answer(progress.answers.get(item.pk))})
    shown = progress.answers.get(item.shows_answer_of_id) if item.shows_answer_of_id else None
    context = _context(
        form=form,
        item=item,
        number=number,
        count=len(progress.visible),
        shown_answer=shown,
        back_url=reverse("answer:question", args=[token, number - 1]) if number > 1 else "",
        from_review=request.GET.get("review") == "1" or request.POST.get("review") == "1",
    )
    return render(request, "questionnaires/question.html", context, status=status)


@require_http_methods(["GET", "POST"])
@patient_page
def review(request, token):
    """Every answer, each with a way to change it, and the button that sends them."""
    now = timezone.now()
    assignment, refused = _answering(request, token, now)
    if refused:
        return refused
    error = ""
    if request.method == "POST":
        try:
            services.response_submit(assignment=assignment, now=now)
        except ValidationError as problem:
            error = " ".join(problem.messages)
        else:
            response = redirect("answer:done")
            response.delete_cookie(_cookie_name(assignment), path=COOKIE_PATH)
            return response
    progress = Progress(assignment)
    rows = [
        {
            "number": number,
            "text": item.text,
            "answer": progress.answers.get(item.pk),
            "url": reverse("answer:question", args=[token, number]) + "?review=1",
        }
        for number, item in enumerate(progress.visible, start=1)
    ]
    return render(
        request, "questionnaires/review.html", _context(rows=rows, error=error), status=400 if error else 200
    )


@require_GET
@patient_page
def done(request):
    return render(request, "questionnaires/done.html", _context())
