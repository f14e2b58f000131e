"""The demo's patients answer their open check-ins through the patient's own services."""

import random

import pytest

import questionnaires.demo
from courses.models import PatientSideEffectReport, SideEffect
from questionnaires.models import AssignmentStatus
from tests.questionnaires.test_reported_side_effects import course  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def test_the_first_open_check_in_is_answered_and_its_reactions_wait_for_the_practitioner(course):  # noqa: F811
    questionnaires.demo.seed(users={}, rng=random.Random(1))

    course.check_in.refresh_from_db()
    assert course.check_in.status == AssignmentStatus.COMPLETED
    assert course.check_in.answers.count() >= 6
    reports = PatientSideEffectReport.objects.filter(course=course)
    assert {(r.item_code, r.grade, r.status) for r in reports} == {
        ("flare", 2, PatientSideEffectReport.Status.PENDING),
        ("swelling", 1, PatientSideEffectReport.Status.PENDING),
    }
    assert not SideEffect.objects.exists()  # the practitioner has not confirmed them


def test_seeding_again_answers_nothing_twice(course):  # noqa: F811
    questionnaires.demo.seed(users={}, rng=random.Random(1))
    questionnaires.demo.seed(users={}, rng=random.Random(2))
    assert PatientSideEffectReport.objects.count() == 2
