"""Front desk's day in Chromium: register a patient (one of them a possible duplicate), book a course
a practitioner planned, move session 3 and check the patient in from today's list, by visible labels only."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic import roles
from courses.models import SessionStatus
from patients.models import Patient
from tests.browser.kit import axe_violations, sign_in
from tests.factories import (
    PatientFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
    WorkingHoursFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "correct-horse-battery"


def next_monday(weeks_ahead=1):
    today = timezone.localdate()
    return today + datetime.timedelta(days=7 * weeks_ahead - today.weekday())


def register(page, live_server, *, given, family, born, phone):
    page.goto(f"{live_server.url}/patients/")
    page.get_by_role("link", name="Register a new patient").click()
    page.get_by_label("Given name").fill(given)
    page.get_by_label("Family name").fill(family)
    page.get_by_label("Date of birth").fill(born.isoformat())
    page.get_by_label("Sex").select_option(label="Female")
    page.get_by_label("Phone", exact=False).first.fill(phone)
    page.get_by_role("button", name="Register patient").click()


@pytest.fixture
def clinic():
    """Dr Hale works 9–17 every weekday and planned a six-session knee course for Ada Quinn, who also
    has an appointment today from an earlier course."""
    practitioner = UserFactory(
        username="dr.hale", first_name="Morgan", last_name="Hale", role=roles.PRACTITIONER
    )
    for weekday in range(7):
        WorkingHoursFactory(
            practitioner=practitioner, weekday=weekday, starts_at=datetime.time(8), ends_at=datetime.time(18)
        )
    UserFactory(username="desk", first_name="Sam", last_name="Reyes", role=roles.FRONT_DESK)
    ada = PatientFactory(given_name="Ada", family_name="Quinn", date_of_birth=datetime.date(1961, 3, 14))
    planned = TreatmentCourseFactory(
        patient=ada,
        practitioner=practitioner,
        planned_sessions=6,
        interval_days=14,
        status="planned",
        start_date=next_monday(),
    )
    earlier = TreatmentCourseFactory(patient=ada, practitioner=practitioner, body_region="shoulder")
    noon = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(12)))
    today = TreatmentSessionFactory(
        course=earlier, sequence=2, starts_at=noon, ends_at=noon + datetime.timedelta(minutes=30)
    )
    return {"ada": ada, "course": planned, "today": today}


def test_front_desk_registers_books_moves_and_checks_in_without_touching_clinical_records(
    page, live_server, clinic
):
    ada, course = clinic["ada"], clinic["course"]
    sign_in(page, live_server, "desk", PASSWORD)
    menu = page.get_by_role("navigation").first
    expect(menu.get_by_role("link", name="Patients")).to_be_visible()
    expect(menu.get_by_role("link", name="Outcomes")).to_have_count(0)

    # A new patient.
    register(
        page, live_server, given="Bea", family="Nolan", born=datetime.date(1980, 6, 2), phone="07700 900123"
    )
    expect(page.get_by_text("Bea Nolan registered as")).to_be_visible()

    # Someone with Ada's name and date of birth: the duplicate warning, then a confirmed registration.
    register(page, live_server, given="Ada", family="Quinn", born=ada.date_of_birth, phone="07700 900456")
    expect(page.get_by_text(ada.mrn).first).to_be_visible()
    confirm = page.get_by_label("These are different people — register anyway")
    expect(confirm).to_be_visible()
    assert page.get_by_label("Given name").input_value() == "Ada"
    confirm.check()
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_text("Ada Quinn registered as")).to_be_visible()
    assert Patient.objects.filter(given_name="Ada", family_name="Quinn").count() == 2

    # Nothing clinical on the way: no screening, consent or course planning, no session logging.
    # Find Ada by typing in the live search (htmx swaps the rows in place).
    page.get_by_role("navigation").first.get_by_role("link", name="Patients").click()
    expect(page.get_by_role("link", name="Nolan, Bea")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Search").fill("Quinn")
    expect(page.get_by_role("link", name="Nolan, Bea")).to_have_count(0)
    expect(page.get_by_role("link", name="Quinn, Ada")).to_have_count(2)
    assert page.evaluate("window.__sameDocument") is True
    assert not axe_violations(page)
    page.get_by_role("row").filter(has_text=ada.mrn).get_by_role("link", name="Quinn, Ada").click()
    page.wait_for_url(f"{live_server.url}/patients/{ada.pk}/")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Record screening")).to_have_count(0)
    expect(main.get_by_role("link", name="Plan a course")).to_have_count(0)
    expect(main.get_by_text("Log this session")).to_have_count(0)
    assert not axe_violations(page)

    # Book the practitioner's plan from the course page.
    page.goto(f"{live_server.url}/courses/{course.pk}/")
    expect(page.get_by_role("link", name="Log treatment")).to_have_count(0)
    page.get_by_role("link", name="Book sessions").click()
    first_day = next_monday()
    page.get_by_label("First session date").fill(first_day.isoformat())
    page.get_by_label("Time").first.fill("10:00")
    page.get_by_role("button", name="Propose 6 treatments").click()
    expect(page.get_by_role("button", name="Confirm and book all")).to_be_visible()
    assert not axe_violations(page)
    page.get_by_role("button", name="Confirm and book all").click()
    expect(page.get_by_text("6 treatments booked for Ada Quinn")).to_be_visible()
    sessions = list(course.sessions.order_by("sequence"))
    assert [s.starts_at.date() for s in sessions] == [
        first_day + datetime.timedelta(days=14 * n) for n in range(6)
    ]
    assert not axe_violations(page)

    # Session 3 a day later: the page says how the sessions around it still fit.
    third = sessions[2]
    page.goto(f"{live_server.url}/schedule/sessions/{third.pk}/reschedule/")
    new_day = third.starts_at.date() + datetime.timedelta(days=1)
    page.get_by_label("New date").fill(new_day.isoformat())
    page.get_by_role("button", name="Check spacing").click()
    checks = page.locator("#spacing-checks")
    expect(checks).to_contain_text("treatment 2")
    expect(checks).to_contain_text("treatment 4")
    page.get_by_role("button", name="Move appointment").click()
    # Alone, it would sit 13 days before treatment 4: refused, with the rule named and a nearest slot.
    expect(page.get_by_role("alert").filter(has_text="spacing window")).to_be_visible()
    expect(page.get_by_text("Nearest free time").first).to_be_visible()
    assert not axe_violations(page)
    third.refresh_from_db()
    assert timezone.localtime(third.starts_at).date() == new_day - datetime.timedelta(days=1)
    # Shifting the later visits with it keeps every gap at 14 days.
    page.get_by_label("Shift the later booked visits of this course by the same amount").check()
    page.get_by_role("button", name="Move appointment").click()
    expect(page.get_by_text("4 appointments moved")).to_be_visible()
    third.refresh_from_db()
    assert timezone.localtime(third.starts_at).date() == new_day

    # Today's list: check Ada in for her appointment from the earlier course, without a reload.
    page.get_by_role("navigation").first.get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", name="Today")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Ada Quinn")
    assert not axe_violations(page)
    page.evaluate("window.__sameDocument = true")
    row.get_by_role("button", name="Check in").click()
    expect(row.get_by_text("Checked in")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    clinic["today"].refresh_from_db()
    assert clinic["today"].status == SessionStatus.CHECKED_IN
