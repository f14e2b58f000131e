"""The research export's FHIR bulk data (outcomes:research-export?level=fhir): a zip of NDJSON files per
resource type and a Bulk Data manifest, de-identified by the research export's rules, every line valid R4B."""

import datetime
import io
import json
import re
import zipfile

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from api import fhir_bulk
from outcomes import summary
from outcomes.exports import pseudonym
from tests.api.fhir_kit import full_course, of_type, validated
from tests.factories import TreatmentCourseFactory, TreatmentSessionFactory

pytestmark = pytest.mark.django_db

CALENDAR_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
def record(practitioner):
    found = full_course(practitioner)
    summary.course_outcomes_rebuild()
    return found


def download(client, **filters):
    response = client.get(reverse("outcomes:research-export"), {"level": "fhir", **filters})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    body = b"".join(response.streaming_content)
    archive = zipfile.ZipFile(io.BytesIO(body))
    files = {name: archive.read(name).decode() for name in archive.namelist()}
    return json.loads(files.pop("manifest.json")), files


def lines(files):
    return [json.loads(line) for text in files.values() for line in text.splitlines()]


def test_every_line_parses_and_validates_and_the_manifest_counts_them(client_for, clinic_admin, record):
    manifest, files = download(client_for(clinic_admin))

    assert manifest["requiresAccessToken"] is False
    assert manifest["request"].endswith("level=fhir")
    assert manifest["transactionTime"]
    assert {output["url"] for output in manifest["output"]} == set(files)
    for output in manifest["output"]:
        text = files[output["url"]]
        assert text.endswith("\n")
        resources = [json.loads(line) for line in text.splitlines()]
        assert len(resources) == output["count"]
        for resource in resources:
            assert resource["resourceType"] == output["type"]
            validated(resource)
    assert [output["type"] for output in manifest["output"]] == list(fhir_bulk.RESOURCE_TYPES)


def test_it_names_no_one_and_gives_no_calendar_date(client_for, clinic_admin, record):
    _, files = download(client_for(clinic_admin))
    text = "\n".join(files.values())

    patient = record["patient"]
    for secret in (
        patient.given_name,
        patient.family_name,
        patient.mrn,
        patient.phone,
        patient.email,
        "Mill Lane",
        patient.emergency_contact_name,
        patient.emergency_contact_phone,
        "Royal Devon",  # the side effect's note
        "DX-2291",  # lot numbers
        "LD-0457",
    ):
        assert secret not in text, secret
    assert not CALENDAR_DATE.search(text)
    assert "birthDate" not in text and "identifier" not in text
    # Record ids never appear: every id and reference is a 16-character pseudonym.
    assert set(re.findall(r'"id":"([^"]*)"', text)) and all(
        re.fullmatch(r"[0-9a-f]{16}", value) for value in re.findall(r'"id":"([^"]*)"', text)
    )


def test_ids_are_the_research_exports_pseudonyms_and_references_resolve(client_for, clinic_admin, record):
    _, files = download(client_for(clinic_admin))
    resources = lines(files)

    (episode,) = of_type(resources, "EpisodeOfCare")
    assert episode["id"] == pseudonym("course", record["course"].pk)
    (event,) = of_type(resources, "AdverseEvent")
    assert event["id"] == pseudonym("side_effect", record["effect"].pk)
    assert episode["patient"]["reference"] == f"Patient/{pseudonym('patient', record['patient'].pk)}"
    known = {f"{r['resourceType']}/{r['id']}" for r in resources}
    references = re.findall(r'"reference":"([^"]+)"', "\n".join(files.values()))
    assert references and set(references) <= known


def test_times_are_days_from_the_first_treatment(client_for, clinic_admin, record):
    _, files = download(client_for(clinic_admin))
    resources = lines(files)

    encounters = of_type(resources, "Encounter")
    days = [
        next(e["valueInteger"] for e in encounter["extension"] if e["url"].endswith("/relative-day"))
        for encounter in encounters
    ]
    assert days == [0, 14]
    assert all("period" not in encounter for encounter in encounters)
    (event,) = of_type(resources, "AdverseEvent")
    by_url = {e["url"].rsplit("/", 1)[1]: e.get("valueInteger") for e in event["extension"]}
    assert by_url["relative-day"] == 1
    assert by_url["resolution-relative-day"] == 3
    assert "date" not in event


def test_it_leaves_voided_rows_out(client_for, clinic_admin, record):
    _, files = download(client_for(clinic_admin))
    ids = {resource["id"] for resource in lines(files)}

    voided = record["voided"]
    assert pseudonym("injection", voided["injection"].pk) not in ids
    assert pseudonym("score", voided["score"].pk) not in ids
    assert pseudonym("side_effect", voided["side_effect"].pk) not in ids


def test_it_respects_the_dashboard_filters(client_for, clinic_admin, practitioner, record):
    other = TreatmentCourseFactory(
        practitioner=practitioner, start_date=record["course"].start_date - datetime.timedelta(days=60)
    )
    TreatmentSessionFactory(course=other, sequence=1, completed=True)
    summary.course_outcomes_rebuild()
    client = client_for(clinic_admin)

    _, everything = download(client)
    _, filtered = download(client, start_from=record["course"].start_date.isoformat())

    def courses(files):
        return {r["id"] for r in of_type(lines(files), "EpisodeOfCare")}

    assert courses(everything) == {pseudonym("course", record["course"].pk), pseudonym("course", other.pk)}
    assert courses(filtered) == {pseudonym("course", record["course"].pk)}


def test_the_download_is_logged_against_the_user(client_for, clinic_admin, record):
    download(client_for(clinic_admin))

    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=clinic_admin).latest("timestamp")
    assert entry.additional_data["what"] == "Research export: FHIR bulk data (NDJSON zip)"
    assert "level=fhir" in entry.additional_data["path"]


def test_it_requires_the_research_export_permission(client_for, practitioner, front_desk, record):
    for user in (practitioner, front_desk):
        response = client_for(user).get(reverse("outcomes:research-export"), {"level": "fhir"})
        assert response.status_code == 403


def test_the_page_offers_the_zip_with_the_filters(client_for, clinic_admin, record):
    response = client_for(clinic_admin).get(reverse("outcomes:research-export"), {"status": "active"})

    text = response.content.decode()
    assert "FHIR bulk data (NDJSON, zip)" in text
    assert "status=active&amp;level=fhir" in text


def test_memory_holds_one_batch_of_patients(client_for, clinic_admin, record, monkeypatch):
    """Patients are read in batches: a batch of one gives the same files as one batch of everyone."""
    # Another practitioner's patient: the visit may share the persona's morning.
    TreatmentSessionFactory(course=TreatmentCourseFactory(), sequence=1, completed=True)
    summary.course_outcomes_rebuild()
    client = client_for(clinic_admin)
    _, together = download(client)

    monkeypatch.setattr(fhir_bulk, "PATIENTS_PER_BATCH", 1)
    _, apart = download(client)

    assert apart == together
