"""The one place request input is made safe before a view, and so the database, sees it.

`RequestInputMiddleware` refuses, with a 400 page saying what was wrong, any request carrying a NUL
character (PostgreSQL cannot store one and fails on a query containing it) in its path, query string,
posted fields, uploaded file names or headers, and any query-string value longer than any page of ours
takes. A refused sign-in still counts as a failed attempt for the lockout (`count_refused_sign_in`), so
junk cannot be used to try passwords without the counter moving.
"""

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import reverse

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
