"""A patient's FHIR R4 Bundle (GET /api/v1/patients/<id>/fhir/): every entry validates against the R4B
models, verified codes only, lots and strengths, nothing voided, the permission matrix and the access log."""

import json

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from api import fhir
from courses.models import Injection, InjectionSite
from tests.api.fhir_kit import full_course, of_type, validated

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(practitioner):
    return full_course(practitioner)


def fetch(api_as, user, record, *, session=False):
    response = api_as(user, session=session).get(reverse("api:patient-fhir", args=[record["patient"].pk]))
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def resources(bundle):
    return [entry["resource"] for entry in bundle["entry"]]


@pytest.mark.parametrize("session", [False, True], ids=["token", "session"])
def test_it_serves_a_bundle_whose_every_entry_validates_as_r4b(api_as, practitioner, record, session):
    bundle = fetch(api_as, practitioner, record, session=session)

    Bundle.model_validate(bundle)
    for resource in resources(bundle):
        validated(resource)
    assert bundle["type"] == "collection"
    kinds = {resource["resourceType"] for resource in resources(bundle)}
    assert kinds == {
        "Patient",
        "EpisodeOfCare",
        "CarePlan",
        "Encounter",
        "Procedure",
        "Medication",
        "MedicationAdministration",
        "AdverseEvent",
        "Observation",
    }


def test_it_answers_as_fhir_json_for_download(api_as, practitioner, record):
    response = api_as(practitioner).get(reverse("api:patient-fhir", args=[record["patient"].pk]))

    assert response["Content-Type"].startswith("application/fhir+json")
    assert "attachment" in response["Content-Disposition"]


def test_every_reference_resolves_inside_the_bundle(api_as, practitioner, record):
    bundle = fetch(api_as, practitioner, record)
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}

    found = []

    def walk(value):
        if isinstance(value, dict):
            if "reference" in value:
                found.append(value["reference"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(resources(bundle))
    assert found
    assert set(found) <= full_urls
    assert len(full_urls) == len(bundle["entry"])


def test_pain_nrs_carries_loinc_72514_3_and_other_instruments_the_clinic_code(api_as, practitioner, record):
    observations = of_type(resources(fetch(api_as, practitioner, record)), "Observation")

    nrs = [o for o in observations if o["code"]["coding"][0]["system"] == fhir.LOINC]
    assert {o["code"]["coding"][0]["code"] for o in nrs} == {"72514-3"}
    # Two pre-injection scores, one post-injection score, one NRS follow-up score.
    assert sorted(o["valueQuantity"]["value"] for o in nrs) == [3, 3, 5, 7]
    instrument = record["scores"][1].instrument
    (koos,) = [o for o in observations if o["code"]["text"] == instrument.name]
    assert koos["code"]["coding"] == [
        {
            "system": "https://prolotrack.example/fhir/CodeSystem/instrument",
            "code": "KOOS",
            "display": instrument.name,
        }
    ]
    assert koos["valueQuantity"]["value"] == 62.5
    pre = [
        o for o in nrs if o["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "pre-injection"
    ]
    assert len(pre) == 2 and all("encounter" in o for o in pre)


def test_the_preparation_names_its_lots_and_each_agents_strength(api_as, practitioner, record):
    found = resources(fetch(api_as, practitioner, record))
    medications = of_type(found, "Medication")

    lots = {m["code"]["text"]: m["batch"] for m in medications if "batch" in m}
    dextrose, lidocaine = record["lots"]
    assert lots == {
        "Dextrose 50%": {"lotNumber": "DX-2291", "expirationDate": dextrose.expiry_date.isoformat()},
        "Lidocaine 1%": {"lotNumber": "LD-0457", "expirationDate": lidocaine.expiry_date.isoformat()},
    }
    mixes = [m for m in medications if "ingredient" in m]
    assert len(mixes) == 2
    # 3 mL dextrose 50 % + 2 mL lidocaine 1 %: dextrose 30 %, lidocaine 0.4 %.
    strengths = [i["strength"]["numerator"] for i in mixes[0]["ingredient"]]
    assert [(s["value"], s["code"]) for s in strengths] == [(30, "%"), (0.4, "%")]
    administrations = of_type(found, "MedicationAdministration")
    assert len(administrations) == 2
    assert administrations[0]["dosage"]["dose"] == {
        "value": 4.5,
        "unit": "mL",
        "system": "http://unitsofmeasure.org",
        "code": "mL",
    }


def test_each_injection_is_a_procedure_with_its_site_as_text_and_a_verified_laterality(
    api_as, practitioner, record
):
    procedures = of_type(resources(fetch(api_as, practitioner, record)), "Procedure")

    assert len(procedures) == 4
    right, midline = procedures[0]["bodySite"][0], procedures[1]["bodySite"][0]
    assert right["text"] == "MCL femoral (Knee), right"
    assert right["coding"][0]["system"] == "https://prolotrack.example/fhir/CodeSystem/injection-site"
    assert right["extension"][0]["valueCodeableConcept"]["coding"] == [
        {"system": "http://snomed.info/sct", "code": "419465000"}
    ]
    assert midline["text"] == "Pes anserine (Knee), midline"
    assert "extension" not in midline
    # Neither site has a verified SNOMED CT code in the catalogue: none is made up.
    assert all(c["system"] != fhir.SNOMED for p in procedures for c in p["bodySite"][0]["coding"])


def test_a_site_with_a_snomed_code_in_the_catalogue_leaves_with_it():
    knee_joint = InjectionSite.objects.get(region="knee", name="Knee intra-articular")
    injection = Injection(site=knee_joint, laterality="left", volume_ml=5)

    site = fhir.body_site(injection, fhir.Identified())

    assert site["coding"][0] == {"system": "http://snomed.info/sct", "code": "49076000"}
    assert site["coding"][1]["system"] == "https://prolotrack.example/fhir/CodeSystem/injection-site"
    assert site["text"] == "Knee intra-articular (Knee), left"


def test_the_side_effect_is_an_adverse_event_with_grade_and_seriousness(api_as, practitioner, record):
    (event,) = of_type(resources(fetch(api_as, practitioner, record)), "AdverseEvent")

    assert event["actuality"] == "actual"
    assert {
        "system": "http://terminology.hl7.org/CodeSystem/adverse-event-severity",
        "code": "moderate",
    } in event["severity"]["coding"]
    assert event["severity"]["text"] == "2 – Moderate"
    assert {
        "system": "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness",
        "code": "SeriousResultsInHospitalization",
    } in event["seriousness"]["coding"]
    assert event["date"] == record["effect"].onset_date.isoformat()
    assert event["suspectEntity"][0]["instance"]["reference"].startswith("urn:uuid:")


def test_the_course_is_an_episode_and_a_plan_of_its_treatments(api_as, practitioner, record):
    found = resources(fetch(api_as, practitioner, record))

    (episode,) = of_type(found, "EpisodeOfCare")
    (plan,) = of_type(found, "CarePlan")
    assert episode["status"] == "active"
    statuses = [a["detail"]["status"] for a in plan["activity"]]
    assert statuses == ["completed", "completed", "scheduled", "not-started"]
    assert len(of_type(found, "Encounter")) == 2


def test_it_leaves_voided_entries_out(api_as, practitioner, record):
    found = resources(fetch(api_as, practitioner, record))
    ids = {resource["id"] for resource in found}

    voided = record["voided"]
    assert f"injection-{voided['injection'].pk}" not in ids
    assert f"score-{voided['score'].pk}" not in ids
    assert f"side-effect-{voided['side_effect'].pk}" not in ids
    assert "9.75" not in json.dumps(found)


def test_the_patient_carries_the_identity_the_page_shows(api_as, practitioner, record):
    (patient,) = of_type(resources(fetch(api_as, practitioner, record)), "Patient")

    assert patient["identifier"][0]["value"] == record["patient"].mrn
    assert patient["name"][0] == {"use": "official", "family": "Quinn", "given": ["Ada"]}
    assert {"system": "phone", "value": "07700 900123"} in patient["telecom"]
    assert patient["birthDate"] == record["patient"].date_of_birth.isoformat()


def test_it_writes_the_access_log_as_opening_the_record(api_as, practitioner, record):
    fetch(api_as, practitioner, record)

    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=practitioner).latest("timestamp")
    assert entry.object_pk == str(record["patient"].pk)
    assert entry.additional_data["what"] == "FHIR record"


@pytest.mark.parametrize(
    ("persona", "status"),
    [("front_desk", 403), ("practitioner", 200), ("clinic_admin", 200), ("stranger", 403), (None, 401)],
)
def test_it_requires_clinical_access(request, api_as, record, persona, status):
    user = request.getfixturevalue(persona) if persona else None

    # An account without a role cannot be given a token: it is signed in with a session.
    response = api_as(user, session=persona == "stranger").get(
        reverse("api:patient-fhir", args=[record["patient"].pk])
    )

    assert response.status_code == status


def test_it_answers_404_for_an_unknown_patient(api_as, practitioner):
    assert api_as(practitioner).get(reverse("api:patient-fhir", args=[999999])).status_code == 404


def test_the_patient_page_offers_the_download_to_clinical_staff_only(
    client, practitioner, front_desk, record
):
    url = reverse("patients:patient-detail", args=[record["patient"].pk])
    client.force_login(practitioner)
    assert "Download FHIR record (JSON)" in client.get(url).content.decode()
    client.force_login(front_desk)
    assert "Download FHIR record (JSON)" not in client.get(url).content.decode()


def test_it_runs_a_fixed_number_of_queries(api_as, practitioner, record, django_assert_max_num_queries):
    api = api_as(practitioner)
    with django_assert_max_num_queries(20):
        api.get(reverse("api:patient-fhir", args=[record["patient"].pk]))


def test_demo_patients_bundles_validate_and_round_trip(api_as):
    """The demo clinic's own records, as `make run` seeds them: every entry validates as R4B, and the Bundle
    read back by the model library serialises to the same resources."""
    import random

    import courses.demo
    import patients.demo
    import scheduling.demo
    from clinic.demo import seed_users
    from courses.models import SessionStatus, TreatmentSession

    users = seed_users()
    rng = random.Random(2026)
    patients.demo.seed(users=users, rng=rng, patients=40)
    scheduling.demo.seed_calendar(users=users, rng=rng)
    courses.demo.seed(users=users, rng=rng, patients=40)
    treated = (
        TreatmentSession.objects.filter(status=SessionStatus.COMPLETED)
        .values_list("patient_id", flat=True)
        .distinct()
        .order_by("patient_id")[:6]
    )
    assert len(treated) == 6
    client = api_as(users["practitioner"])
    for patient_id in treated:
        response = client.get(reverse("api:patient-fhir", args=[patient_id]))
        assert response.status_code == 200
        bundle = json.loads(response.content)
        parsed = Bundle.model_validate(bundle)
        for resource in resources(bundle):
            validated(resource)
        again = json.loads(parsed.model_dump_json(exclude_none=True))
        assert [entry["resource"]["id"] for entry in again["entry"]] == [r["id"] for r in resources(bundle)]
        assert {"Encounter", "Procedure", "Observation"} <= {r["resourceType"] for r in resources(bundle)}
