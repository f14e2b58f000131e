"""Demo and scale data obey the safety gates: every generated treatment is re-checked with courses.safety."""

import random

import pytest
from django.db.models import Prefetch
from django.utils import timezone

import courses.demo
import patients.demo
import scheduling.demo
from clinic.demo import seed_users
from clinic.scale_demo import scale_seed
from courses import safety
from courses.models import PreparationComponent, ProtocolSettings, TreatmentSession
from patients.models import Screening


def refused_treatments():
    """(session, refusals) for every generated treatment the app's own gates refuse; cautions without a
    recorded reason count as refusals too, since the app would have asked for one."""
    protocol = ProtocolSettings.load()
    screenings = courses.demo.latest_screenings()
    treatments = (
        TreatmentSession.objects.filter(status="completed", assessment_only=False)
        .select_related("course__consent", "patient")
        .prefetch_related(
            Prefetch("components", queryset=PreparationComponent.objects.select_related("lot__product"))
        )
        .order_by("course_id", "starts_at")
    )
    problems, seen_courses = [], set()
    for session in treatments:
        first = session.course_id not in seen_courses
        seen_courses.add(session.course_id)
        gates = safety.injection_gates(
            screening=screenings.get(session.patient_id),
            protocol=protocol,
            day=timezone.localdate(session.starts_at),
            lots=[component.lot for component in session.components.all()],
            first_treatment=first,
            course=session.course,
        )
        found = [refusal.message for refusal in gates.refusals]
        if gates.cautions and not session.screening_override_reason:
            found += list(gates.cautions)
        if found:
            problems.append((session.pk, found))
    return problems


def test_every_demo_treatment_passes_the_safety_gates(db):
    users = seed_users()
    rng = random.Random(7)
    patients.demo.seed(users=users, rng=rng, patients=150)
    scheduling.demo.seed_calendar(users=users, rng=rng)
    courses.demo.seed(users=users, rng=rng, patients=150)
    assert TreatmentSession.objects.filter(status="completed").count() > 100
    # The demo's patients include the cases the gates exist for: the generator must have steered around them.
    assert Screening.objects.filter(outcome=Screening.Outcome.DEFERRED).exists()
    assert Screening.objects.exclude(allergy_corn_dextrose=False, allergy_local_anaesthetic=False).exists()

    assert refused_treatments() == []


def test_every_scale_treatment_passes_the_safety_gates(db):
    scale_seed(patients=60, rng=random.Random(3), label="gates")

    assert TreatmentSession.objects.filter(status="completed").count() > 50
    assert refused_treatments() == []


@pytest.mark.parametrize("allergy", ["allergy_corn_dextrose", "allergy_local_anaesthetic"])
def test_a_patient_allergic_to_the_demo_syringe_gets_no_course(db, allergy):
    users = seed_users()
    rng = random.Random(11)
    patients.demo.seed(users=users, rng=rng, patients=150)
    allergic = list(Screening.objects.filter(**{allergy: True}).values_list("patient_id", flat=True))
    assert allergic
    scheduling.demo.seed_calendar(users=users, rng=rng)
    courses.demo.seed(users=users, rng=rng, patients=150)

    assert not TreatmentSession.objects.filter(patient_id__in=allergic, status="completed").exists()
