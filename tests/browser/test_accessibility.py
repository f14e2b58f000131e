"""axe-core on the pages each role works in, filled with realistic rows: no serious or critical violations.

The whole document is checked, menu included, as the role that sees the most controls on it."""

import datetime

import pytest
from django.utils import timezone

from clinic import roles
from courses.models import SessionStatus
from tests.browser.kit import axe_violations, sign_in
from tests.factories import (
    ConsentFactory,
    LotFactory,
    OutboundMessageFactory,
    PatientFactory,
    ScreeningFactory,
    SideEffectFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
)
from tests.outcomes.conftest import build_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "correct-horse-battery"


def at(day, hour):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def clinic():
    practitioner = UserFactory(
        username="dr.hale", first_name="Morgan", last_name="Hale", role=roles.PRACTITIONER
    )
    UserFactory(username="desk", role=roles.FRONT_DESK)
    UserFactory(username="admin", role=roles.CLINIC_ADMIN)
    build_clinic(practitioner)
    ada = PatientFactory(given_name="Ada", family_name="Quinn")
    ScreeningFactory(patient=ada, screened_by=practitioner, anticoagulant=True, allergy_latex=True)
    ConsentFactory(patient=ada, taken_by=practitioner)
    today = timezone.localdate()
    course = TreatmentCourseFactory(
        patient=ada,
        practitioner=practitioner,
        baseline_pain=8,
        start_date=today - datetime.timedelta(days=28),
    )
    first = TreatmentSessionFactory(course=course, sequence=1, completed=True, pain_pre=7)
    TreatmentSessionFactory(course=course, sequence=2, completed=True, pain_pre=6)
    SideEffectFactory(attributed_session=first)
    LotFactory()
    checked_in = TreatmentSessionFactory(
        course=course,
        sequence=3,
        status=SessionStatus.CHECKED_IN,
        starts_at=at(today, 10),
        ends_at=at(today, 11),
    )
    other = TreatmentCourseFactory(practitioner=practitioner, start_date=today)
    TreatmentSessionFactory(course=other, sequence=1, starts_at=at(today, 15), ends_at=at(today, 16))
    OutboundMessageFactory(failed=True)
    OutboundMessageFactory(status="sent", sent_at=timezone.now(), attempts=1)
    return {"patient": ada, "course": course, "session": checked_in}


def check(page, url, seen, who="signed out"):
    page.goto(url)
    seen[f"{url} as {who}"] = axe_violations(page)


def test_the_pages_of_every_role_have_no_serious_accessibility_violations(page, live_server, clinic):
    base, seen = live_server.url, {}
    check(page, f"{base}/accounts/login/", seen)

    sign_in(page, live_server, "dr.hale", PASSWORD)
    for path in (
        "/",
        "/patients/",
        f"/patients/{clinic['patient'].pk}/",
        f"/courses/{clinic['course'].pk}/",
        f"/courses/sessions/{clinic['session'].pk}/log/",
        "/schedule/",
        "/schedule/week/",
    ):
        check(page, base + path, seen, "practitioner")

    page.context.clear_cookies()
    sign_in(page, live_server, "desk", PASSWORD)
    for path in ("/", "/patients/", f"/patients/{clinic['patient'].pk}/", "/schedule/", "/schedule/week/"):
        check(page, base + path, seen, "front desk")

    page.context.clear_cookies()
    sign_in(page, live_server, "admin", PASSWORD)
    for path in ("/", "/outcomes/", "/outcomes/courses/", "/audit/messages/"):
        check(page, base + path, seen, "clinic admin")

    failing = {page_: found for page_, found in seen.items() if found}
    assert not failing, "\n".join(f"{page_}: {found}" for page_, found in failing.items())
