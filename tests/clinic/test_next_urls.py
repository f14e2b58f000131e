"""Unchecked "Back" links: every page that takes a `next` address renders or follows only our own pages
(clinic.next_url.safe_next)."""

import datetime

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from clinic.next_url import safe_next
from courses.models import SessionStatus
from tests.factories import TreatmentCourseFactory, TreatmentSessionFactory

UNSAFE = [
    "javascript:alert(1)",
    " javascript:alert(1)",
    "JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https://evil.example",
    "https://evil.example/schedule/",
    "//evil.example/",
    "\\\\evil.example",
    "/\\evil.example",
    "http:evil.example",
    # A bare word is no address: redirect() would try it as a URL pattern name (found by tests/test_fuzz.py).
    "H\U000a047cbm\xafF\xc8",
    "patients",
    "schedule/",
]


@pytest.mark.parametrize("target", UNSAFE)
def test_an_unsafe_next_falls_back_to_the_default(target):
    request = RequestFactory().get("/", {"next": target})
    assert safe_next(request, default="/schedule/") == "/schedule/"


@pytest.mark.parametrize("target", ["/schedule/?date=2031-01-06", "http://testserver/patients/"])
def test_one_of_our_pages_is_kept(target):
    assert safe_next(RequestFactory().get("/", {"next": target})) == target


def test_a_posted_next_wins_over_the_query_string():
    request = RequestFactory().post("/?next=/a/", {"next": "/b/"})
    assert safe_next(request) == "/b/"


def test_an_over_long_next_is_refused():
    assert safe_next(RequestFactory().get("/", {"next": "/" + "a" * 3000}), default="/") == "/"


@pytest.fixture
def session(practitioner):
    start = timezone.localtime() + datetime.timedelta(days=7)
    course = TreatmentCourseFactory(practitioner=practitioner)
    return TreatmentSessionFactory(
        course=course, sequence=2, starts_at=start, ends_at=start + datetime.timedelta(minutes=30)
    )


@pytest.fixture
def missed(practitioner):
    start = timezone.localtime() - datetime.timedelta(days=1)
    course = TreatmentCourseFactory(practitioner=practitioner)
    return TreatmentSessionFactory(
        course=course,
        sequence=1,
        starts_at=start,
        ends_at=start + datetime.timedelta(minutes=30),
        status=SessionStatus.NO_SHOW,
        no_show_at=start,
    )


def _assert_not_rendered(response, target):
    assert response.status_code == 200
    body = response.content.decode()
    for form in {target, target.strip()}:
        assert f'href="{form}' not in body
        assert f'value="{form}' not in body
    assert "evil.example" not in body
    assert "javascript:" not in body.lower()


@pytest.mark.parametrize("target", UNSAFE)
def test_the_reschedule_page_never_renders_an_unsafe_back_link(target, session, client_for, front_desk):
    url = reverse("scheduling:session-reschedule", args=[session.pk])
    response = client_for(front_desk).get(url, {"next": target})
    _assert_not_rendered(response, target)
    day = timezone.localdate(session.starts_at)
    assert f'href="{reverse("scheduling:day")}?date={day:%Y-%m-%d}"' in response.content.decode()


@pytest.mark.parametrize("target", UNSAFE)
def test_the_rebook_page_never_renders_an_unsafe_back_link(target, missed, client_for, front_desk):
    url = reverse("scheduling:session-rebook", args=[missed.pk])
    response = client_for(front_desk).get(url, {"next": target})
    _assert_not_rendered(response, target)


def test_the_reschedule_page_keeps_a_safe_back_link(session, client_for, front_desk):
    back = f"{reverse('scheduling:day')}?date=2031-01-06"
    url = reverse("scheduling:session-reschedule", args=[session.pk])
    response = client_for(front_desk).get(url, {"next": back})
    assert f'href="{back}"' in response.content.decode()


@pytest.mark.parametrize("target", ["javascript:alert(1)", "https://evil.example", "patients", "9999-12-31"])
@pytest.mark.parametrize("action", ["session-check-in", "session-cancel", "session-move-to-now"])
def test_quick_actions_never_redirect_off_site(target, action, session, client_for, front_desk):
    response = client_for(front_desk).post(
        reverse(f"scheduling:{action}", args=[session.pk]), {"next": target, "reason": "Unwell"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/")
    assert "evil" not in response["Location"] and "javascript" not in response["Location"]


@pytest.mark.parametrize("target", ["javascript:alert(1)", "https://evil.example", "patients", "9999-12-31"])
def test_a_quick_action_row_never_carries_an_unsafe_next(target, session, client_for, front_desk):
    response = client_for(front_desk).post(
        reverse("scheduling:session-cancel", args=[session.pk]),
        {"next": target, "reason": "Unwell"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "evil.example" not in response.content.decode()
    assert "javascript" not in response.content.decode()


@pytest.mark.parametrize("target", ["javascript:alert(1)", "https://evil.example", "patients", "9999-12-31"])
def test_the_reschedule_save_never_redirects_off_site(target, session, client_for, front_desk):
    day = timezone.localdate() + datetime.timedelta(days=8)
    response = client_for(front_desk).post(
        reverse("scheduling:session-reschedule", args=[session.pk]),
        {"date": day.isoformat(), "time": "15:00", "action": "move", "next": target},
    )
    location = response.get("Location", "")
    assert "evil" not in location and "javascript" not in location
    assert "evil.example" not in response.content.decode()


@pytest.mark.parametrize("target", ["javascript:alert(1)", "https://evil.example"])
def test_the_sign_in_page_never_carries_an_unsafe_next(target, client):
    response = client.get(reverse("login"), {"next": target})
    _assert_not_rendered(response, target)


@pytest.mark.parametrize("target", ["patients", "9999-12-31", "two-factor"])
def test_the_code_page_never_follows_a_bare_word(target, client_for, clinic_admin):
    # The second-factor page redirected such a next as a URL pattern name: a 500 (tests/test_fuzz.py).
    response = client_for(clinic_admin).get(reverse("two-factor-verify"), {"next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
