import random

from django.urls import reverse

from clinic.demo import seed_users
from patients import demo
from patients.models import Consent, Patient, Screening


def test_demo_seeding_creates_varied_patients_once(db):
    users = seed_users()
    demo.seed(users=users, rng=random.Random(1), patients=120, stdout=None)
    patients = list(Patient.objects.all())
    assert len(patients) == 120
    assert len({p.mrn for p in patients}) == 120
    assert all(p.search_name for p in patients)
    assert any(p.search_name != p.full_name.lower() for p in patients)  # some accented names
    assert any(p.archived for p in patients)
    assert {p.primary_practitioner.username for p in patients} <= {"practitioner", "dr.chen", "dr.patel"}
    ages = [p.age for p in patients]
    assert min(ages) >= 25 and max(ages) <= 85
    assert Screening.objects.filter(outcome=Screening.Outcome.DEFERRED).exists()
    assert any(s.allergies for s in Screening.objects.all())
    assert any(s.precautions for s in Screening.objects.all())
    assert Consent.objects.exists()

    demo.seed(users=users, rng=random.Random(2), patients=120, stdout=None)
    assert Patient.objects.count() == 120


def test_demo_patients_are_found_by_search(client_for, front_desk):
    demo.seed(users=seed_users(), rng=random.Random(3), patients=50, stdout=None)
    someone = Patient.objects.active().first()
    response = client_for(front_desk).get(reverse("patients:patient-list"), {"q": someone.mrn})
    assert list(response.context["page"].object_list) == [someone]
