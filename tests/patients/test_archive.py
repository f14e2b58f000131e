import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from patients.models import Patient
from tests.factories import ConsentFactory, PatientFactory, ScreeningFactory
from tests.urls_inventory import project_urls


def archive_url(patient):
    return reverse("patients:patient-archive", args=[patient.pk])


def restore_url(patient):
    return reverse("patients:patient-restore", args=[patient.pk])


def test_front_desk_archives_a_patient_with_a_reason(client_for, front_desk):
    patient = PatientFactory()
    response = client_for(front_desk).post(archive_url(patient), {"reason": "Moved away"})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.archived
    assert patient.archived_reason == "Moved away"
    assert patient.archived_by == front_desk
    assert patient.archived_at is not None


def test_archiving_needs_a_reason(client_for, front_desk):
    patient = PatientFactory()
    response = client_for(front_desk).post(archive_url(patient), {"reason": "  "})
    assert response.status_code == 200
    assert "This field is required." in response.text
    patient.refresh_from_db()
    assert not patient.archived


def test_archiving_keeps_every_record(client_for, clinic_admin):
    patient = PatientFactory()
    ScreeningFactory(patient=patient)
    ConsentFactory(patient=patient)
    client_for(clinic_admin).post(archive_url(patient), {"reason": "Registered twice"})
    assert Patient.objects.filter(pk=patient.pk).exists()
    assert patient.screenings.count() == 1
    assert patient.consents.count() == 1


def test_the_page_of_an_archived_patient_says_so(client_for, front_desk):
    patient = PatientFactory(archived=True, archived_reason="Moved away")
    response = client_for(front_desk).get(reverse("patients:patient-detail", args=[patient.pk]))
    assert "Archived" in response.text
    assert "Moved away" in response.text
    assert "Restore patient" not in response.text


def test_a_practitioner_cannot_archive(client_for, practitioner):
    patient = PatientFactory()
    assert client_for(practitioner).post(archive_url(patient), {"reason": "x"}).status_code == 403
    patient.refresh_from_db()
    assert not patient.archived


def test_clinic_admin_restores_an_archived_patient(client_for, clinic_admin):
    patient = PatientFactory(archived=True, archived_reason="Moved away")
    response = client_for(clinic_admin).post(restore_url(patient))
    assert response.status_code == 302
    patient.refresh_from_db()
    assert not patient.archived
    assert patient.archived_reason == ""


def test_front_desk_cannot_restore(client_for, front_desk):
    patient = PatientFactory(archived=True, archived_reason="Moved away")
    assert client_for(front_desk).post(restore_url(patient)).status_code == 403
    patient.refresh_from_db()
    assert patient.archived


def test_restore_is_post_only(client_for, clinic_admin):
    patient = PatientFactory(archived=True, archived_reason="Moved away")
    assert client_for(clinic_admin).get(restore_url(patient)).status_code == 405


def test_restoring_an_active_patient_is_a_clear_message_not_an_error(client_for, clinic_admin):
    patient = PatientFactory()
    response = client_for(clinic_admin).post(restore_url(patient), follow=True)
    assert "This patient is not archived." in response.text


def test_there_is_no_delete_path_for_patients(db):
    patient_urls = [name for name, _ in project_urls() if name and name.startswith("patients:")]
    assert patient_urls
    assert not [name for name in patient_urls if "delete" in name or "remove" in name]
    with pytest.raises(ValidationError):
        PatientFactory().delete()


def test_the_admin_registers_patients_with_a_fresh_mrn(client_for, clinic_admin):
    clinic_admin.is_staff = True
    clinic_admin.save()
    data = {
        "given_name": "Ada",
        "family_name": "Quinn",
        "date_of_birth": "1975-04-01",
        "sex": "female",
        "preferred_contact": "phone",
        "reminders_allowed": "on",
    }
    response = client_for(clinic_admin).post(reverse("admin:patients_patient_add"), data)
    assert response.status_code == 302, response.content
    patient = Patient.objects.get()
    assert patient.mrn.startswith("PT-")
    assert patient.created_by == clinic_admin
