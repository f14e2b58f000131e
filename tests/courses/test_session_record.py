"""session_record() and preparation_strengths(): the service the page and the demo data share."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from courses import session_services
from courses.models import (
    Injection,
    InjectionSite,
    PreparationComponent,
    Product,
    SessionStatus,
    SideEffect,
    TreatmentSession,
)
from courses.session_services import (
    ConfirmationRequired,
    SessionConflict,
    preparation_strengths,
    session_record,
)
from courses.session_views import _load_session
from tests.factories import (
    InjectionFactory,
    LotFactory,
    ProductFactory,
    ScreeningFactory,
    SideEffectTermFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
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


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failure_after_rows_are_written_leaves_nothing_of_the_visit(monkeypatch):
    """The whole save is one transaction, outside any test transaction too: a failure at its end (here in
    the last step, after the session, its rows and their audit entries are written) leaves nothing."""
    practitioner = UserFactory(role="Practitioner")
    course = TreatmentCourseFactory(practitioner=practitioner)
    first = TreatmentSessionFactory(course=course, sequence=1, completed=True)
    visit = TreatmentSessionFactory(course=course, sequence=2, status="checked_in")
    version = visit.version

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(session_services, "_patient_reports_decide", fail)
    with pytest.raises(RuntimeError):
        session_services.session_record(
            session=visit,
            data={"complete": False, "notes": "Written, then rolled back"},
            components=[],
            injections=[],
            side_effects=[
                {
                    "term": SideEffectTermFactory(),
                    "attributed_session": first,
                    "onset_date": first.starts_at.date(),
                    "severity": 1,
                    "action_taken": "none",
                    "outcome": "resolved",
                    "relatedness": "possibly",
                }
            ],
            recorded_by=practitioner,
            expected_version=visit.version,
            confirmations={},
        )
    visit.refresh_from_db()
    assert visit.version == version and visit.notes != "Written, then rolled back"
    assert not visit.reported_side_effects.exists()


def _side_effect_row(first):
    return {
        "term": SideEffectTermFactory(),
        "attributed_session": first,
        "onset_date": first.starts_at.date(),
        "severity": 1,
        "action_taken": "none",
        "outcome": "resolved",
        "relatedness": "possibly",
    }


@pytest.mark.django_db
def test_rows_the_page_read_before_another_save_landed_are_read_again():
    """The page's rows stand in for the locked session's only while its version is the one the page read."""
    practitioner = UserFactory(role="Practitioner")
    course = TreatmentCourseFactory(practitioner=practitioner)
    first = TreatmentSessionFactory(course=course, sequence=1, completed=True)
    visit = TreatmentSessionFactory(course=course, sequence=2, status="checked_in")
    page_read = _load_session(visit.pk)  # with its (empty) rows, as the page reads it

    def save(session, version, side_effects):
        return session_services.session_record(
            session=session,
            data={"complete": False},
            components=[],
            injections=[],
            side_effects=side_effects,
            recorded_by=practitioner,
            expected_version=version,
            confirmations={},
        )

    save(TreatmentSession.objects.get(pk=visit.pk), visit.version, [_side_effect_row(first)])  # lands first
    added = visit.reported_side_effects.get()
    # A client holding the new version, served from the page's earlier read: the row added meanwhile is
    # known, so it can be voided.
    save(page_read, visit.version + 1, [{"id": added.pk, "void_reason": "Entered twice"}])
    added = SideEffect.all_objects.get(pk=added.pk)
    assert added.is_voided and added.void_reason == "Entered twice"
