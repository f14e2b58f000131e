"""The session page's body chart in Chromium, on a tablet and a phone: sites tapped on the chart become
injection rows with their side, the chart follows the rows, it works from the keyboard alone, and the page
never scrolls sideways."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic import roles
from courses.models import InjectionSite, SessionStatus
from tests.browser.kit import axe_violations, sign_in
from tests.factories import (
    ConsentFactory,
    InjectionFactory,
    LotFactory,
    PatientFactory,
    PreparationComponentFactory,
    PreparationFactory,
    ProductFactory,
    ScreeningFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def visit():
    """Ada's right-knee course: treatment 1 two weeks ago at three sites, treatment 2 checked in now."""
    practitioner = UserFactory(
        username="dr.hale", first_name="Morgan", last_name="Hale", role=roles.PRACTITIONER
    )
    ada = PatientFactory(given_name="Ada", family_name="Quinn")
    ConsentFactory(patient=ada, taken_by=practitioner)
    ScreeningFactory(patient=ada, screened_by=practitioner)
    course = TreatmentCourseFactory(
        patient=ada,
        practitioner=practitioner,
        laterality="right",
        planned_sessions=4,
        interval_days=14,
        start_date=timezone.localdate() - datetime.timedelta(days=14),
    )
    first = TreatmentSessionFactory(course=course, sequence=1, completed=True)
    for name in ("MCL femoral", "Pes anserine", "Patellar tendon"):
        InjectionFactory(session=first, site=InjectionSite.objects.get(region="knee", name=name))
    second = TreatmentSessionFactory(course=course, sequence=2, status=SessionStatus.CHECKED_IN)
    lot = LotFactory(product=ProductFactory(name="Dextrose 50%"), lot_number="DX-2291")
    return {"course": course, "session": second, "lot": lot}


class Actions:
    """Counts what the practitioner does on the page: each click, tap, choice or typed field is one."""

    def __init__(self):
        self.count = 0

    def __call__(self, locator, verb, *args):
        self.count += 1
        getattr(locator, verb)(*args)


def rows(page):
    return page.locator("[data-formset='injections'] [data-formset-row]:visible")


def no_sideways_scroll(page):
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def test_a_treatment_with_three_sites_tapped_on_the_chart_on_a_tablet(page, live_server, visit):
    page.set_viewport_size(TABLET)
    sign_in(page, live_server, "dr.hale", "correct-horse-battery")
    page.goto(f"{live_server.url}/courses/sessions/{visit['session'].pk}/log/")
    chart = page.get_by_role("region", name="Body chart")
    expect(chart).to_be_visible()
    expect(chart).to_contain_text("Knee")
    # Treatment 1's sites are marked, on the side they were given.
    expect(
        chart.get_by_role("button", name="MCL femoral, right (Knee), given at an earlier treatment")
    ).to_be_visible()
    expect(chart.get_by_role("button", name="MCL femoral, left (Knee)", exact=True)).to_be_visible()

    act = Actions()
    act(page.get_by_label("Pain before injection (NRS 0–10)"), "fill", "5")
    act(page.get_by_label("Product lot"), "select_option", str(visit["lot"].pk))
    act(page.locator("[data-formset='components']").get_by_label("Volume (mL)"), "fill", "4")
    act(chart.get_by_role("button", name="MCL femoral, right (Knee)"), "click")
    # The first row takes the site and the side tapped; its volume is typed once and later rows copy it.
    act(rows(page).nth(0).get_by_label("Volume (mL)"), "fill", "1")
    act(chart.get_by_role("button", name="Pes anserine, right (Knee)"), "click")
    act(chart.get_by_role("button", name="Knee intra-articular, left (Knee)", exact=True), "click")

    expect(rows(page)).to_have_count(3)
    chosen = [
        (
            row.get_by_label("Site").evaluate("s => s.selectedOptions[0].text"),
            row.get_by_label("Side").input_value(),
        )
        for row in rows(page).all()
    ]
    assert chosen == [("MCL femoral", "right"), ("Pes anserine", "right"), ("Knee intra-articular", "left")]
    expect(rows(page).nth(2).get_by_label("Volume (mL)")).to_have_value("1")
    expect(chart.get_by_role("button", name="Pes anserine, right (Knee)")).to_have_attribute(
        "aria-pressed", "true"
    )
    # The chart stayed on screen while rows were added: tapping does not jump to the rows.
    expect(chart.get_by_role("button", name="Knee intra-articular, left (Knee)", exact=True)).to_be_focused()
    expect(page.locator("[data-injection-total]")).to_have_text("Session total 3.00 mL")
    assert not axe_violations(page)
    assert no_sideways_scroll(page)

    # The save buttons stay in reach at the bottom of the screen.
    complete = page.get_by_role("button", name="Complete session")
    assert complete.bounding_box()["y"] + complete.bounding_box()["height"] <= TABLET["height"]
    act(complete, "click")

    expect(page.get_by_text("Treatment 2 completed.")).to_be_visible()
    session = visit["session"]
    session.refresh_from_db()
    assert session.status == SessionStatus.COMPLETED
    assert sorted((i.site.name, i.laterality, i.volume_ml) for i in session.injections.all()) == [
        ("Knee intra-articular", "left", Decimal("1.00")),
        ("MCL femoral", "right", Decimal("1.00")),
        ("Pes anserine", "right", Decimal("1.00")),
    ]
    # The target is at most 12 actions for a repeat treatment with three sites (41 before the chart).
    print(f"\nActions to log a treatment with three sites on the chart: {act.count}")
    assert act.count <= 12


def test_changing_or_removing_a_row_updates_the_chart(page, live_server, visit):
    page.set_viewport_size(TABLET)
    sign_in(page, live_server, "dr.hale", "correct-horse-battery")
    page.goto(f"{live_server.url}/courses/sessions/{visit['session'].pk}/log/")
    chart = page.get_by_role("region", name="Body chart")
    right_mcl = chart.get_by_role("button", name="MCL femoral, right (Knee)")
    left_mcl = chart.get_by_role("button", name="MCL femoral, left (Knee)", exact=True)

    right_mcl.click()
    expect(right_mcl).to_have_attribute("aria-pressed", "true")
    rows(page).nth(0).get_by_label("Side").select_option("bilateral")
    expect(left_mcl).to_have_attribute("aria-pressed", "true")
    rows(page).nth(0).get_by_label("Site").select_option(label="Pes anserine")
    expect(right_mcl).to_have_attribute("aria-pressed", "false")
    expect(chart.get_by_role("button", name="Pes anserine, left (Knee)", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    rows(page).nth(0).get_by_role("button", name="Remove this injection").click()
    expect(chart.locator("[aria-pressed=true]")).to_have_count(0)
    # A row added from the dropdown shows on the chart as well.
    page.get_by_role("button", name="Add injection").click()
    rows(page).nth(0).get_by_label("Site").select_option(label="Tibial tuberosity")
    rows(page).nth(0).get_by_label("Side").select_option("right")
    expect(chart.get_by_role("button", name="Tibial tuberosity, right (Knee)")).to_have_attribute(
        "aria-pressed", "true"
    )


def focus_by_tab(page, selector, limit=120):
    """Press Tab until the focused element matches the selector, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_chart_works_with_the_keyboard_alone(page, live_server, visit):
    page.set_viewport_size(TABLET)
    sign_in(page, live_server, "dr.hale", "correct-horse-battery")
    page.goto(f"{live_server.url}/courses/sessions/{visit['session'].pk}/log/")

    focus_by_tab(page, "[data-chart-toggle]")
    page.keyboard.press("Enter")  # the whole body: one zoom button per region
    expect(page.locator("[data-chart-zoom='shoulder']").first).to_be_visible()
    focus_by_tab(page, "[data-chart-zoom='shoulder']")
    page.keyboard.press("Enter")
    expect(page.locator("[data-chart-showing]")).to_have_text("· Shoulder")
    expect(page.locator("[data-chart-site]:focus")).to_have_count(1)  # focus moved onto the region's sites

    focus_by_tab(page, "[data-chart-site][data-laterality=left]")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(rows(page)).to_have_count(2)
    pressed = page.locator("[data-chart-site][aria-pressed=true]")
    expect(pressed).to_have_count(2)
    # Pressing a chosen site again takes its new row away.
    page.keyboard.press("Space")
    expect(pressed).to_have_count(1)
    expect(page.locator("[data-chart-status]")).to_contain_text("Removed")


@pytest.mark.parametrize("size", [PHONE, TABLET], ids=["phone-390", "tablet-1024"])
def test_the_session_page_never_scrolls_sideways(page, live_server, visit, size):
    page.set_viewport_size(size)
    sign_in(page, live_server, "dr.hale", "correct-horse-battery")
    page.goto(f"{live_server.url}/courses/sessions/{visit['session'].pk}/log/")
    chart = page.get_by_role("region", name="Body chart")
    expect(chart).to_be_visible()
    assert no_sideways_scroll(page)

    chart.get_by_role("button", name="Patellar tendon, right (Knee)").click()
    page.get_by_role("button", name="Add injection").click()
    page.get_by_role("button", name="Whole body").click()
    assert no_sideways_scroll(page)
    assert not axe_violations(page)
    # The save buttons are on screen wherever the practitioner has scrolled to.
    page.get_by_label("Pain before injection (NRS 0–10)").scroll_into_view_if_needed()
    expect(page.get_by_role("button", name="Save draft")).to_be_in_viewport()


def test_a_repeat_treatment_with_three_sites_takes_a_handful_of_actions_on_a_tablet(page, live_server, visit):
    """The issue's measure: a repeat of the last treatment, three sites shown on the chart, saved."""
    first, session, lot = visit["session"].course.sessions.get(sequence=1), visit["session"], visit["lot"]
    preparation = PreparationFactory(session=first, label="Around the joint")
    PreparationComponentFactory(session=first, preparation=preparation, lot=lot, volume_ml=Decimal("4"))
    first.injections.update(preparation=preparation, volume_ml=Decimal("1"))
    page.set_viewport_size(TABLET)
    sign_in(page, live_server, "dr.hale", "correct-horse-battery")
    page.goto(f"{live_server.url}/courses/sessions/{session.pk}/log/")
    chart = page.get_by_role("region", name="Body chart")

    act = Actions()
    act(page.get_by_role("link", name="Repeat last treatment"), "click")
    expect(page.locator("[data-repeat-notes]")).to_contain_text("Filled from treatment 1")
    # The repeated rows are on the chart, on the side they were given.
    for name in ("MCL femoral", "Pes anserine", "Patellar tendon"):
        expect(
            chart.get_by_role("button", name=f"{name}, right (Knee), given at an earlier treatment")
        ).to_have_attribute("aria-pressed", "true")
    act(page.get_by_label("Pain before injection (NRS 0–10)"), "fill", "4")
    act(page.get_by_role("button", name="Complete session"), "click")

    expect(page.get_by_text("Treatment 2 completed.")).to_be_visible()
    assert sorted((i.site.name, i.laterality) for i in session.injections.all()) == [
        ("MCL femoral", "right"),
        ("Patellar tendon", "right"),
        ("Pes anserine", "right"),
    ]
    assert [c.lot for c in session.components.all()] == [lot]
    print(f"\nActions to log a repeat treatment with three sites: {act.count}")
    assert act.count <= 12
