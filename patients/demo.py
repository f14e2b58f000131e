"""Demo patients with screenings and consents, for `seed_demo`."""

import datetime

from django.utils import timezone

from patients.models import Consent, Patient, Screening, fold
from patients.services import mrn_allocate

GIVEN_FEMALE = [
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Grace",
    "Freya",
    "Zoë",
    "Chloé",
    "Niamh",
    "Siobhán",
    "Aoife",
    "Ingrid",
    "Margaret",
    "Patricia",
    "Helen",
    "Priya",
    "Fatima",
    "Mei",
    "Agnieszka",
    "Renée",
    "Hannah",
    "Ellie",
    "Ruth",
]
GIVEN_MALE = [
    "Oliver",
    "George",
    "Harry",
    "Jack",
    "Noah",
    "Leo",
    "Arthur",
    "José",
    "Jürgen",
    "Seán",
    "Ciarán",
    "Rhys",
    "Thomas",
    "David",
    "Robert",
    "Rajesh",
    "Omar",
    "Wei",
    "Tomás",
    "François",
    "Michael",
    "Peter",
    "Kwame",
]
FAMILY = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Patel",
    "Khan",
    "Lewis",
    "James",
    "Phillips",
    "Mason",
    "O'Brien",
    "Ó Súilleabháin",
    "Müller",
    "Nuñez",
    "Løvland",
    "Kowalski",
    "Nguyen",
    "Okonkwo",
    "Dubois",
    "García",
    "Fernández",
    "Björk",
    "MacLeod",
    "Murphy",
]
NICKNAMES = {
    "Margaret": "Peggy",
    "Patricia": "Pat",
    "Helen": "Nell",
    "Thomas": "Tom",
    "Robert": "Bob",
    "Michael": "Mike",
    "David": "Dave",
    "Peter": "Pete",
    "Agnieszka": "Aga",
}
STREETS = [
    "High Street",
    "Station Road",
    "Church Lane",
    "Mill Road",
    "Victoria Road",
    "Park Avenue",
    "The Green",
]
TOWNS = ["Bristol BS1", "Bath BA1", "Leeds LS6", "York YO1", "Oxford OX4", "Norwich NR2", "Exeter EX4"]
ANTICOAGULANTS = ["Apixaban", "Warfarin", "Rivaroxaban", "Clopidogrel", "Aspirin 75 mg"]
ARCHIVE_REASONS = ["Moved away", "Registered twice", "Care transferred to another clinic"]
SCOPES = [
    "Dextrose prolotherapy, right knee",
    "Dextrose prolotherapy, left knee",
    "Dextrose prolotherapy, lumbar spine",
    "Dextrose prolotherapy, right shoulder",
    "Dextrose prolotherapy, left Achilles tendon",
]


def _patient(rng, today, practitioners):
    female = rng.random() < 0.55
    given = rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)
    family = rng.choice(FAMILY)
    age_days = rng.randint(25 * 365, 85 * 365)
    mobile = f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}"
    slug = "".join(c for c in fold(f"{given}.{family}") if c.isascii() and (c.isalnum() or c == "."))
    method = rng.choices(["phone", "sms", "email", "post"], weights=[4, 4, 3, 1])[0]
    patient = Patient(
        given_name=given,
        family_name=family,
        preferred_name=NICKNAMES.get(given, "") if rng.random() < 0.4 else "",
        date_of_birth=today - datetime.timedelta(days=age_days),
        sex=Patient.Sex.FEMALE if female else Patient.Sex.MALE,
        phone=mobile if rng.random() < 0.7 else mobile.replace(" ", ""),
        email=f"{slug}{rng.randint(1, 99)}@mail.example",
        address=f"{rng.randint(1, 180)} {rng.choice(STREETS)}\n{rng.choice(TOWNS)} {rng.randint(1, 9)}AB",
        emergency_contact_name=(
            f"{rng.choice(GIVEN_FEMALE + GIVEN_MALE)} {family}" if rng.random() < 0.6 else ""
        ),
        preferred_contact=method,
        reminders_allowed=rng.random() < 0.9,
        primary_practitioner=rng.choice(practitioners),
    )
    if patient.emergency_contact_name:
        patient.emergency_contact_phone = f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}"
    return patient


def _screening(rng, patient, today, practitioners):
    screening = Screening(
        patient=patient,
        screened_on=today - datetime.timedelta(days=rng.randint(0, 400)),
        screened_by=patient.primary_practitioner or rng.choice(practitioners),
        outcome=Screening.Outcome.ELIGIBLE,
    )
    screening.created_by = screening.screened_by
    for field in Screening.PRECAUTION_FIELDS:
        if rng.random() < 0.06:
            setattr(screening, field, True)
    if patient.sex == Patient.Sex.MALE or patient.age_on(today) > 50:
        screening.pregnancy = False
    if screening.anticoagulant:
        screening.anticoagulant_drug = rng.choice(ANTICOAGULANTS)
    for field in Screening.ALLERGY_FIELDS:
        if rng.random() < 0.04:
            setattr(screening, field, True)
    if rng.random() < 0.05:
        screening.allergy_other = rng.choice(["Penicillin", "Chlorhexidine", "Elastoplast"])
    if rng.random() < 0.05:
        setattr(screening, rng.choice(Screening.DEFER_FIELDS), True)
        screening.outcome = Screening.Outcome.DEFERRED
        screening.notes = "Re-screen when resolved."
    elif rng.random() < 0.01:
        screening.outcome = Screening.Outcome.NOT_ELIGIBLE
        screening.notes = "Referred back to GP."
    return screening


def seed(*, users, rng, patients=300, stdout=None):
    """Create `patients` varied demo patients with screenings and consents; skip if they exist."""
    if Patient.objects.exists():
        if stdout:
            stdout.write("Demo patients already present; skipped.")
        return
    today = timezone.localdate()
    practitioners = [users["practitioner"], users["dr.chen"], users["dr.patel"]]
    desk = users["frontdesk"]
    people = [_patient(rng, today, practitioners) for _ in range(patients)]
    registered = timezone.now()
    for patient, mrn in zip(people, mrn_allocate(count=len(people)), strict=True):
        patient.mrn = mrn
        patient.created_by = desk
        patient.created_at = registered - datetime.timedelta(days=rng.randint(0, 900))
        if rng.random() < 0.04:
            patient.archived = True
            patient.archived_reason = rng.choice(ARCHIVE_REASONS)
            patient.archived_at = registered - datetime.timedelta(days=rng.randint(0, 60))
            patient.archived_by = desk
        patient.full_clean()
        # bulk_create skips save(), which keeps the search columns in step.
        patient.refresh_search_fields()
    Patient.objects.bulk_create(people)
    people = list(Patient.objects.order_by("id"))

    screenings, consents = [], []
    for patient in people:
        if rng.random() < 0.85:
            screening = _screening(rng, patient, today, practitioners)
            screening.full_clean()
            screenings.append(screening)
            if rng.random() < 0.8:
                consent = Consent(
                    patient=patient,
                    consented_on=screening.screened_on,
                    taken_by=screening.screened_by,
                    created_by=screening.screened_by,
                    form_version=rng.choice(["PRO-2025-2", "PRO-2026-1"]),
                    scope=rng.choice(SCOPES),
                )
                consent.full_clean()
                consents.append(consent)
    Screening.objects.bulk_create(screenings)
    Consent.objects.bulk_create(consents)
    if stdout:
        stdout.write(
            f"Demo patients: {len(people)} ({sum(p.archived for p in people)} archived), "
            f"{len(screenings)} screenings, {len(consents)} consents."
        )
