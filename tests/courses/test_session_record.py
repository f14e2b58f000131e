"""session_record() and preparation_strengths(): the service the page and the demo data share."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from courses.models import Injection, InjectionSite, PreparationComponent, Product, SessionStatus
from courses.session_services import (
    ConfirmationRequired,
    SessionConflict,
    preparation_strengths,
    session_record,
)
from tests.factories import (
    InjectionFactory,
    LotFactory,
    ProductFactory,
    ScreeningFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)


def component(volume, product_type, percent):
    product = Product(product_type=product_type, stock_concentration_percent=Decimal(percent))
    return SimpleNamespace(volume_ml=Decimal(volume), lot=SimpleNamespace(product=product))


def test_preparation_strengths_gives_15_percent_dextrose_and_0_2_percent_lidocaine():
    summary = preparation_strengths(
        [
            component("3", Product.ProductType.DEXTROSE, "50"),
            component("2", Product.ProductType.ANAESTHETIC, "1"),
            component("5", Product.ProductType.DILUENT, "0"),
        ]
    )

    assert summary.volume_ml == Decimal("10.00")
    assert summary.final_dextrose_percent == Decimal("15.00")
    assert summary.final_anaesthetic_percent == Decimal("0.200")


def test_preparation_strengths_rounds_a_25_percent_intra_articular_mix():
    # 5 mL of 50% dextrose + 1 mL of 2% lidocaine + 4 mL water: 25% dextrose, 0.2% lidocaine.
    summary = preparation_strengths(
        [
            component("5", Product.ProductType.DEXTROSE, "50"),
            component("1", Product.ProductType.ANAESTHETIC, "2"),
            component("4", Product.ProductType.DILUENT, "0"),
        ]
    )
    assert (summary.final_dextrose_percent, summary.final_anaesthetic_percent) == (
        Decimal("25.00"),
        Decimal("0.200"),
    )
    thirds = preparation_strengths([component("1", "dextrose", "50"), component("2", "diluent", "0")])
    assert thirds.final_dextrose_percent == Decimal("16.67")


def test_preparation_strengths_of_nothing_is_empty():
    assert preparation_strengths([]).final_dextrose_percent is None


@pytest.fixture
def visit(practitioner):
    course = TreatmentCourseFactory(
        practitioner=practitioner, start_date=timezone.localdate() - datetime.timedelta(days=14)
    )
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    ScreeningFactory(patient=course.patient, screened_by=practitioner)
    return TreatmentSessionFactory(course=course, sequence=2, status=SessionStatus.CHECKED_IN)


def record(session, user, *, version=None, components=(), injections=(), complete=True, **data):
    return session_record(
        session=session,
        data={"pain_pre": 5, "complete": complete, **data},
        components=list(components),
        injections=list(injections),
        side_effects=[],
        recorded_by=user,
        expected_version=session.version if version is None else version,
        confirmations={},
    )


def mcl():
    return InjectionSite.objects.get(region="knee", name="MCL femoral")


def test_it_completes_the_session_and_bumps_the_version(visit, practitioner):
    lot = LotFactory(product=ProductFactory(name="Dextrose 50%"))

    saved = record(
        visit,
        practitioner,
        components=[{"lot": lot, "volume_ml": Decimal("4")}],
        injections=[{"site": mcl(), "laterality": "right", "volume_ml": Decimal("2")}],
    )

    visit.refresh_from_db()
    assert saved.pk == visit.pk
    assert visit.status == SessionStatus.COMPLETED and visit.version == 2
    assert visit.final_dextrose_percent == Decimal("50.00")
    assert visit.total_volume_ml == Decimal("2.00")


def test_an_invalid_injection_rolls_back_the_whole_save(visit, practitioner):
    rows = [
        {"site": mcl(), "laterality": "right", "volume_ml": Decimal("2")},
        {"site": mcl(), "laterality": "right", "volume_ml": Decimal("21")},
    ]

    with pytest.raises(ValidationError) as error:
        record(visit, practitioner, injections=rows, notes="Should not stick")

    assert "injections.1.volume_ml" in error.value.message_dict
    visit.refresh_from_db()
    assert (visit.status, visit.version, visit.notes) == (SessionStatus.CHECKED_IN, 1, "")
    assert not Injection.all_objects.exists()


def test_the_service_refuses_a_recalled_lot_even_when_a_caller_skips_the_form(visit, practitioner):
    recalled = LotFactory(recalled=True)

    with pytest.raises(ValidationError) as error:
        record(visit, practitioner, components=[{"lot": recalled, "volume_ml": Decimal("2")}])

    assert "recalled" in error.value.message_dict["components.0.lot"][0]
    assert not PreparationComponent.all_objects.exists()


def test_the_service_requires_a_level_for_spine_sites(visit, practitioner):
    facet = InjectionSite.objects.get(region="lumbar_pelvis", name="Facet capsule")

    with pytest.raises(ValidationError) as error:
        record(visit, practitioner, injections=[{"site": facet, "laterality": "midline", "volume_ml": 1}])

    assert "injections.0.spinal_level" in error.value.message_dict


def test_a_stale_version_raises_a_conflict_naming_who_changed_it(visit, practitioner):
    colleague = type(practitioner).objects.create(username="dr.chen", first_name="Li", last_name="Chen")
    InjectionFactory(session=visit, site=mcl(), created_by=colleague)
    type(visit).objects.filter(pk=visit.pk).update(version=2)

    with pytest.raises(SessionConflict) as conflict:
        record(visit, practitioner, version=1, notes="My notes")

    message = str(conflict.value)
    assert message.startswith("This session was changed by Li Chen at ")
    assert "reload to see their changes; your entries are kept below" in message
    visit.refresh_from_db()
    assert visit.version == 2 and visit.notes == "" and visit.status == SessionStatus.CHECKED_IN


def test_missing_confirmations_raise_before_anything_is_written(practitioner):
    course = TreatmentCourseFactory(practitioner=practitioner)
    session = TreatmentSessionFactory(course=course, sequence=1, status=SessionStatus.CHECKED_IN)

    with pytest.raises(ConfirmationRequired) as needed:
        record(session, practitioner, injections=[{"site": mcl(), "laterality": "left", "volume_ml": 1}])

    assert [w.code for w in needed.value.warnings] == ["screening"]
    session.refresh_from_db()
    assert session.version == 1 and not Injection.objects.exists()
