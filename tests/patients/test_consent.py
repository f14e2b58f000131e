import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from patients.models import Consent
from tests.factories import ConsentFactory, PatientFactory

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def url(patient):
    return reverse("patients:consent-create", args=[patient.pk])


def form_data(**overrides):
    data = {
        "consented_on": timezone.localdate().isoformat(),
        "form_version": "PRO-2026-1",
        "scope": "Right knee dextrose prolotherapy",
        "notes": "Leaflet given",
    }
    data.update(overrides)
    return data


def test_a_practitioner_records_consent_with_a_scanned_form(client_for, practitioner, private_media):
    patient = PatientFactory(given_name="Zoë")
    scan = SimpleUploadedFile("Zoë consent.pdf", PDF, content_type="application/pdf")
    response = client_for(practitioner).post(url(patient), form_data(document=scan))
    assert response.status_code == 302
    consent = Consent.objects.get(patient=patient)
    assert consent.taken_by == practitioner
    assert consent.form_version == "PRO-2026-1"
    assert consent.document.name.startswith("consents/")
    assert consent.document.name.endswith(".pdf")
    assert "Zo" not in consent.document.name
    assert (private_media / consent.document.name).read_bytes() == PDF


def test_consent_without_a_scan_is_fine(client_for, clinic_admin):
    patient = PatientFactory()
    assert client_for(clinic_admin).post(url(patient), form_data()).status_code == 302
    assert not Consent.objects.get(patient=patient).document


def test_the_stored_name_follows_the_content_not_the_uploaded_name(client_for, practitioner):
    patient = PatientFactory()
    scan = SimpleUploadedFile("scan.pdf", PNG, content_type="application/pdf")
    client_for(practitioner).post(url(patient), form_data(document=scan))
    assert Consent.objects.get().document.name.endswith(".png")


def test_an_oversized_scan_is_refused_with_the_other_fields_kept(client_for, practitioner, settings):
    settings.CONSENT_UPLOAD_MAX_BYTES = 1024
    patient = PatientFactory()
    scan = SimpleUploadedFile("big.pdf", PDF + b"0" * 2048, content_type="application/pdf")
    response = client_for(practitioner).post(url(patient), form_data(document=scan))
    assert response.status_code == 200
    assert "the limit is" in str(response.context["form"].errors["document"])
    assert 'value="PRO-2026-1"' in response.text
    assert "Leaflet given" in response.text
    assert not Consent.objects.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("consent.pdf", b"MZ\x90\x00 not really a pdf"),
        ("consent.html", b"<html><script>alert(1)</script></html>"),
        ("consent.png", b"GIF89a fake"),
    ],
)
def test_a_file_that_is_not_a_pdf_jpeg_or_png_is_refused(client_for, practitioner, name, content):
    patient = PatientFactory()
    scan = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = client_for(practitioner).post(url(patient), form_data(document=scan))
    assert response.status_code == 200
    assert "Upload a PDF, JPEG or PNG scan" in response.text
    assert 'value="Right knee dextrose prolotherapy"' in response.text
    assert not Consent.objects.exists()


def test_a_future_consent_date_is_refused(client_for, practitioner):
    patient = PatientFactory()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client_for(practitioner).post(url(patient), form_data(consented_on=tomorrow.isoformat()))
    assert "Consent cannot be dated in the future." in response.text
    assert not Consent.objects.exists()


def test_front_desk_cannot_record_consent(client_for, front_desk):
    patient = PatientFactory()
    assert client_for(front_desk).post(url(patient), form_data()).status_code == 403
    assert not Consent.objects.exists()


@pytest.fixture
def consent_with_scan(practitioner, private_media):
    consent = ConsentFactory(taken_by=practitioner)
    consent.document.save("ignored.pdf", SimpleUploadedFile("x.pdf", PDF))
    return consent


def test_staff_allowed_to_see_consents_download_the_scan_as_an_attachment(
    client_for, practitioner, consent_with_scan
):
    response = client_for(practitioner).get(reverse("patients:consent-document", args=[consent_with_scan.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert consent_with_scan.patient.mrn in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_consent_list_links_to_the_download(client_for, clinic_admin, consent_with_scan):
    page = client_for(clinic_admin).get(
        reverse("patients:patient-detail", args=[consent_with_scan.patient.pk])
    )
    assert reverse("patients:consent-document", args=[consent_with_scan.pk]) in page.text


def test_front_desk_cannot_download_a_scan(client_for, front_desk, consent_with_scan):
    response = client_for(front_desk).get(reverse("patients:consent-document", args=[consent_with_scan.pk]))
    assert response.status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, consent_with_scan):
    response = client.get(reverse("patients:consent-document", args=[consent_with_scan.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_consent_without_a_scan_has_nothing_to_download(client_for, practitioner):
    consent = ConsentFactory()
    assert (
        client_for(practitioner).get(reverse("patients:consent-document", args=[consent.pk])).status_code
        == 404
    )


def test_a_scan_missing_from_storage_is_a_404_not_a_500(client_for, practitioner):
    consent = ConsentFactory(document="consents/vanished.pdf")
    assert (
        client_for(practitioner).get(reverse("patients:consent-document", args=[consent.pk])).status_code
        == 404
    )


def test_uploads_are_not_served_from_a_public_media_url(client_for, clinic_admin, consent_with_scan):
    response = client_for(clinic_admin).get("/media/" + consent_with_scan.document.name)
    assert response.status_code == 404
