"""The session page in Chromium: rows added and removed without a reload, live totals, one save."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from courses.models import SessionStatus
from tests.browser.kit import axe_violations
from tests.factories import (
    LotFactory,
    ProductFactory,
    ScreeningFactory,
    SideEffectTermFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_practitioner_logs_a_whole_session_in_the_browser(page, live_server):
    practitioner = UserFactory(username="dr.hale", first_name="Morgan", last_name="Hale", role="Practitioner")
    course = TreatmentCourseFactory(
        practitioner=practitioner, start_date=timezone.localdate() - datetime.timedelta(days=14)
    )
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    ScreeningFactory(patient=course.patient, screened_by=practitioner)
    session = TreatmentSessionFactory(course=course, sequence=2, status=SessionStatus.CHECKED_IN)
    dextrose = LotFactory(product=ProductFactory(name="Dextrose 50%"), lot_number="DX-2291")
    lidocaine = LotFactory(product=ProductFactory(name="Lidocaine 1%"), lot_number="LI-0042")
    saline = LotFactory(product=ProductFactory(name="Sodium chloride 0.9% (saline)"), lot_number="NS-7")
    SideEffectTermFactory()

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("dr.hale")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/courses/sessions/{session.pk}/log/")
    assert not axe_violations(page, context="main")

    page.get_by_label("Pain before injection (NRS 0–10)").fill("6")
    components = page.locator("[data-formset='components'] [data-formset-row]")
    for index, (lot, volume) in enumerate(((dextrose, "3"), (lidocaine, "2"), (saline, "5"))):
        if index:
            page.get_by_role("button", name="Add component").click()
        components.nth(index).get_by_label("Product lot").select_option(str(lot.pk))
        components.nth(index).get_by_label("Volume (mL)").fill(volume)
    summary = page.locator("[data-preparation-summary]")
    assert summary.inner_text() == "10.00 mL · dextrose 15.00% · Lidocaine 1% 0.200%"

    # A fourth row added by mistake and removed again must not be saved.
    page.get_by_role("button", name="Add component").click()
    components.nth(3).get_by_role("button", name="Remove this component").click()
    assert components.nth(3).is_hidden()

    injections = page.locator("[data-formset='injections'] [data-formset-row]")
    for index, (site, volume) in enumerate(
        (("MCL femoral", "3"), ("Pes anserine", "2.5"), ("Patellar tendon", "1"))
    ):
        if index:
            page.get_by_role("button", name="Add injection").click()
        row = injections.nth(index)
        row.get_by_label("Site").select_option(label=site)
        row.get_by_label("Volume (mL)").fill(volume)
    assert page.locator("[data-injection-total]").inner_text() == "Session total 6.50 mL"

    page.get_by_role("button", name="Add side effect").click()
    side_effect = page.locator("[data-formset='side_effects'] [data-formset-row]").first
    side_effect.locator("select[name$='-term']").select_option(label="Post-injection pain / flare")
    side_effect.get_by_label("Onset").fill((timezone.localdate() - datetime.timedelta(days=13)).isoformat())

    page.get_by_label("Avoid NSAIDs (days)").fill("7")
    page.get_by_role("button", name="Complete session").click()

    page.get_by_text("Treatment 2 completed.").wait_for()
    session.refresh_from_db()
    assert session.status == SessionStatus.COMPLETED
    assert session.final_dextrose_percent == Decimal("15.00")
    assert session.final_anaesthetic_percent == Decimal("0.200")
    assert session.total_volume_ml == Decimal("6.50")
    assert session.components.count() == 3 and session.injections.count() == 3
    assert session.reported_side_effects.get().attributed_session.sequence == 1

    page.get_by_role("link", name="Aftercare handout").click()
    page.get_by_role("heading", name="After your injection treatment").wait_for()
    assert page.get_by_role("button", name="Print handout").is_visible()
