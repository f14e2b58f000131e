import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.models import ProtocolSettings
from patients.models import Screening
from tests.factories import PatientFactory, ScreeningFactory


def url(patient):
    return reverse("patients:screening-create", args=[patient.pk])


def detail(patient):
    return reverse("patients:patient-detail", args=[patient.pk])


def test_a_practitioner_records_a_screening_and_sees_the_alerts_banner(client_for, practitioner):
    patient = PatientFactory()
    client = client_for(practitioner)
    response = client.post(
        url(patient),
        {
            "screened_on": timezone.localdate().isoformat(),
            "anticoagulant": "on",
            "anticoagulant_drug": "Apixaban",
            "diabetes": "on",
            "allergy_latex": "on",
            "allergy_other": "Penicillin",
            "outcome": "eligible",
        },
    )
    assert response.status_code == 302
    screening = Screening.objects.get(patient=patient)
    assert screening.screened_by == practitioner
    assert screening.created_by == practitioner
    page = client.get(detail(patient)).text
    assert "alert-warning" in page
    assert "Anticoagulant or antiplatelet therapy (Apixaban)" in page
    assert "Diabetes" in page
    assert "Latex allergy" in page
    assert "Penicillin" in page


def test_a_defer_condition_shows_in_red(client_for, practitioner):
    patient = PatientFactory()
    ScreeningFactory(patient=patient, active_infection=True, outcome=Screening.Outcome.DEFERRED)
    page = client_for(practitioner).get(detail(patient)).text
    assert "alert-danger" in page
    assert "Deferred: do not inject" in page
    assert "Active local or systemic infection" in page


def test_no_screening_on_file_is_flagged(client_for, practitioner):
    page = client_for(practitioner).get(detail(PatientFactory())).text
    assert "No screening on file." in page


def test_an_old_screening_is_flagged_as_due_by_the_protocol_setting(client_for, practitioner):
    patient = PatientFactory()
    ScreeningFactory(patient=patient, screened_on=timezone.localdate() - datetime.timedelta(days=100))
    client = client_for(practitioner)
    assert "Screening due" not in client.get(detail(patient)).text
    protocol = ProtocolSettings.load()
    protocol.screening_valid_days = 90
    protocol.save()
    assert "Screening due" in client.get(detail(patient)).text


def test_allergies_are_shown_even_when_there_are_none(client_for, practitioner):
    patient = PatientFactory()
    ScreeningFactory(patient=patient)
    assert "none recorded" in client_for(practitioner).get(detail(patient)).text


def test_the_latest_screening_drives_the_banner(client_for, practitioner):
    patient = PatientFactory()
    ScreeningFactory(
        patient=patient, screened_on=timezone.localdate() - datetime.timedelta(days=30), diabetes=True
    )
    ScreeningFactory(patient=patient, screened_on=timezone.localdate())
    page = client_for(practitioner).get(detail(patient)).text
    banner = page.split('aria-label="Clinical alerts"')[1].split("</section>")[0]
    assert "Diabetes" not in banner


def test_front_desk_does_not_see_clinical_alerts_or_screening_history(client_for, front_desk):
    patient = PatientFactory()
    ScreeningFactory(patient=patient, diabetes=True, notes="Private clinical note")
    page = client_for(front_desk).get(detail(patient)).text
    assert "Clinical alerts" not in page
    assert "Diabetes" not in page
    assert "Private clinical note" not in page
    assert "Screening history" not in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"anticoagulant": "on", "outcome": "eligible"}, "anticoagulant_drug", "Name the anticoagulant"),
        ({"acute_gout": "on", "outcome": "eligible"}, "outcome", "Cannot be eligible with acute gout"),
        ({"outcome": ""}, "outcome", "This field is required."),
    ],
)
def test_screening_rules_give_field_errors_and_save_nothing(client_for, practitioner, data, field, message):
    patient = PatientFactory()
    data = {"screened_on": timezone.localdate().isoformat(), "notes": "Typed note", **data}
    response = client_for(practitioner).post(url(patient), data)
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert "Typed note" in response.text
    assert not Screening.objects.exists()


def test_a_future_screening_date_is_refused(client_for, practitioner):
    patient = PatientFactory()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client_for(practitioner).post(
        url(patient), {"screened_on": tomorrow.isoformat(), "outcome": "eligible"}
    )
    assert "cannot be dated in the future" in response.text
    assert not Screening.objects.exists()


def test_front_desk_cannot_record_a_screening(client_for, front_desk):
    patient = PatientFactory()
    response = client_for(front_desk).post(url(patient), {"screened_on": "2026-01-01", "outcome": "eligible"})
    assert response.status_code == 403
    assert not Screening.objects.exists()


def test_clinic_admin_can_record_a_screening(client_for, clinic_admin):
    patient = PatientFactory()
    response = client_for(clinic_admin).post(
        url(patient), {"screened_on": timezone.localdate().isoformat(), "outcome": "eligible"}
    )
    assert response.status_code == 302
    assert Screening.objects.filter(patient=patient, screened_by=clinic_admin).exists()


def test_an_archived_patient_cannot_be_screened(client_for, practitioner):
    patient = PatientFactory(archived=True, archived_reason="Moved away")
    response = client_for(practitioner).post(
        url(patient), {"screened_on": "2026-01-01", "outcome": "eligible"}
    )
    assert response.status_code == 302
    assert not Screening.objects.exists()


def test_every_screening_problem_is_reported_at_once(client_for, practitioner):
    patient = PatientFactory()
    data = {
        "screened_on": timezone.localdate().isoformat(),
        "acute_gout": "on",
        "anticoagulant": "on",
        "outcome": "eligible",
    }
    errors = client_for(practitioner).post(url(patient), data).context["form"].errors
    assert set(errors) == {"outcome", "anticoagulant_drug"}
