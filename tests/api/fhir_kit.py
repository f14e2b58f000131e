"""The FHIR tests' kit: a patient with a full course, and validation of emitted resources against the
published R4B models of fhir.resources (README "FHIR" says why R4B is the faithful check for our R4)."""

import datetime
from decimal import Decimal

from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from courses.models import Product, SessionStatus, Severity, SideEffect, Timepoint
from tests.api.conftest import day_at
from tests.factories import (
    InjectionFactory,
    InjectionSiteFactory,
    LotFactory,
    OutcomeInstrumentFactory,
    OutcomeScoreFactory,
    PatientFactory,
    PreparationComponentFactory,
    ProductFactory,
    SideEffectFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)


def validated(resource):
    """The resource parsed by its R4B model (raises pydantic's ValidationError when it breaks the model)."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def full_course(practitioner):
    """A patient with a course of two treatments given (a two-agent preparation each, injections at two
    sites), a third visit booked, a side effect, NRS and KOOS scores, and a voided injection, score and side
    effect that must never appear."""
    nrs = OutcomeInstrumentFactory()
    koos = OutcomeInstrumentFactory(
        code="KOOS", name="KOOS pain", min_score=0, max_score=100, higher_is_better=True, mcid_absolute=8
    )
    patient = PatientFactory(
        given_name="Ada",
        family_name="Quinn",
        phone="07700 900123",
        email="ada.quinn@mail.example",
        address="1 Mill Lane, Exeter",
        emergency_contact_name="Ben Quinn",
        emergency_contact_phone="07700 900456",
    )
    course = TreatmentCourseFactory(
        patient=patient,
        practitioner=practitioner,
        planned_sessions=4,
        start_date=timezone.localdate() - datetime.timedelta(days=40),
        outcome_instrument=koos,
    )
    dextrose = LotFactory(product=ProductFactory(name="Dextrose 50%"), lot_number="DX-2291")
    lidocaine = LotFactory(
        product=ProductFactory(
            name="Lidocaine 1%",
            product_type=Product.ProductType.ANAESTHETIC,
            stock_concentration_percent=Decimal("1"),
            local_anaesthetic=True,
        ),
        lot_number="LD-0457",
    )
    mcl = InjectionSiteFactory(name="MCL femoral")
    pes = InjectionSiteFactory(name="Pes anserine")
    treatments = []
    for index, days in enumerate((-30, -16)):
        visit = TreatmentSessionFactory(
            course=course,
            sequence=index + 1,
            completed=True,
            starts_at=day_at(days, 9),
            ends_at=day_at(days, 9, 30),
            pain_pre=7 - 2 * index,
            pain_post=3 if index == 0 else None,
            total_volume_ml=Decimal("4.5"),
        )
        PreparationComponentFactory(session=visit, lot=dextrose, volume_ml=Decimal("3"))
        PreparationComponentFactory(session=visit, lot=lidocaine, volume_ml=Decimal("2"))
        InjectionFactory(session=visit, site=mcl, volume_ml=Decimal("2.5"))
        InjectionFactory(session=visit, site=pes, laterality="midline", volume_ml=Decimal("2"))
        treatments.append(visit)
    booked = TreatmentSessionFactory(
        course=course,
        sequence=3,
        status=SessionStatus.SCHEDULED,
        starts_at=day_at(5, 10),
        ends_at=day_at(5, 10, 30),
    )
    effect = SideEffectFactory(
        attributed_session=treatments[0],
        reported_session=treatments[1],
        onset_date=timeline_day(treatments[0]) + datetime.timedelta(days=1),
        resolved_date=timeline_day(treatments[0]) + datetime.timedelta(days=3),
        severity=Severity.MODERATE,
        serious=True,
        serious_criterion=SideEffect.SeriousCriterion.HOSPITALISATION,
        notes="Kept overnight at the Royal Devon",
    )
    nrs_score = OutcomeScoreFactory(
        course=course,
        instrument=nrs,
        score=Decimal("3"),
        recorded_on=timezone.localdate() - datetime.timedelta(days=2),
    )
    koos_score = OutcomeScoreFactory(
        course=course,
        instrument=koos,
        score=Decimal("62.5"),
        timepoint=Timepoint.BETWEEN,
        recorded_on=timezone.localdate() - datetime.timedelta(days=2),
    )
    voided = {
        "injection": InjectionFactory(session=treatments[1], site=mcl, volume_ml=Decimal("9.75")),
        "score": OutcomeScoreFactory(course=course, instrument=nrs, score=Decimal("9")),
        "side_effect": SideEffectFactory(attributed_session=treatments[1], severity=Severity.SEVERE),
    }
    for row in voided.values():
        row.void(by=practitioner, reason="Entered in error")
    return {
        "patient": patient,
        "course": course,
        "treatments": treatments,
        "booked": booked,
        "lots": (dextrose, lidocaine),
        "effect": effect,
        "scores": (nrs_score, koos_score),
        "voided": voided,
    }


def timeline_day(visit):
    return timezone.localtime(visit.starts_at).date()


def of_type(resources, resource_type):
    return [resource for resource in resources if resource["resourceType"] == resource_type]
