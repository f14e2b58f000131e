"""Several preparations per treatment, strengths per agent, the volume rule and repeating the last
treatment (courses.session_services)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from courses.models import (
    Injection,
    InjectionSite,
    Preparation,
    PreparationComponent,
    Product,
    SessionStatus,
)
from courses.session_services import (
    overdrawn,
    preparation_strengths,
    repeat_last_treatment,
    session_record,
    session_strengths,
)
from outcomes.selectors import band_code
from tests.factories import (
    InjectionFactory,
    LotFactory,
    PreparationComponentFactory,
    PreparationFactory,
    ProductFactory,
    ScreeningFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)

P2G = "P2G (glucose 12.5% / glycerine 12.5% / phenol 1.2%)"


def mixed(*parts):
    """Unsaved components: (volume, product) pairs."""
    return [
        PreparationComponent(volume_ml=Decimal(volume), lot=LotFactory.build(product=product))
        for volume, product in parts
    ]


def made(name, kind, stock, **extra):
    return Product(name=name, product_type=kind, stock_concentration_percent=Decimal(stock), **extra)


DEXTROSE = made("Dextrose 50%", Product.ProductType.DEXTROSE, "50")
SALINE = made("Saline", Product.ProductType.DILUENT, "0")
LIDOCAINE = made("Lidocaine 1%", Product.ProductType.ANAESTHETIC, "1")
BUPIVACAINE = made("Bupivacaine 0.25%", Product.ProductType.ANAESTHETIC, "0.25")


# --- Strengths per agent --------------------------------------------------------------------------------


def test_the_shipped_p2g_carries_its_glucose_as_data(db):
    p2g = Product.objects.get(name=P2G)

    assert p2g.glucose_percent == Decimal("12.5")
    assert p2g.glucose_content_percent == Decimal("12.5")
    assert Product.objects.get(name="Dextrose 50%").glucose_content_percent == Decimal("50")


def test_p2g_counts_its_glucose_in_the_final_dextrose_percent(db):
    p2g = Product.objects.get(name=P2G)

    alone = preparation_strengths(mixed(("4", p2g)))
    with_dextrose = preparation_strengths(mixed(("2", p2g), ("2", DEXTROSE), ("6", SALINE)))

    assert alone.final_dextrose_percent == Decimal("12.50")
    assert band_code(alone.final_dextrose_percent) == "12_5_20"  # no longer the "no dextrose" band
    # 2 mL × 12.5 % + 2 mL × 50 % in 10 mL = 12.5 %
    assert with_dextrose.final_dextrose_percent == Decimal("12.50")


def test_two_anaesthetics_keep_their_own_final_percent_and_are_never_added(db):
    strengths = preparation_strengths(
        mixed(("2", LIDOCAINE), ("2", BUPIVACAINE), ("3", DEXTROSE), ("3", SALINE))
    )

    assert strengths.volume_ml == Decimal("10.00")
    assert strengths.final_dextrose_percent == Decimal("15.00")
    assert dict(strengths.anaesthetics) == {
        "Bupivacaine 0.25%": Decimal("0.050"),
        "Lidocaine 1%": Decimal("0.200"),
    }
    # The single figure is the strongest agent's own %, not 0.25.
    assert strengths.final_anaesthetic_percent == Decimal("0.200")


def test_strengths_round_half_up_to_two_and_three_places(db):
    # 1 mL of 50 % in 16 mL is 3.125 % (3.13, not the banker's 3.12); 1 mL lidocaine 1 % in 3 mL is 0.333 %.
    dextrose = preparation_strengths(mixed(("1", DEXTROSE), ("15", SALINE)))
    lidocaine = preparation_strengths(mixed(("1", LIDOCAINE), ("2", SALINE)))

    assert dextrose.final_dextrose_percent == Decimal("3.13")
    assert lidocaine.final_anaesthetic_percent == Decimal("0.333")
    assert preparation_strengths([]).final_dextrose_percent is None


def test_a_session_with_two_preparations_is_banded_by_its_strongest_dextrose(db):
    inside = preparation_strengths(mixed(("5", DEXTROSE), ("5", SALINE)))
    around = preparation_strengths(mixed(("3", DEXTROSE), ("1", LIDOCAINE), ("6", SALINE)))

    figures = session_strengths([inside, around])

    assert figures.final_dextrose_percent == Decimal("25.00")
    assert figures.final_anaesthetic_percent == Decimal("0.100")


# --- The volume rule ----------------------------------------------------------------------------------------


def test_overdrawn_names_each_preparation_injected_beyond_its_volume():
    drawn = {"a": Decimal("2"), "b": Decimal("10")}
    injected = [("a", Decimal("1.5")), ("a", Decimal("1")), ("b", Decimal("10")), (None, Decimal("5"))]

    assert overdrawn(drawn, injected) == {"a": (Decimal("2"), Decimal("2.5"))}


@pytest.fixture
def visit(practitioner):
    course = TreatmentCourseFactory(
        practitioner=practitioner, start_date=timezone.localdate() - datetime.timedelta(days=14)
    )
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    ScreeningFactory(patient=course.patient, screened_by=practitioner)
    return TreatmentSessionFactory(course=course, sequence=2, status=SessionStatus.CHECKED_IN)


def site(name):
    return InjectionSite.objects.get(region="knee", name=name)


def right(name, volume):
    return {"site": site(name), "laterality": "right", "volume_ml": volume}


def record(session, user, *, preparations=(), components=(), injections=()):
    return session_record(
        session=session,
        data={"pain_pre": 5, "complete": True},
        preparations=list(preparations),
        components=list(components),
        injections=list(injections),
        side_effects=[],
        recorded_by=user,
        expected_version=session.version,
        confirmations={},
    )


def test_12_ml_injected_from_a_2_ml_preparation_is_refused_on_the_row(visit, practitioner):
    dextrose = LotFactory(product=ProductFactory(name="Dextrose 50%"))

    with pytest.raises(ValidationError) as error:
        record(
            visit,
            practitioner,
            components=[{"lot": dextrose, "volume_ml": Decimal("2")}],
            injections=[
                {"site": site("MCL femoral"), "laterality": "right", "volume_ml": Decimal("2")},
                {"site": site("Knee intra-articular"), "laterality": "right", "volume_ml": Decimal("10")},
            ],
        )

    message = error.value.message_dict["injections.1.volume_ml"][0]
    assert "12 mL injected from preparation 1, which holds 2 mL drawn up" in message
    assert not Preparation.all_objects.exists() and not Injection.all_objects.exists()
    visit.refresh_from_db()
    assert visit.status == SessionStatus.CHECKED_IN


def test_it_logs_two_preparations_with_injections_from_each(visit, practitioner):
    dextrose = LotFactory(product=ProductFactory(name="Dextrose 50%"))
    lidocaine = LotFactory(
        product=ProductFactory(name="Lidocaine 1%", product_type="anaesthetic", stock_concentration_percent=1)
    )
    saline = LotFactory(
        product=ProductFactory(name="Saline", product_type="diluent", stock_concentration_percent=0)
    )

    record(
        visit,
        practitioner,
        preparations=[{"key": "inside", "label": "Intra-articular"}, {"key": "around", "label": "Around"}],
        components=[
            {"lot": dextrose, "volume_ml": Decimal("5"), "preparation": "inside"},
            {"lot": saline, "volume_ml": Decimal("5"), "preparation": "inside"},
            {"lot": dextrose, "volume_ml": Decimal("3"), "preparation": "around"},
            {"lot": lidocaine, "volume_ml": Decimal("2"), "preparation": "around"},
            {"lot": saline, "volume_ml": Decimal("5"), "preparation": "around"},
        ],
        injections=[
            {**right("Knee intra-articular", 6), "preparation": "inside"},
            {**right("MCL femoral", 2), "preparation": "around"},
            {**right("Pes anserine", 2), "preparation": "around"},
        ],
    )

    inside, around = Preparation.objects.filter(session=visit)
    assert (inside.label, inside.volume_ml, inside.final_dextrose_percent) == (
        "Intra-articular",
        Decimal("10.00"),
        Decimal("25.00"),
    )
    assert (around.volume_ml, around.final_dextrose_percent) == (Decimal("10.00"), Decimal("15.00"))
    assert [i.preparation for i in visit.injections.order_by("pk")] == [inside, around, around]
    assert inside.components.count() == 2 and around.components.count() == 3
    visit.refresh_from_db()
    assert visit.final_dextrose_percent == Decimal("25.00")
    assert visit.final_anaesthetic_percent == Decimal("0.200")
    assert visit.total_volume_ml == Decimal("10.00")


def test_with_two_preparations_each_injection_must_say_which_it_came_from(visit, practitioner):
    dextrose = LotFactory(product=ProductFactory(name="Dextrose 50%"))

    with pytest.raises(ValidationError) as error:
        record(
            visit,
            practitioner,
            preparations=[{"key": "a"}, {"key": "b"}],
            components=[
                {"lot": dextrose, "volume_ml": Decimal("2"), "preparation": "a"},
                {"lot": dextrose, "volume_ml": Decimal("2"), "preparation": "b"},
            ],
            injections=[{"site": site("MCL femoral"), "laterality": "right", "volume_ml": 1}],
        )

    assert error.value.message_dict["injections.0.preparation"] == [
        "Choose the preparation this injection came from."
    ]


def test_a_later_save_adds_injections_from_a_saved_preparation_within_its_volume(visit, practitioner):
    dextrose = LotFactory(product=ProductFactory(name="Dextrose 50%"))
    mcl = {"site": site("MCL femoral"), "laterality": "right"}
    record(visit, practitioner, components=[{"lot": dextrose, "volume_ml": Decimal("3")}])
    preparation = Preparation.objects.get(session=visit)
    visit.refresh_from_db()

    record(visit, practitioner, injections=[{**mcl, "volume_ml": 2, "preparation": preparation}])
    visit.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        record(visit, practitioner, injections=[{**mcl, "volume_ml": 2}])

    assert Injection.objects.get().preparation == preparation
    assert "4 mL injected from preparation 1, which holds 3 mL drawn up" in str(error.value)


def test_voiding_a_preparation_voids_its_components_and_needs_its_injections_voided(visit, practitioner):
    dextrose = LotFactory(product=ProductFactory(name="Dextrose 50%"))
    record(
        visit,
        practitioner,
        components=[{"lot": dextrose, "volume_ml": Decimal("3")}],
        injections=[{"site": site("MCL femoral"), "laterality": "right", "volume_ml": 2}],
    )
    preparation = Preparation.objects.get(session=visit)
    injection = Injection.objects.get()
    visit.refresh_from_db()
    void = {"id": preparation.pk, "void_reason": "Drawn up for the wrong patient"}

    with pytest.raises(ValidationError) as error:
        record(visit, practitioner, preparations=[void])
    assert "must be voided with it" in str(error.value)

    record(
        visit,
        practitioner,
        preparations=[void],
        injections=[{"id": injection.pk, "void_reason": "Drawn up for the wrong patient"}],
    )
    assert not Preparation.objects.exists() and not PreparationComponent.objects.exists()
    visit.refresh_from_db()
    assert visit.final_dextrose_percent is None


# --- Repeat the last treatment ------------------------------------------------------------------------------


@pytest.fixture
def second_visit(practitioner):
    """A course whose first treatment drew two preparations; the second visit is today."""
    today = timezone.localdate()
    course = TreatmentCourseFactory(practitioner=practitioner, start_date=today - datetime.timedelta(days=20))
    now = timezone.now()
    first = TreatmentSessionFactory(
        course=course, sequence=1, completed=True, starts_at=now - datetime.timedelta(days=14)
    )
    visit = TreatmentSessionFactory(course=course, sequence=2, status=SessionStatus.CHECKED_IN, starts_at=now)
    return course, first, visit


def test_repeat_last_fills_the_previous_preparations_and_sites_with_usable_lots(second_visit):
    _, first, visit = second_visit
    today = timezone.localdate()
    dextrose = ProductFactory(name="Dextrose 50%")
    lidocaine = ProductFactory(name="Lidocaine 1%", product_type="anaesthetic", stock_concentration_percent=1)
    expired = LotFactory(product=dextrose, lot_number="OLD1", expiry_date=today - datetime.timedelta(days=2))
    later = LotFactory(product=dextrose, lot_number="NEW2", expiry_date=today + datetime.timedelta(days=300))
    sooner = LotFactory(product=dextrose, lot_number="NEW1", expiry_date=today + datetime.timedelta(days=30))
    recalled = LotFactory(product=lidocaine, lot_number="LD-R", recalled=True)
    inside = PreparationFactory(session=first, label="Intra-articular")
    around = PreparationFactory(session=first, label="Around")
    PreparationComponentFactory(session=first, preparation=inside, lot=expired, volume_ml=Decimal("5"))
    PreparationComponentFactory(session=first, preparation=around, lot=recalled, volume_ml=Decimal("1"))
    InjectionFactory(session=first, preparation=inside, site=site("Knee intra-articular"), volume_ml=5)
    InjectionFactory(session=first, preparation=around, site=site("MCL femoral"), spinal_level="")

    plan = repeat_last_treatment(visit)

    assert plan.source == first
    assert [p["label"] for p in plan.preparations] == ["Intra-articular", "Around"]
    (dextrose_row,), (lidocaine_row,) = (p["components"] for p in plan.preparations)
    assert dextrose_row["lot"] == sooner and dextrose_row["volume_ml"] == Decimal("5")
    assert "Lot OLD1 expired on" in dextrose_row["note"]
    assert "lot NEW1 put in its place" in dextrose_row["note"]
    assert lidocaine_row["lot"] is None
    assert "no other lot of Lidocaine 1% is usable: choose a lot" in lidocaine_row["note"]
    assert len(plan.notes) == 2
    assert [(row["site"].name, row["preparation"]) for row in plan.injections] == [
        ("Knee intra-articular", 0),
        ("MCL femoral", 1),
    ]
    assert later.pk not in {dextrose_row["lot"].pk}
    # Nothing is saved until the practitioner saves.
    assert not visit.preparations.exists() and not visit.injections.exists()


def test_repeat_last_on_a_first_treatment_says_there_is_nothing_to_repeat(practitioner):
    visit = TreatmentSessionFactory(status=SessionStatus.CHECKED_IN)

    plan = repeat_last_treatment(visit)

    assert plan.source is None and not plan.preparations
    assert plan.notes == ["This course has no earlier treatment to repeat."]
