"""The research export in the FHIR Bulk Data layout: one NDJSON file per resource type and a manifest, zipped.

The resources are api.fhir's, built `Deidentified`: the research export's rules (outcomes.exports) in FHIR
form. Patients are read a batch at a time and each line goes straight to a temporary file, so memory holds
one batch whatever the clinic's size; the zip is built on disk and streamed from there.
"""

import json
import tempfile
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

from django.http import FileResponse
from django.utils import timezone

from api import fhir
from courses.models import TreatmentCourse
from patients.models import Patient

# Bulk Data's own order of the files is free; this is the reading order of api.fhir's mapping.
RESOURCE_TYPES = (
    "Patient",
    "EpisodeOfCare",
    "CarePlan",
    "Encounter",
    "Medication",
    "MedicationAdministration",
    "Procedure",
    "AdverseEvent",
    "Observation",
)
PATIENTS_PER_BATCH = 200


def deidentified_resources(courses):
    """Every resource of `courses` (the research page's filtered queryset), de-identified, patient by
    patient: a patient's Patient resource, then their filtered courses' resources."""
    out = fhir.Deidentified()
    by_patient = defaultdict(list)
    for patient_id, course_id in courses.order_by().values_list("patient_id", "pk"):
        by_patient[patient_id].append(course_id)
    patient_ids = sorted(by_patient)
    seen_lots = set()
    for start in range(0, len(patient_ids), PATIENTS_PER_BATCH):
        batch = patient_ids[start : start + PATIENTS_PER_BATCH]
        course_ids = [pk for patient_id in batch for pk in by_patient[patient_id]]
        records = fhir.load(TreatmentCourse.objects.filter(pk__in=course_ids))
        patients = Patient.objects.in_bulk(batch)
        courses_of = defaultdict(list)
        for course in records.courses:
            courses_of[course.patient_id].append(course)
        for patient_id in batch:
            yield fhir.patient_resource(patients[patient_id], courses_of[patient_id], out)
            for course in courses_of[patient_id]:
                yield from fhir.course_resources(course, records, out, seen_lots=seen_lots)


def manifest(counts, request_url):
    """The Bulk Data export manifest, with file names relative to the zip instead of download URLs."""
    return {
        "transactionTime": timezone.now().isoformat(),
        "request": request_url,
        "requiresAccessToken": False,
        "output": [
            {"type": kind, "url": f"{kind}.ndjson", "count": counts[kind]}
            for kind in RESOURCE_TYPES
            if counts[kind]
        ],
        "error": [],
    }


def write_zip(courses, target, *, request_url):
    """Write the NDJSON files and manifest.json of `courses` into the zip file object `target`."""
    counts = Counter()
    with tempfile.TemporaryDirectory(prefix="prolotrack-fhir-") as folder:
        paths = {kind: Path(folder) / f"{kind}.ndjson" for kind in RESOURCE_TYPES}
        files = {kind: path.open("w", encoding="utf-8") for kind, path in paths.items()}
        try:
            for resource in deidentified_resources(courses):
                kind = resource["resourceType"]
                files[kind].write(json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n")
                counts[kind] += 1
        finally:
            for file in files.values():
                file.close()
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for kind in RESOURCE_TYPES:
                if counts[kind]:
                    archive.write(paths[kind], f"{kind}.ndjson")
            archive.writestr("manifest.json", json.dumps(manifest(counts, request_url), indent=2))
    return counts


def zip_response(courses, request):
    # FileResponse closes it once sent, and a temporary file is gone when closed.
    target = tempfile.TemporaryFile()  # noqa: SIM115
    write_zip(courses, target, request_url=request.build_absolute_uri())
    target.seek(0)
    filename = f"prolotrack-fhir-ndjson-{timezone.localdate():%Y%m%d}.zip"
    return FileResponse(target, as_attachment=True, filename=filename, content_type="application/zip")
