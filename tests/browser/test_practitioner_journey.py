"""A practitioner's visit in Chromium: a screening with a precaution, its banner, two sessions logged with
rows added in the page (session_formsets.js) and the course's pain trend drawn by Chart.js."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic import roles
from courses.models import SessionStatus
from patients.models import Screening
from tests.browser.kit import axe_violations, sign_in
from tests.factories import (
    ConsentFactory,
    LotFactory,
    PatientFactory,
    ProductFactory,
    SideEffectTermFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

OVERRIDE = "Reason to inject despite the screening"


@pytest.fixture
def visit():
    """Ada's knee course: session 1 two weeks ago and session 2 today, both checked in and not yet logged."""
    practitioner = UserFactory(
        username="dr.hale", first_name="Morgan", last_name="Hale", role=roles.PRACTITIONER
    )
    ada = PatientFactory(given_name="Ada", family_name="Quinn")
    ConsentFactory(patient=ada, taken_by=practitioner)
    course = TreatmentCourseFactory(
        patient=ada,
        practitioner=practitioner,
        baseline_pain=8,
        planned_sessions=3,
        interval_days=14,
        start_date=timezone.localdate() - datetime.timedelta(days=14),
    )
    first, second = (
        TreatmentSessionFactory(course=course, sequence=n, status=SessionStatus.CHECKED_IN) for n in (1, 2)
    )
    lots = {
        "dextrose": LotFactory(product=ProductFactory(name="Dextrose 50%"), lot_number="DX-2291"),
        "lidocaine": LotFactory(product=ProductFactory(name="Lidocaine 1%"), lot_number="LI-0042"),
        "saline": LotFactory(product=ProductFactory(name="Sodium chloride 0.9% (saline)"), lot_number="NS-7"),
    }
    SideEffectTermFactory(name="Post-injection pain / flare")
    return {"patient": ada, "course": course, "first": first, "second": second, "lots": lots}


def complete(page, reason):
    """Complete the session, giving the screening-override reason when the page asks for it."""
    page.get_by_role("button", name="Complete session").click()
    expect(page.get_by_role("heading", name="Confirm before saving")).to_be_visible()
    expect(page.get_by_text("Injecting needs a screening override")).to_be_visible()
    page.get_by_label(OVERRIDE).fill(reason)
    page.get_by_role("button", name="Complete session").click()


def test_a_practitioner_screens_logs_two_sessions_and_sees_the_pain_trend(page, live_server, visit):
    ada, course, lots = visit["patient"], visit["course"], visit["lots"]
    sign_in(page, live_server, "dr.hale", "correct-horse-battery")

    # Screening with a precaution, then its banner on the patient page.
    page.goto(f"{live_server.url}/patients/{ada.pk}/")
    assert not axe_violations(page)
    page.get_by_role("link", name="Record screening").click()
    page.get_by_label("Anticoagulant or antiplatelet therapy").check()
    page.get_by_label("Anticoagulant / antiplatelet drug").fill("apixaban")
    page.get_by_role("radio", name="Eligible", exact=True).check()
    page.get_by_role("button", name="Save screening").click()
    expect(page.get_by_text("Screening recorded.")).to_be_visible()
    banner = page.get_by_role("region", name="Clinical alerts")
    expect(banner).to_contain_text("Precautions:")
    expect(banner).to_contain_text("apixaban")
    assert Screening.objects.get(patient=ada).anticoagulant_drug == "apixaban"

    # Session 1 from the course page: a three-part preparation and three sites, rows added in the page.
    page.goto(f"{live_server.url}/courses/{course.pk}/")
    page.get_by_role("link", name="Log treatment 1").click()
    expect(page.get_by_role("heading", name="Treatment 1 of 3")).to_be_visible()
    assert not axe_violations(page)
    page.get_by_label("Pain before injection (NRS 0–10)").fill("7")
    components = page.locator("[data-formset='components'] [data-formset-row]")
    for index, (lot, volume) in enumerate(
        ((lots["dextrose"], "3"), (lots["lidocaine"], "2"), (lots["saline"], "5"))
    ):
        if index:
            page.get_by_role("button", name="Add component").click()
        components.nth(index).get_by_label("Product lot").select_option(str(lot.pk))
        components.nth(index).get_by_label("Volume (mL)").fill(volume)
    expect(page.locator("[data-preparation-summary]")).to_have_text(
        "10.00 mL · dextrose 15.00% · Lidocaine 1% 0.200%"
    )
    injections = page.locator("[data-formset='injections'] [data-formset-row]")
    for index, (site, volume) in enumerate(
        (("MCL femoral", "2"), ("Pes anserine", "1.5"), ("Patellar tendon", "1"))
    ):
        if index:
            page.get_by_role("button", name="Add injection").click()
        injections.nth(index).get_by_label("Site").select_option(label=site)
        injections.nth(index).get_by_label("Volume (mL)").fill(volume)
    expect(page.locator("[data-injection-total]")).to_have_text("Session total 4.50 mL")
    complete(page, "Apixaban held for 48 hours as agreed with the GP")
    expect(page.get_by_text("Treatment 1 completed.")).to_be_visible()
    first = visit["first"]
    first.refresh_from_db()
    assert first.status == SessionStatus.COMPLETED
    assert first.final_dextrose_percent == Decimal("15.00")
    assert first.components.count() == 3 and first.injections.count() == 3
    assert first.screening_override_reason.startswith("Apixaban held")

    # Session 2: a flare since session 1, attributed to it.
    page.goto(f"{live_server.url}/courses/{course.pk}/")
    page.get_by_role("link", name="Log treatment 2").click()
    page.get_by_label("Pain before injection (NRS 0–10)").fill("5")
    page.locator("[data-formset='components'] [data-formset-row]").first.get_by_label(
        "Product lot"
    ).select_option(str(lots["dextrose"].pk))
    page.locator("[data-formset='components'] [data-formset-row]").first.get_by_label("Volume (mL)").fill("2")
    site = page.locator("[data-formset='injections'] [data-formset-row]").first
    site.get_by_label("Site").select_option(label="MCL femoral")
    site.get_by_label("Volume (mL)").fill("2")
    page.get_by_role("button", name="Add side effect").click()
    side_effect = page.locator("[data-formset='side_effects'] [data-formset-row]").first
    side_effect.get_by_role("combobox", name="Side effect").select_option(label="Post-injection pain / flare")
    side_effect.get_by_label("Onset").fill((timezone.localdate() - datetime.timedelta(days=13)).isoformat())
    complete(page, "Apixaban held again")
    expect(page.get_by_text("Treatment 2 completed.")).to_be_visible()
    second = visit["second"]
    second.refresh_from_db()
    assert second.status == SessionStatus.COMPLETED
    assert second.reported_side_effects.get().attributed_session == first

    # The course page draws the trend: the baseline (the last score on or before treatment 1: its own
    # pre-injection 7, not the planned 8), then each treatment's pain before injection.
    page.get_by_role("link", name=str(course)).first.click()
    page.wait_for_url(f"{live_server.url}/courses/{course.pk}/")
    expect(page.locator("canvas#pain-trend")).to_be_visible()
    page.wait_for_function("() => Chart.getChart('pain-trend') !== undefined")
    assert page.evaluate("() => Chart.getChart('pain-trend').data.datasets[0].data") == [7, 7, 5]
    assert not axe_violations(page)
