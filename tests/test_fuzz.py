"""Fuzz (Hypothesis): junk in every form and every query parameter of every page, as each role.

The forms are the ones the pages really show: each page of the project (tests/urls_inventory.py) is opened
as the role, and every form on it is posted back to its action with its fields, management data included,
filled with junk: extreme dates and numbers, NUL bytes, long and unicode strings, markup, formulas, lying
formset counts, and the ids of other patients' records. Every page is also requested with junk in each
query parameter any page reads (tests/test_junk_queries.py) and in its own GET forms' fields, and with
other records' ids in its path.

Nothing may answer with a server error, and a refused submission (a 4xx, a form or formset with errors,
an error message) must change no row: every change to clinical rows, catalogues and staff writes an audit
entry (tests/clinic/test_audit_guard.py holds the code to that), so the count of change entries is the
witness. Derandomized (the same examples on every run and in CI) and bounded: FUZZ_EXAMPLES sweeps of the
whole site per role, well under a minute on SQLite.
"""

import datetime
import os
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from auditlog.models import LogEntry
from django.contrib import messages
from django.db import transaction
from django.forms import BaseForm, BaseFormSet
from django.test import Client
from django.urls import get_resolver
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.factories import (
    CalendarFeedFactory,
    ClosureFactory,
    OutcomeScoreFactory,
    PatientFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
    WorkingHoursFactory,
)
from tests.test_junk_queries import PARAMS
from tests.urls_inventory import _walk

pytestmark = pytest.mark.fuzz

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))
# Posting these would end the fuzzing session itself rather than test a form.
SKIPPED_ACTIONS = ("/accounts/logout/",)

JUNK = [
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "99999999999999999999",
    "²",
    "-9223372036854775809",
    "1e308",
    "NaN",
    "inf",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "31/12/9999",
    "25:61",
    "9999-12-31T23:59",
    "a\x00b",
    "\x00",
    "x" * 5000,
    "ü\u202eöß 漢字 🩺",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '=HYPERLINK("http://evil.example")',
    "javascript:alert(1)",
    "//evil.example",
    "on",
    "None",
    "[]",
]


class _Forms(HTMLParser):
    """Every <form> of a page: its method, action and fields (name -> list of values it offers)."""

    def __init__(self):
        super().__init__()
        self.forms, self.current, self.select = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.current = {
                "method": (attrs.get("method") or "get").lower(),
                "action": attrs.get("action") or "",
                "fields": {},
            }
            self.forms.append(self.current)
        elif (
            self.current is not None
            and tag in ("input", "textarea", "select", "button")
            and attrs.get("name")
        ):
            values = self.current["fields"].setdefault(attrs["name"], [])
            if attrs.get("value") is not None:
                values.append(attrs["value"])
            if tag == "select":
                self.select = values
        elif tag == "option" and self.select is not None and attrs.get("value"):
            self.select.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def forms_of(html):
    parser = _Forms()
    parser.feed(html)
    return parser.forms


@pytest.fixture
def clinic(practitioner, front_desk, clinic_admin, works_every_day):
    """Two patients with courses, sessions, scores and a consent; hours, a closure and a feed."""
    mine = TreatmentCourseFactory(practitioner=practitioner)
    other = TreatmentCourseFactory(patient=PatientFactory(family_name="Other"))
    sessions = [
        TreatmentSessionFactory(course=mine, sequence=1, completed=True),
        TreatmentSessionFactory(course=mine, sequence=2),
        TreatmentSessionFactory(course=other, sequence=1, completed=True),
        TreatmentSessionFactory(course=other, sequence=2),
    ]
    OutcomeScoreFactory(course=mine)
    OutcomeScoreFactory(course=other)
    CalendarFeedFactory(practitioner=practitioner)
    ClosureFactory()
    WorkingHoursFactory(practitioner=UserFactory(role="Practitioner"), weekday=0)
    return {"mine": mine, "other": other, "sessions": sessions}


def _ids():
    """Every id of the main records, of both patients: the ids junk picks from."""
    from clinic.models import User
    from courses.models import OutcomeScore, TreatmentCourse, TreatmentSession
    from patients.models import Consent, Patient

    ids = set()
    for model in (Patient, Consent, TreatmentCourse, TreatmentSession, OutcomeScore, User):
        ids.update(model.objects.values_list("pk", flat=True))
    return sorted(ids)


def pages(clinic):
    """(url name, path) for every page, its ids those of the first patient's records."""
    from django.contrib.contenttypes.models import ContentType

    course, session = clinic["mine"], clinic["sessions"][1]
    patient = course.patient
    by_prefix = [
        ("patients/consents/", course.consent_id),
        ("patients/", patient.pk),
        ("audit/patients/", patient.pk),
        ("outcomes/patients/", patient.pk),
        ("courses/sessions/", session.pk),
        ("schedule/sessions/", session.pk),
        ("courses/", course.pk),
        ("schedule/courses/", course.pk),
        ("audit/staff/", course.practitioner_id),
        ("audit/two-factor/", course.practitioner_id),
    ]
    found = []
    for name, route in _walk(get_resolver().url_patterns):
        if not name or name.startswith("admin:") or "(?P<" in route:
            continue
        number = next((pk for prefix, pk in by_prefix if route.startswith(prefix)), 1)
        if name == "clinic:history":
            path = f"/audit/history/{ContentType.objects.get_for_model(patient).pk}/{patient.pk}/"
        else:
            path = re.sub(r"<int:\w+>", str(number), route, count=1)
            path = re.sub(r"<int:\w+>", str(course.scores.first().pk), path)
            path = path.replace("<slug:name>", "pain-by-session").replace("<str:token>", "x")
        found.append((name, "/" + path))
    return found


def changes():
    return LogEntry.objects.exclude(action=LogEntry.Action.ACCESS).count()


def refused(response):
    if response.status_code >= 400:
        return True
    request = response.wsgi_request
    queued = getattr(getattr(request, "_messages", None), "_queued_messages", [])
    if any(message.level >= messages.ERROR for message in queued):
        return True
    for context in response.context or []:
        for value in context.flatten().values():
            if isinstance(value, BaseForm) and value.is_bound and value.errors:
                return True
            if (
                isinstance(value, BaseFormSet)
                and value.is_bound
                and (any(value.errors) or value.non_form_errors())
            ):
                return True
    return False


def junk(ids):
    return st.one_of(
        st.sampled_from(JUNK),
        st.text(max_size=40),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.dates(min_value=datetime.date(1, 1, 1)).map(str),
        st.floats().map(str),
        st.sampled_from(ids).map(str),
    )


class Sweep:
    """One role's pass over the site with values drawn from Hypothesis."""

    def __init__(self, user, site, ids, draw):
        self.user, self.site, self.ids, self.draw = user, site, ids, draw
        self.client = Client()
        self.client.force_login(user)
        self.failures = []
        self.names = set(PARAMS)

    def request(self, method, path, data):
        before = changes()
        response = getattr(self.client, method)(path, data)
        if response.status_code >= 500:
            self.failures.append(
                f"{self.user.username} {method.upper()} {path} {data!r}: {response.status_code}"
            )
        elif method == "post" and refused(response) and changes() != before:
            self.failures.append(f"{self.user.username} POST {path} {data!r}: refused, yet rows changed")
        location = response.get("Location", "")
        if location.startswith(("/accounts/login", "/accounts/two-factor", "/q/")):
            # A reset of one's own app, a sign-out, or the tablet handed to a patient: carry on.
            self.client.force_login(self.user)
        return response

    def value(self, offered):
        if offered and self.draw(st.booleans()):
            return self.draw(st.sampled_from(offered))  # a real choice, so junk elsewhere gets further
        return self.draw(junk(self.ids))

    def run(self):
        for _name, path in self.site:
            page = self.client.get(path)
            html = (
                page.content.decode(errors="replace")
                if page.get("Content-Type", "").startswith("text/html")
                else ""
            )
            forms = forms_of(html)
            params = {name: [] for name in PARAMS}
            for form in forms:
                if form["method"] == "get":
                    params.update(form["fields"])
            chosen = self.draw(st.lists(st.sampled_from(sorted(params)), max_size=6, unique=True))
            other_id = str(self.draw(st.sampled_from(self.ids)))
            self.request("get", re.sub(r"/\d+/", f"/{other_id}/", path, count=1), {})
            self.request("get", path, {name: self.value(params[name]) for name in chosen})
            # Every address takes a junk POST too, also those whose form this role is not shown.
            self.names.update(name for form in forms for name in form["fields"])
            names = self.draw(st.lists(st.sampled_from(sorted(self.names)), max_size=8, unique=True))
            self.request("post", path, {name: self.value([]) for name in names})
            for form in forms:
                action = urlsplit(form["action"]).path or path
                if form["method"] != "post" or action in SKIPPED_ACTIONS:
                    continue
                data = {name: self.value(offered) for name, offered in form["fields"].items()}
                if self.draw(st.booleans()):
                    action = re.sub(r"/\d+/", f"/{self.draw(st.sampled_from(self.ids))}/", action, count=1)
                self.request("post", action, data)
        return self.failures


@pytest.mark.parametrize("role", ["front_desk", "practitioner", "clinic_admin"])
def test_no_junk_in_any_form_or_query_parameter_causes_an_error_or_a_change_when_refused(
    role, request, clinic
):
    user = request.getfixturevalue(role)
    site = pages(clinic)
    ids = _ids()

    @settings(
        max_examples=FUZZ_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def sweep(data):
        # Each example starts from the same rows (a savepoint rolled back), so a failing one replays alike.
        with transaction.atomic():
            failures = Sweep(user, site, ids, data.draw).run()
            transaction.set_rollback(True)
        assert failures == []

    sweep()
