"""Nothing is lost: the database refuses impossible values, clinical rows are protected and never deleted."""

import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.test import RequestFactory
from django.urls import reverse

from clinic.records import ClinicalRecord
from courses.models import (
    Injection,
    OutcomeInstrument,
    PreparationComponent,
    SideEffect,
    TreatmentCourse,
    TreatmentSession,
)
from patients.models import Patient
from tests.factories import (
    ConsentFactory,
    InjectionFactory,
    OutcomeScoreFactory,
    PatientFactory,
    PreparationComponentFactory,
    ScreeningFactory,
    SideEffectFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
)

CLINICAL_APPS = ("patients", "courses", "scheduling", "outcomes")
OUR_APPS = ("clinic", *CLINICAL_APPS)


def refused_by_the_database(model, pk, **values):
    """Write values straight to the row, past forms and clean(): the database alone must refuse them."""
    with pytest.raises(IntegrityError), transaction.atomic():
        model._base_manager.filter(pk=pk).update(**values)


@pytest.mark.parametrize(
    "values",
    [
        {"baseline_pain": 11},
        {"end_date": datetime.date(2000, 1, 1)},
        {"status": "stopped", "stop_reason": ""},
        {"planned_sessions": 0},
    ],
    ids=["pain-above-10", "ends-before-start", "stopped-without-reason", "no-sessions"],
)
def test_the_database_refuses_an_impossible_course(db, values):
    course = TreatmentCourseFactory()
    refused_by_the_database(TreatmentCourse, course.pk, **values)


@pytest.mark.parametrize(
    "values",
    [
        {"pain_pre": 11},
        {"pain_post": 12},
        {"pain_pre": None},  # completed without the pain score before injecting
        {"status": "cancelled", "cancel_reason": ""},
        {"ends_at": datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)},
        {"sequence": 0},
    ],
    ids=[
        "pain-pre-11",
        "pain-post-12",
        "completed-without-pain",
        "cancelled-without-reason",
        "ends-first",
        "seq-0",
    ],
)
def test_the_database_refuses_an_impossible_session(db, values):
    session = TreatmentSessionFactory(completed=True)
    refused_by_the_database(TreatmentSession, session.pk, **values)


@pytest.mark.parametrize("volume", [Decimal("0"), Decimal("-1"), Decimal("20.01")])
def test_the_database_refuses_an_injection_volume_outside_0_to_20_ml(db, volume):
    injection = InjectionFactory()
    refused_by_the_database(Injection, injection.pk, volume_ml=volume)


def test_the_database_accepts_the_20_ml_limit_itself(db):
    injection = InjectionFactory()
    Injection.objects.filter(pk=injection.pk).update(volume_ml=Decimal("20"))  # the limit is inclusive


def test_the_database_refuses_an_empty_preparation_component(db):
    component = PreparationComponentFactory()
    refused_by_the_database(PreparationComponent, component.pk, volume_ml=Decimal("0"))


@pytest.mark.parametrize(
    "values",
    [
        {"severity": 0},
        {"severity": 6},
        {"resolved_date": datetime.date(2000, 1, 1)},
        {"serious": True, "serious_criterion": ""},
    ],
    ids=["severity-0", "severity-6", "resolved-before-onset", "serious-without-criterion"],
)
def test_the_database_refuses_an_impossible_side_effect(db, values):
    side_effect = SideEffectFactory()
    refused_by_the_database(SideEffect, side_effect.pk, **values)


def test_the_database_refuses_an_archived_patient_without_a_reason(db):
    patient = PatientFactory()
    refused_by_the_database(Patient, patient.pk, archived=True, archived_reason="")


def test_the_database_refuses_an_instrument_whose_range_is_upside_down(db):
    instrument = OutcomeInstrument.objects.first()
    refused_by_the_database(OutcomeInstrument, instrument.pk, max_score=instrument.min_score)


def clinical_models():
    for app_label in CLINICAL_APPS:
        if apps.is_installed(app_label):
            yield from apps.get_app_config(app_label).get_models()


CLINICAL_TARGETS = {"patients.Patient", "courses.TreatmentCourse", "courses.TreatmentSession"}


def test_every_foreign_key_from_clinical_rows_protects_what_it_points_at():
    loose = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not isinstance(field, models.ForeignKey):
                continue
            target = field.related_model._meta.label
            from_clinical_app = model._meta.app_label in ("patients", "courses")
            if (
                from_clinical_app or target in CLINICAL_TARGETS
            ) and field.remote_field.on_delete is not models.PROTECT:
                loose.append(f"{model._meta.label}.{field.name} -> {target}")
    assert not loose, f"Clinical foreign keys must be PROTECT: {loose}"


@pytest.mark.parametrize(
    "make",
    [
        PatientFactory,
        ScreeningFactory,
        ConsentFactory,
        TreatmentCourseFactory,
        TreatmentSessionFactory,
        PreparationComponentFactory,
        InjectionFactory,
        SideEffectFactory,
        OutcomeScoreFactory,
    ],
)
def test_patients_and_clinical_entries_refuse_to_be_deleted(db, make):
    record = make()
    with pytest.raises(ValidationError):
        record.delete()
    assert type(record)._base_manager.filter(pk=record.pk).exists()


def test_every_clinical_entry_model_is_a_voidable_clinical_record():
    for label in (
        "patients.Screening",
        "patients.Consent",
        "courses.PreparationComponent",
        "courses.Injection",
        "courses.SideEffect",
        "courses.OutcomeScore",
    ):
        assert issubclass(apps.get_model(label), ClinicalRecord), label


def test_a_patient_with_a_course_cannot_be_removed_even_in_bulk(db):
    course = TreatmentCourseFactory()
    with pytest.raises(models.ProtectedError), transaction.atomic():
        # QuerySet.delete() skips Patient.delete(); PROTECT is what stops it.
        Patient.objects.filter(pk=course.patient_id).delete()
    assert Patient.objects.filter(pk=course.patient_id).exists()


def holds_clinical_data(model):
    """Patients, clinical rows, catalogues and staff; or any row pointing at a patient, course or session.

    Diary settings (working hours, closures) are configuration and may be removed.
    """
    if model._meta.app_label in ("clinic", "patients", "courses"):
        return True
    return any(
        isinstance(field, models.ForeignKey) and field.related_model._meta.label in CLINICAL_TARGETS
        for field in model._meta.get_fields()
    )


def our_admins():
    return [
        pytest.param(model_admin, id=model._meta.label)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in OUR_APPS and holds_clinical_data(model)
    ]


@pytest.mark.parametrize("model_admin", our_admins())
def test_the_admin_offers_no_delete_for_our_models_even_to_superusers(db, model_admin):
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_superuser=True, is_staff=True)
    assert model_admin.has_delete_permission(request) is False
    assert "delete_selected" not in model_admin.get_actions(request)


def test_the_audit_trail_cannot_be_edited_or_deleted_in_the_admin(client, db):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.get(reverse("admin:auditlog_logentry_changelist"))
    assert response.status_code == 200
    assert "delete_selected" not in response.content.decode()
