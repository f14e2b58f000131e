"""The front desk's journey in Chromium: book a whole course, see it on the week, move treatment 3 (with
a reason, outside the spacing window), and two tabs confirming the same slot."""

import datetime

import pytest

from courses.models import TreatmentSession
from tests.browser.kit import axe_violations, sign_in
from tests.factories import PatientFactory, TreatmentCourseFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def proposal_url(live_server, course, day, time):
    return f"{live_server.url}/schedule/courses/{course.pk}/book/?first_date={day:%Y-%m-%d}&first_time={time}"


def test_front_desk_books_a_course_moves_treatment_3_and_sees_the_spacing(
    role_groups,
    page,
    live_server,
    monday,
    practitioner,
    hale_hours,
):
    UserFactory(username="desk.browser", role="Front desk")
    course = TreatmentCourseFactory(
        practitioner=practitioner,
        planned_sessions=6,
        interval_days=14,
        patient=PatientFactory(given_name="Ada", family_name="Quinn"),
    )
    sign_in(page, live_server, "desk.browser")
    page.goto(proposal_url(live_server, course, monday + datetime.timedelta(days=2), "10:00"))
    assert page.get_by_text("Dr Hale not working Wednesdays").is_visible()
    assert not axe_violations(page, context="main")
    page.get_by_role("button", name="Confirm and book all").click()
    page.wait_for_url("**/schedule/week/**")
    assert page.get_by_text("6 treatments booked for Ada Quinn").is_visible()
    assert page.get_by_text("Ada Quinn").first.is_visible()
    sessions = list(course.sessions.order_by("sequence"))
    assert len(sessions) == 6

    third = sessions[2]
    page.goto(f"{live_server.url}/schedule/sessions/{third.pk}/reschedule/")
    # The proposal moved the course off Wednesdays to Thursdays: four days later is a Monday.
    new_day = third.starts_at.date() + datetime.timedelta(days=4)
    page.get_by_label("New date").fill(new_day.isoformat())
    page.get_by_role("button", name="Check spacing").click()
    page.wait_for_selector("text=Before treatment 4: 10 days: too close (at least 14)")
    page.get_by_label("Shift the later booked visits of this course by the same amount").check()
    page.get_by_role("button", name="Check spacing").click()
    page.wait_for_selector("text=Later booked visits: move by the same amount")
    # 18 days after treatment 2: inside the window, so no reason is needed.
    page.get_by_role("button", name="Move appointment").click()
    page.wait_for_url("**/schedule/?date=**")
    assert page.get_by_text("4 appointments moved").is_visible()
    moved = list(course.sessions.order_by("sequence").values_list("starts_at", flat=True))
    assert [b - a for a, b in zip([s.starts_at for s in sessions], moved, strict=True)] == [
        datetime.timedelta(0)
    ] * 2 + [datetime.timedelta(days=4)] * 4


def test_two_tabs_confirming_the_same_slot_never_both_succeed(
    role_groups,
    page,
    live_server,
    monday,
    practitioner,
    hale_hours,
):
    UserFactory(username="desk.browser", role="Front desk")
    first, second = (TreatmentCourseFactory(practitioner=practitioner, planned_sessions=3) for _ in range(2))
    sign_in(page, live_server, "desk.browser")
    other_tab = page.context.new_page()
    page.goto(proposal_url(live_server, first, monday, "11:00"))
    other_tab.goto(proposal_url(live_server, second, monday, "11:00"))
    page.get_by_role("button", name="Confirm and book all").click()
    page.wait_for_url("**/schedule/week/**")
    other_tab.get_by_role("button", name="Confirm and book all").click()
    other_tab.wait_for_selector("tr.table-danger")
    assert other_tab.get_by_text("overlaps another appointment").first.is_visible()
    # Every row is checked again on the server, and each one now clashes with the first course's.
    assert other_tab.locator("tr.table-danger").count() == 3
    assert TreatmentSession.objects.filter(course=first).count() == 3
    assert not TreatmentSession.objects.filter(course=second).exists()
    other_tab.close()
