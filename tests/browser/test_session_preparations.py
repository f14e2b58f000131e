"""The session page on a tablet-sized window: two preparations with injections from each (and the volume
rule's error on the row), and a repeat of the last treatment with a lot that can no longer be used."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic import roles
from courses.models import InjectionSite, Preparation, SessionStatus
from tests.browser.kit import axe_violations, sign_in
from tests.factories import (
    InjectionFactory,
    LotFactory,
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


@pytest.fixture
def visit():
    """A knee course: treatment 1 given two weeks ago, treatment 2 checked in now, a current screening."""
    practitioner = UserFactory(
        username="dr.hale", first_name="Morgan", last_name="Hale", role=roles.PRACTITIONER
    )
    now = timezone.now()
    course = TreatmentCourseFactory(
        practitioner=practitioner, start_date=timezone.localdate() - datetime.timedelta(days=15)
    )
    first = TreatmentSessionFactory(
        course=course, sequence=1, completed=True, starts_at=now - datetime.timedelta(days=14)
    )
    ScreeningFactory(patient=course.patient, screened_by=practitioner)
    second = TreatmentSessionFactory(
        course=course,
        sequence=2,
        status=SessionStatus.CHECKED_IN,
        starts_at=now - datetime.timedelta(minutes=5),
    )
    lots = {
        "dextrose": LotFactory(product=ProductFactory(name="Dextrose 50%"), lot_number="DX-2291"),
        "lidocaine": LotFactory(product=ProductFactory(name="Lidocaine 1%"), lot_number="LI-0042"),
        "saline": LotFactory(product=ProductFactory(name="Sodium chloride 0.9% (saline)"), lot_number="NS-7"),
    }
    return {"first": first, "second": second, "lots": lots}


def site(name):
    return InjectionSite.objects.get(region="knee", name=name)


def test_a_practitioner_logs_two_preparations_with_injections_from_each(page, live_server, visit):
    session, lots = visit["second"], visit["lots"]
    page.set_viewport_size(TABLET)
    sign_in(page, live_server, "dr.hale")
    page.goto(f"{live_server.url}/courses/sessions/{session.pk}/log/")
    page.get_by_label("Pain before injection (NRS 0–10)").fill("6")

    preparations = page.locator("[data-preparation-row]")
    preparations.nth(0).get_by_label("Label").fill("Intra-articular")
    page.get_by_role("button", name="Add preparation").click()
    preparations.nth(1).get_by_label("Label").fill("Around the joint")

    components = page.locator("[data-formset='components'] [data-formset-row]")
    for index, (preparation, lot, volume) in enumerate(
        (
            ("Preparation 1 · Intra-articular", "dextrose", "5"),
            ("Preparation 1 · Intra-articular", "saline", "5"),
            ("Preparation 2 · Around the joint", "dextrose", "3"),
            ("Preparation 2 · Around the joint", "lidocaine", "2"),
            ("Preparation 2 · Around the joint", "saline", "5"),
        )
    ):
        if index:
            page.get_by_role("button", name="Add component").click()
        row = components.nth(index)
        row.get_by_label("Preparation", exact=True).select_option(label=preparation)
        row.get_by_label("Product lot").select_option(str(lots[lot].pk))
        row.get_by_label("Volume (mL)").fill(volume)
    expect(preparations.nth(0).locator("[data-preparation-output]")).to_have_text(
        "10.00 mL · dextrose 25.00% · no anaesthetic"
    )
    expect(preparations.nth(1).locator("[data-preparation-output]")).to_have_text(
        "10.00 mL · dextrose 15.00% · Lidocaine 1% 0.200%"
    )

    injections = page.locator("[data-formset='injections'] [data-formset-row]")
    for index, (name, preparation, volume) in enumerate(
        (
            ("Knee intra-articular", "Preparation 1 · Intra-articular", "12"),
            ("MCL femoral", "Preparation 2 · Around the joint", "2"),
            ("Pes anserine", "Preparation 2 · Around the joint", "2"),
        )
    ):
        if index:
            page.get_by_role("button", name="Add injection").click()
        row = injections.nth(index)
        row.get_by_label("Site").select_option(label=name)
        row.get_by_label("From preparation").select_option(label=preparation)
        row.get_by_label("Volume (mL)").fill(volume)
    expect(preparations.nth(0).locator("[data-preparation-output]")).to_contain_text(
        "12.00 mL injected: more than drawn up"
    )
    page.get_by_role("button", name="Complete session").click()

    # Nothing is saved; the error stands on the row, with every entry kept as typed.
    expect(page.get_by_text("Nothing was saved: correct the entries marked below.")).to_be_visible()
    first_row = injections.nth(0)
    expect(first_row).to_contain_text(
        "12 mL injected from preparation “Intra-articular”, which holds 10 mL drawn up"
    )
    assert not Preparation.objects.filter(session=session).exists()
    assert not axe_violations(page, context="main")
    first_row.get_by_label("Volume (mL)").fill("6")
    page.get_by_role("button", name="Complete session").click()

    expect(page.get_by_text("Treatment 2 completed.")).to_be_visible()
    session.refresh_from_db()
    assert session.status == SessionStatus.COMPLETED
    inside, around = Preparation.objects.filter(session=session)
    assert (inside.label, inside.final_dextrose_percent) == ("Intra-articular", Decimal("25.00"))
    assert (around.label, around.final_dextrose_percent) == ("Around the joint", Decimal("15.00"))
    assert sorted((i.site.name, i.preparation.label) for i in session.injections.all()) == [
        ("Knee intra-articular", "Intra-articular"),
        ("MCL femoral", "Around the joint"),
        ("Pes anserine", "Around the joint"),
    ]
    assert session.final_dextrose_percent == Decimal("25.00")
    assert session.total_volume_ml == Decimal("10.00")
    expect(page.get_by_role("table", name="Preparation 2 · Around the joint")).to_contain_text(
        "Lidocaine 1% 0.200%"
    )


def test_a_practitioner_repeats_the_last_treatment_with_an_expired_lot(page, live_server, visit):
    first, session, lots = visit["first"], visit["second"], visit["lots"]
    today = timezone.localdate()
    expired = LotFactory(
        product=lots["dextrose"].product, lot_number="DX-OLD", expiry_date=today - datetime.timedelta(days=3)
    )
    recalled = LotFactory(product=ProductFactory(name="Bupivacaine 0.25%"), lot_number="BU-9", recalled=True)
    inside = PreparationFactory(session=first, label="Intra-articular")
    around = PreparationFactory(session=first, label="Around the joint")
    for preparation, lot, volume in (
        (inside, expired, "5"),
        (inside, lots["saline"], "5"),
        (around, lots["dextrose"], "3"),
        (around, recalled, "2"),
        (around, lots["saline"], "5"),
    ):
        PreparationComponentFactory(
            session=first, preparation=preparation, lot=lot, volume_ml=Decimal(volume)
        )
    for name, preparation, volume in (
        ("Knee intra-articular", inside, "6"),
        ("MCL femoral", around, "2"),
        ("Pes anserine", around, "2"),
    ):
        InjectionFactory(session=first, preparation=preparation, site=site(name), volume_ml=Decimal(volume))

    page.set_viewport_size(TABLET)
    sign_in(page, live_server, "dr.hale")
    page.goto(f"{live_server.url}/courses/sessions/{session.pk}/log/")
    page.get_by_role("link", name="Repeat last treatment").click()

    notes = page.locator("[data-repeat-notes]")
    expect(notes).to_contain_text("Filled from treatment 1")
    expect(notes).to_contain_text("Lot DX-OLD expired on")
    expect(notes).to_contain_text("lot DX-2291 put in its place")
    expect(notes).to_contain_text("no other lot of Bupivacaine 0.25% is usable: choose a lot")
    assert not axe_violations(page, context="main")
    components = page.locator("[data-formset='components'] [data-formset-row]")
    expect(components.nth(0).get_by_label("Product lot")).to_have_value(str(lots["dextrose"].pk))
    expect(components.nth(3).get_by_label("Product lot")).to_have_value("")
    injections = page.locator("[data-formset='injections'] [data-formset-row]")
    expect(injections.nth(2).get_by_label("Site")).to_have_value(str(site("Pes anserine").pk))
    # Nothing is saved until the practitioner saves, and every row can still be changed.
    assert not session.preparations.exists()

    components.nth(3).get_by_role("button", name="Remove this component").click()
    injections.nth(1).get_by_label("Volume (mL)").fill("2.5")
    page.get_by_label("Pain before injection (NRS 0–10)").fill("4")
    page.get_by_role("button", name="Complete session").click()

    expect(page.get_by_text("Treatment 2 completed.")).to_be_visible()
    inside_now, around_now = Preparation.objects.filter(session=session)
    assert [c.lot for c in inside_now.components.all()] == [lots["dextrose"], lots["saline"]]
    assert [c.lot for c in around_now.components.all()] == [lots["dextrose"], lots["saline"]]
    assert sorted((i.site.name, i.volume_ml, i.preparation.label) for i in session.injections.all()) == [
        ("Knee intra-articular", Decimal("6.00"), "Intra-articular"),
        ("MCL femoral", Decimal("2.50"), "Around the joint"),
        ("Pes anserine", Decimal("2.00"), "Around the joint"),
    ]
