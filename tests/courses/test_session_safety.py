"""Safety rules of the session page: usable lots only, screening overrides, spacing and count warnings."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from courses.models import Injection, PreparationComponent, SessionStatus
from tests.courses.test_session_logging import injection_row, session_post, site, url
from tests.factories import (
    LotFactory,
    ProductFactory,
    ScreeningFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)

TODAY = timezone.localdate()


@pytest.fixture
def course(practitioner):
    return TreatmentCourseFactory(
        practitioner=practitioner,
        start_date=TODAY - datetime.timedelta(days=14),
        interval_days=14,
        planned_sessions=6,
    )


@pytest.fixture
def visit(course, practitioner):
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    return TreatmentSessionFactory(course=course, sequence=2, status=SessionStatus.CHECKED_IN)


@pytest.fixture
def screened(visit, practitioner):
    return ScreeningFactory(patient=visit.patient, screened_by=practitioner)


def dextrose_lot(**kwargs):
    return LotFactory(product=ProductFactory(name="Dextrose 50%"), **kwargs)


@pytest.fixture
def unusable_lots(db):
    return {
        "expired": dextrose_lot(lot_number="EXPIRED1", expiry_date=TODAY - datetime.timedelta(days=1)),
        "recalled": dextrose_lot(lot_number="RECALL1", recalled=True, recall_note="Particles"),
        "beyond use": dextrose_lot(
            lot_number="OPENED1",
            multi_dose=True,
            opened_on=TODAY - datetime.timedelta(days=40),
            beyond_use_date=TODAY - datetime.timedelta(days=12),
        ),
    }


def test_only_usable_lots_are_offered(client_for, practitioner, visit, screened, unusable_lots):
    usable = dextrose_lot(lot_number="GOOD1")

    page = client_for(practitioner).get(url(visit)).text

    assert "Lot GOOD1" in page
    for lot in unusable_lots.values():
        assert f"Lot {lot.lot_number}" not in page
        assert f'"{lot.pk}": {{"type"' not in page  # nor in the data the live totals read
    facts = '{"type": "dextrose", "name": "Dextrose 50%", "percent": "50.00", "glucose": "50.00"}'
    assert f'"{usable.pk}": {facts}' in page


@pytest.mark.parametrize(
    ("kind", "message"),
    [("expired", "expired on"), ("recalled", "recalled"), ("beyond use", "past its beyond-use date")],
)
def test_a_posted_unusable_lot_gets_a_clear_row_error(
    client_for, practitioner, visit, screened, unusable_lots, kind, message
):
    lot = unusable_lots[kind]
    data = session_post(
        visit,
        components=[{"lot": dextrose_lot().pk, "volume_ml": "3"}, {"lot": lot.pk, "volume_ml": "2"}],
        injections=[injection_row(site("MCL femoral"))],
    )

    response = client_for(practitioner).post(url(visit), data)

    assert response.status_code == 200
    assert f"lot {lot.lot_number}" in response.text
    assert "cannot be used" in response.text and message in response.text
    assert not PreparationComponent.all_objects.exists()
    visit.refresh_from_db()
    assert visit.status == SessionStatus.CHECKED_IN


def test_an_unknown_lot_id_is_refused(client_for, practitioner, visit, screened):
    data = session_post(visit, components=[{"lot": 987654, "volume_ml": "3"}])

    response = client_for(practitioner).post(url(visit), data)

    assert response.status_code == 200
    assert "That lot does not exist." in response.text


def test_a_deferring_screening_refuses_the_injection_whatever_the_reason(client_for, practitioner, visit):
    ScreeningFactory(
        patient=visit.patient, screened_by=practitioner, active_infection=True, outcome="deferred"
    )
    client = client_for(practitioner)
    data = session_post(visit, injections=[injection_row(site("MCL femoral"))])

    response = client.post(
        url(visit), {**data, "confirm-screening": "Infection was a resolved UTI; GP agreed"}
    )

    assert response.status_code == 200
    assert "No injection: active local or systemic infection" in response.text
    assert "Injecting needs a screening override" not in response.text  # no reason can let it through
    assert not Injection.objects.exists()
    visit.refresh_from_db()
    assert visit.status == SessionStatus.CHECKED_IN and visit.screening_override_reason == ""


def test_injecting_without_any_screening_needs_an_override(client_for, practitioner, visit):
    response = client_for(practitioner).post(
        url(visit), session_post(visit, injections=[injection_row(site("MCL femoral"))])
    )

    assert response.status_code == 200
    assert "There is no intake screening on record." in response.text
    assert not Injection.objects.exists()


def test_an_out_of_date_screening_needs_an_override(client_for, practitioner, visit):
    ScreeningFactory(
        patient=visit.patient, screened_by=practitioner, screened_on=TODAY - datetime.timedelta(days=400)
    )

    response = client_for(practitioner).post(
        url(visit), session_post(visit, injections=[injection_row(site("MCL femoral"))])
    )

    assert response.status_code == 200
    assert "is older than 180 days" in response.text


def test_a_fish_allergy_with_a_morrhuate_lot_is_refused(client_for, practitioner, visit):
    ScreeningFactory(patient=visit.patient, screened_by=practitioner, allergy_fish=True)
    morrhuate = LotFactory(
        product=ProductFactory(name="Sodium morrhuate 5%", fish_derived=True), lot_number="MOR1"
    )
    data = session_post(visit, components=[{"lot": morrhuate.pk, "volume_ml": "1"}])
    client = client_for(practitioner)

    response = client.post(url(visit), {**data, "confirm-screening": "Allergy disproved by allergist 2025"})

    assert response.status_code == 200
    assert "Fish allergy (morrhuate): Sodium morrhuate 5% lot MOR1 is fish-derived" in response.text
    assert "Fish allergy (morrhuate)" in response.text  # the alerts banner
    assert not PreparationComponent.objects.exists()


def test_precautions_are_shown_and_acknowledged_with_a_reason(client_for, practitioner, visit):
    ScreeningFactory(patient=visit.patient, screened_by=practitioner, diabetes=True)
    client = client_for(practitioner)

    page = client.get(url(visit))
    assert "Precautions:" in page.text and "Diabetes" in page.text

    data = session_post(visit, injections=[injection_row(site("MCL femoral"))])
    assert client.post(url(visit), data).status_code == 200
    response = client.post(url(visit), {**data, "confirm-screening": "Glucose checked: 6.1 mmol/L"})
    assert response.status_code == 302


def test_a_session_too_soon_after_the_previous_one_needs_a_spacing_reason(client_for, practitioner, course):
    TreatmentSessionFactory(
        course=course,
        sequence=1,
        completed=True,
        starts_at=timezone.make_aware(
            datetime.datetime.combine(TODAY - datetime.timedelta(days=5), datetime.time(9))
        ),
    )
    ScreeningFactory(patient=course.patient, screened_by=practitioner)
    visit = TreatmentSessionFactory(course=course, sequence=2, status=SessionStatus.CHECKED_IN)
    client = client_for(practitioner)
    data = session_post(visit, injections=[injection_row(site("MCL femoral"))])

    first = client.post(url(visit), data)

    assert first.status_code == 200
    assert "Outside the course&#x27;s spacing window" in first.text
    assert "5 days: too close (at least 14): treatment 1 was given on" in first.text
    visit.refresh_from_db()
    assert visit.status == SessionStatus.CHECKED_IN

    second = client.post(url(visit), {**data, "confirm-spacing": "Travelling abroad for a month"})

    assert second.status_code == 302
    visit.refresh_from_db()
    assert visit.status == SessionStatus.COMPLETED
    assert visit.spacing_override_reason == "Travelling abroad for a month"


def test_a_course_with_its_own_interval_is_checked_against_that_interval(client_for, practitioner):
    weekly = TreatmentCourseFactory(
        practitioner=practitioner,
        start_date=TODAY - datetime.timedelta(days=7),
        interval_days=7,
        deviation_reason="Klein weekly protocol",
    )
    ScreeningFactory(patient=weekly.patient, screened_by=practitioner)
    TreatmentSessionFactory(course=weekly, sequence=1, completed=True)
    visit = TreatmentSessionFactory(course=weekly, sequence=2, status=SessionStatus.CHECKED_IN)

    response = client_for(practitioner).post(
        url(visit), session_post(visit, injections=[injection_row(site("MCL femoral"))])
    )

    assert response.status_code == 302  # 7 days apart is on plan for a weekly course


def test_completing_more_sessions_than_planned_needs_a_reason(client_for, practitioner):
    course = TreatmentCourseFactory(
        practitioner=practitioner,
        start_date=TODAY - datetime.timedelta(days=42),
        interval_days=14,
        planned_sessions=3,
        deviation_reason="",
    )
    ScreeningFactory(patient=course.patient, screened_by=practitioner)
    for sequence in (1, 2):
        TreatmentSessionFactory(course=course, sequence=sequence, completed=True)
    # Treatment 3 two weeks ago, so treatment 4 is today.
    third = TreatmentSessionFactory(
        course=course,
        sequence=3,
        status=SessionStatus.COMPLETED,
        pain_pre=4,
        starts_at=timezone.make_aware(
            datetime.datetime.combine(TODAY - datetime.timedelta(days=14), datetime.time(9))
        ),
    )
    fourth = TreatmentSessionFactory(
        course=course,
        sequence=4,
        status=SessionStatus.CHECKED_IN,
        starts_at=third.starts_at + datetime.timedelta(days=14),
        ends_at=third.starts_at + datetime.timedelta(days=14, minutes=30),
    )
    client = client_for(practitioner)
    data = session_post(fourth, injections=[injection_row(site("MCL femoral"))])

    first = client.post(url(fourth), data)

    assert first.status_code == 200
    assert "More treatments than planned" in first.text
    assert "makes 4 treatments given; the course is planned for 3" in first.text

    second = client.post(url(fourth), {**data, "confirm-count": "Still improving; extension discussed"})

    assert second.status_code == 302
    fourth.refresh_from_db()
    assert fourth.count_override_reason == "Still improving; extension discussed"
    assert fourth.total_volume_ml == Decimal("2.00")


def test_warnings_are_not_asked_again_when_a_completed_session_is_edited(client_for, practitioner, visit):
    ScreeningFactory(patient=visit.patient, screened_by=practitioner, diabetes=True)
    client = client_for(practitioner)
    data = session_post(visit, injections=[injection_row(site("MCL femoral"))])
    client.post(url(visit), {**data, "confirm-screening": "Glucose fine"})
    visit.refresh_from_db()
    assert visit.status == SessionStatus.COMPLETED

    edit = session_post(visit, action="save", notes="Added after review")
    response = client.post(url(visit), edit)

    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.notes == "Added after review" and visit.screening_override_reason == "Glucose fine"


def test_editing_notes_of_a_completed_session_does_not_ask_for_a_screening_override(
    client_for, practitioner, visit
):
    ScreeningFactory(patient=visit.patient, screened_by=practitioner, diabetes=True)
    visit.status, visit.pain_pre = SessionStatus.COMPLETED, 5
    visit.save()
    Injection.objects.create(session=visit, site=site("MCL femoral"), laterality="right", volume_ml=2)

    response = client_for(practitioner).post(
        url(visit), session_post(visit, action="save", notes="Called: fine")
    )

    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.notes == "Called: fine"
