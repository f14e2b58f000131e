"""Constraint violations reach the user as the sentence the form would have given (clinic.constraints)."""

import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from clinic.constraints import UNKNOWN, sentence_for
from courses.models import TreatmentSession
from tests.factories import InjectionFactory, TreatmentCourseFactory, TreatmentSessionFactory

LIVE_SEQUENCE = TreatmentSession._meta.constraints[0].violation_error_message


# The task queue's own table (django-tasks-db): written by the queue's code only, never by a form or a person.
THIRD_PARTY_QUEUE_APPS = {"django_tasks_database"}


def test_every_constraint_has_its_own_sentence():
    missing = [
        f"{model._meta.label}.{constraint.name}"
        for model in apps.get_models()
        if model._meta.app_label not in THIRD_PARTY_QUEUE_APPS
        for constraint in model._meta.constraints
        if constraint.violation_error_message == constraint.default_violation_error_message
        or not constraint.get_violation_error_message()
    ]
    assert missing == []


def test_a_second_live_treatment_number_is_refused_with_the_sentence(db):
    first = TreatmentSessionFactory(sequence=1)
    again = TreatmentSession(
        course=first.course,
        patient=first.patient,
        practitioner=first.practitioner,
        sequence=1,
        starts_at=first.starts_at + datetime.timedelta(days=14),
        ends_at=first.ends_at + datetime.timedelta(days=14),
    )
    with pytest.raises(ValidationError) as caught:
        again.full_clean()
    assert caught.value.messages == [LIVE_SEQUENCE]
    assert "is violated" not in str(caught.value)


def test_the_database_refusal_of_a_duplicate_number_maps_to_the_same_sentence(db):
    first = TreatmentSessionFactory(sequence=1)
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        TreatmentSessionFactory(
            course=first.course, sequence=1, starts_at=first.starts_at + datetime.timedelta(days=14)
        )
    assert sentence_for(caught.value) == LIVE_SEQUENCE


def test_the_database_refusal_of_a_check_maps_to_its_sentence(db):
    injection = InjectionFactory()
    injection.volume_ml = Decimal("0")
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        injection.save()
    assert sentence_for(caught.value) == "An injection's volume is above 0 and at most 20 mL."


def test_an_unknown_refusal_gets_the_general_sentence():
    assert sentence_for(IntegrityError("NOT NULL constraint failed: x.y")) == UNKNOWN


def test_a_database_refusal_no_view_catches_is_a_clear_page_not_a_500(
    db, client_for, front_desk, monkeypatch
):
    session = TreatmentSessionFactory(course=TreatmentCourseFactory())

    def refused(**kwargs):
        raise IntegrityError("CHECK constraint failed: session_cancel_has_reason")

    monkeypatch.setattr("scheduling.diary.visit_check_in", refused)
    response = client_for(front_desk).post(reverse("scheduling:session-check-in", args=[session.pk]))
    assert response.status_code == 409
    assert "Give a reason for cancelling this visit." in response.content.decode()
    assert "Nothing was saved" in response.content.decode()
