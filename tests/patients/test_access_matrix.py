import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.access import REDIRECT_TO_LOGIN, Row, cases, check
from tests.factories import ConsentFactory, PatientFactory

ANON = {"anonymous": REDIRECT_TO_LOGIN}
EVERYONE = {**ANON, "front_desk": 200, "practitioner": 200, "clinic_admin": 200}
DEMOGRAPHICS_PAGE = {**ANON, "front_desk": 200, "practitioner": 403, "clinic_admin": 200}
DEMOGRAPHICS_SAVE = {**ANON, "front_desk": 302, "practitioner": 403, "clinic_admin": 302}
CLINICAL_PAGE = {**ANON, "front_desk": 403, "practitioner": 200, "clinic_admin": 200}
CLINICAL_SAVE = {**ANON, "front_desk": 403, "practitioner": 302, "clinic_admin": 302}
NOT_ALLOWED_METHOD = {**ANON, "front_desk": 405, "practitioner": 405, "clinic_admin": 405}
# The complete-record export (right of access) is for clinic admins only.
ADMIN_ONLY = {**ANON, "front_desk": 403, "practitioner": 403, "clinic_admin": 200}
ADMIN_ONLY_NOT_POST = {**ANON, "front_desk": 403, "practitioner": 403, "clinic_admin": 405}


def patient(objects):
    return [objects["patient"].pk]


def patient_form(objects):
    return {
        "given_name": "Ada",
        "family_name": "Quinn",
        "date_of_birth": "1975-04-01",
        "sex": "female",
        "phone": "01632 960001",
        "email": "ada@mail.example",
        "preferred_contact": "phone",
        "reminders_allowed": "on",
    }


def today(objects=None):
    return timezone.localdate().isoformat()


ROWS = [
    Row("patients:patient-list", EVERYONE),
    Row("patients:patient-list", EVERYONE, query="?q=quinn&status=all&sort=-dob"),
    Row("patients:patient-list", NOT_ALLOWED_METHOD, method="post"),
    Row("patients:patient-create", DEMOGRAPHICS_PAGE),
    Row("patients:patient-create", DEMOGRAPHICS_SAVE, method="post", data=patient_form),
    Row("patients:patient-detail", EVERYONE, args=patient),
    Row("patients:patient-detail", NOT_ALLOWED_METHOD, method="post", args=patient),
    Row("patients:patient-edit", DEMOGRAPHICS_PAGE, args=patient),
    Row("patients:patient-edit", DEMOGRAPHICS_SAVE, method="post", args=patient, data=patient_form),
    Row("patients:patient-archive", DEMOGRAPHICS_PAGE, args=patient),
    Row(
        "patients:patient-archive",
        DEMOGRAPHICS_SAVE,
        method="post",
        args=patient,
        data=lambda objects: {"reason": "Moved away"},
    ),
    Row(
        "patients:patient-restore",
        {**ANON, "front_desk": 403, "practitioner": 403, "clinic_admin": 302},
        method="post",
        args=lambda objects: [objects["archived"].pk],
    ),
    Row(
        "patients:patient-restore",
        {**ANON, "front_desk": 403, "practitioner": 403, "clinic_admin": 405},
        args=lambda objects: [objects["archived"].pk],
        note="Restoring is POST only.",
    ),
    Row("patients:screening-create", CLINICAL_PAGE, args=patient),
    Row(
        "patients:screening-create",
        CLINICAL_SAVE,
        method="post",
        args=patient,
        data=lambda objects: {"screened_on": today(), "outcome": "eligible"},
    ),
    Row("patients:consent-create", CLINICAL_PAGE, args=patient),
    Row(
        "patients:consent-create",
        CLINICAL_SAVE,
        method="post",
        args=patient,
        data=lambda objects: {"consented_on": today(), "form_version": "PRO-2026-1"},
    ),
    Row("patients:consent-document", CLINICAL_PAGE, args=lambda objects: [objects["consent"].pk]),
    Row(
        "patients:consent-document",
        {**ANON, "front_desk": 403, "practitioner": 405, "clinic_admin": 405},
        method="post",
        args=lambda objects: [objects["consent"].pk],
    ),
    Row("patients:patient-record", ADMIN_ONLY, args=patient),
    Row("patients:patient-record", ADMIN_ONLY_NOT_POST, method="post", args=patient),
    Row("patients:patient-record", ADMIN_ONLY, args=lambda objects: [objects["archived"].pk]),
    Row("patients:patient-record-json", ADMIN_ONLY, args=patient),
    Row("patients:patient-record-json", ADMIN_ONLY_NOT_POST, method="post", args=patient),
]


@pytest.fixture
def users(front_desk, practitioner, clinic_admin):
    return {"front_desk": front_desk, "practitioner": practitioner, "clinic_admin": clinic_admin}


@pytest.fixture
def objects(db, practitioner, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    consent = ConsentFactory(
        taken_by=practitioner, consented_on=timezone.localdate() - datetime.timedelta(days=3)
    )
    consent.document.save("scan.pdf", SimpleUploadedFile("scan.pdf", b"%PDF-1.7\n%%EOF\n"))
    return {
        "patient": PatientFactory(
            given_name="Ada", family_name="Quinn", date_of_birth=datetime.date(1990, 5, 5)
        ),
        "archived": PatientFactory(archived=True, archived_reason="Moved away"),
        "consent": consent,
    }


@pytest.mark.parametrize(("row", "persona"), cases(ROWS))
def test_access(row, persona, client, users, objects):
    check(row, persona, client=client, users=users, objects=objects)
