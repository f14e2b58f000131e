"""The one place request input is made safe before a view, and so the database, sees it.

`RequestInputMiddleware` refuses, with a 400 page saying what was wrong, any request carrying a NUL
character (PostgreSQL cannot store one and fails on a query containing it) in its path, query string,
posted fields, uploaded file names or headers, and any query-string value longer than any page of ours
takes. A refused sign-in still counts as a failed attempt for the lockout (`count_refused_sign_in`), so
junk cannot be used to try passwords without the counter moving.
"""

import datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db import models
from django.http import UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

NUL = "\x00"
# The longest single query-string value a page of ours reads (a search, a `next` address with its filters).
MAX_QUERY_VALUE = 2000
# Django's own user name limit: anything longer cannot be an account, but is still a failed attempt.
MAX_USERNAME = 150


def _has_nul(values):
    return any(NUL in value for value in values if isinstance(value, str))


def _query_values(querydict):
    for key, values in querydict.lists():
        yield key
        yield from values


def problem_with(request):
    """What is wrong with the request's input, in the user's words, or ''."""
    if NUL in request.path or NUL in request.META.get("QUERY_STRING", ""):
        return "The address contains a NUL character, which no page accepts."
    if _has_nul(_query_values(request.GET)):
        return "The address contains a NUL character, which no page accepts."
    if any(len(value) > MAX_QUERY_VALUE for value in _query_values(request.GET)):
        return f"A value in the address is longer than {MAX_QUERY_VALUE} characters."
    if _has_nul(value for key, value in request.META.items() if key.startswith("HTTP_")):
        return "A request header contains a NUL character, which is not accepted."
    if request.method == "POST":
        try:
            return _body_problem(request)
        except (MultiPartParserError, UnreadablePostError):
            return "The form data could not be read. Nothing was saved."
    return ""


def _body_problem(request):
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        names = [upload.name or "" for upload in request.FILES.values()]
        if _has_nul(_query_values(request.POST)) or _has_nul(names):
            return "A field contains a NUL character, which no form accepts. Nothing was saved."
    elif b"\x00" in request.body or b"\\u0000" in request.body:
        return "The request contains a NUL character, which is not accepted. Nothing was saved."
    return ""


def sign_in_username(request, credentials=None):
    """The user name a sign-in attempt is counted under (AXES_USERNAME_CALLABLE): as typed, without NUL
    characters and cut to the longest possible user name, so every attempt can be recorded."""
    source = credentials if credentials is not None else request.POST
    username = source.get(settings.AXES_USERNAME_FORM_FIELD) if source else None
    if username is None:
        return None
    return str(username).replace(NUL, "")[:MAX_USERNAME]


def count_refused_sign_in(request):
    """Record a sign-in refused before the form saw it as a failed attempt (django-axes listens)."""
    for key, value in list(request.META.items()):
        if isinstance(value, str) and NUL in value:
            request.META[key] = value.replace(NUL, "")
    username = sign_in_username(request) or ""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


class RequestInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = problem_with(request)
        if problem:
            if request.method == "POST" and request.path in (
                reverse(settings.LOGIN_URL),
                reverse("admin:login"),
            ):
                count_refused_sign_in(request)
            return render(request, "refused_input.html", {"problem": problem}, status=400)
        return self.get_response(request)


# --- Dates and page numbers --------------------------------------------------------------------------

# A clinic date (a birth date, a visit, a lot's expiry, a calendar page) lies in this range; outside it is
# a typo (year 0001 or 9999), and the day after 9999-12-31 does not exist, so pages built around it fail.
EARLIEST_DAY = datetime.date(1900, 1, 1)
YEARS_AHEAD = 10
# Far past any real list, and small enough that the database's row offset stays in range.
MAX_PAGE = 100_000


def latest_day():
    today = timezone.localdate()
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def day_range_error():
    return f"Enter a date between {EARLIEST_DAY:%-d %b %Y} and {latest_day():%-d %b %Y}; check the year."


def in_clinic_range(day):
    return EARLIEST_DAY <= day <= latest_day()


def query_day(request, name="date"):
    """The ISO date in the query string when it is a clinic date, else today (and a message when the
    value was a date out of range, so the user knows why the page shows today)."""
    value = request.GET.get(name, "")
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        return timezone.localdate()
    if not in_clinic_range(day):
        messages.warning(request, f"{day_range_error()} Showing today.")
        return timezone.localdate()
    return day


class ClinicDateField(forms.DateField):
    """A form date limited to the clinic's range, with a field error outside it."""

    def validate(self, value):
        super().validate(value)
        if value and not in_clinic_range(value):
            raise ValidationError(day_range_error(), code="out_of_range")


def clinic_formfield(db_field, **kwargs):
    """ModelForm `formfield_callback`: model dates become ClinicDateFields."""
    if isinstance(db_field, models.DateField) and not isinstance(db_field, models.DateTimeField):
        kwargs.setdefault("form_class", ClinicDateField)
    return db_field.formfield(**kwargs)


MAX_RECORD_ID = 2**31 - 1


def record_id(value):
    """A record's id from a query string, a form or a stored reference: a positive int the database can
    take, or None. ASCII digits only: str.isdigit() also takes "²" and other digits int() refuses."""
    text = str(value if value is not None else "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_RECORD_ID else None


def page_number(value):
    """A page number from the query string, as an int the database can take: 1 when it is not a number,
    at most MAX_PAGE, and 0 for zero or less (which Paginator.get_page, like our own pages, shows as the
    last page)."""
    try:
        number = int(str(value or "1").strip()[:12])
    except ValueError:
        return 1
    return min(max(number, 0), MAX_PAGE)


class CheckedFormSet(forms.BaseFormSet):
    """A formset whose management data must match the rows sent: a TOTAL_FORMS larger than the rows in
    the request is refused with a clear error rather than validating phantom rows (every formset of the
    clinic uses it)."""

    def full_clean(self):
        missing = self._rows_missing() if self.is_bound and self.management_form.is_valid() else 0
        if not missing:
            return super().full_clean()
        # Each row is still checked (pages show its errors), but the formset's own rules never see the
        # phantom rows.
        self._errors = [form.errors for form in self.forms]
        self._non_form_errors = self.error_class(
            [
                f"The form said it had {self.total_form_count()} rows but {missing} of them were not "
                "sent. Nothing was saved: reload the page and try again."
            ],
            renderer=self.renderer,
        )

    def _rows_missing(self):
        sent = {key.rsplit("-", 1)[0] for key in self.data}
        return sum(1 for i in range(self.total_form_count()) if self.add_prefix(i) not in sent)
