import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import MrnSequence, Patient
from patients.services import mrn_allocate
from tests.factories import PatientFactory

URL = reverse("patients:patient-create")


def form_data(**overrides):
    data = {
        "given_name": "Zoë",
        "family_name": "Ågren",
        "preferred_name": "",
        "date_of_birth": "1980-03-02",
        "sex": "female",
        "phone": "07700 900123",
        "email": "zoe@mail.example",
        "address": "1 High Street",
        "emergency_contact_name": "",
        "emergency_contact_phone": "",
        "preferred_contact": "phone",
        "reminders_allowed": "on",
        "primary_practitioner": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_front_desk_registers_a_patient_with_a_new_mrn(client_for, front_desk, practitioner):
    response = client_for(front_desk).post(URL, form_data(primary_practitioner=practitioner.pk))
    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:patient-detail", args=[patient.pk])
    assert patient.mrn.startswith("PT-")
    assert patient.created_by == front_desk
    assert patient.primary_practitioner == practitioner
    assert patient.search_name == "zoe agren"
    assert patient.phone_digits == "07700900123"


def test_the_form_renders_with_labels(client_for, front_desk):
    response = client_for(front_desk).get(URL)
    assert response.status_code == 200
    assert 'for="id_given_name"' in response.text
    assert "These are different people" not in response.text


def test_mrns_are_never_reused(client_for, front_desk):
    client = client_for(front_desk)
    client.post(URL, form_data())
    client.post(URL, form_data(given_name="Ann", family_name="Other", phone="07700 900999"))
    assert sorted(Patient.objects.values_list("mrn", flat=True)) == ["PT-000001", "PT-000002"]


def test_it_warns_about_same_name_and_birth_date_and_saves_nothing(client_for, front_desk):
    existing = PatientFactory(given_name="Zoe", family_name="AGREN", date_of_birth=datetime.date(1980, 3, 2))
    response = client_for(front_desk).post(URL, form_data(phone="01632 960000"))
    assert response.status_code == 200
    assert Patient.objects.count() == 1
    assert "Possible duplicate" in response.text
    assert reverse("patients:patient-detail", args=[existing.pk]) in response.text
    assert existing.mrn in response.text
    assert "These are different people" in response.text
    assert 'value="Ågren"' in response.text


def test_it_warns_about_the_same_phone_number_in_another_format(client_for, front_desk):
    PatientFactory(given_name="Bob", family_name="Jones", phone="077-0090-0123")
    response = client_for(front_desk).post(URL, form_data())
    assert "Possible duplicate" in response.text
    assert Patient.objects.count() == 1


def test_it_registers_a_possible_duplicate_after_confirmation(client_for, front_desk):
    PatientFactory(given_name="Zoë", family_name="Ågren", date_of_birth=datetime.date(1980, 3, 2))
    response = client_for(front_desk).post(URL, form_data(duplicates_shown="1", confirm_not_duplicate="on"))
    assert response.status_code == 302
    assert Patient.objects.count() == 2


def test_it_asks_again_when_the_confirmation_box_is_left_unticked(client_for, front_desk):
    PatientFactory(given_name="Zoë", family_name="Ågren", date_of_birth=datetime.date(1980, 3, 2))
    response = client_for(front_desk).post(URL, form_data(duplicates_shown="1"))
    assert response.status_code == 200
    assert "tick this box if this is a different person" in response.text
    assert Patient.objects.count() == 1


def test_different_people_with_the_same_birth_date_are_not_duplicates(client_for, front_desk):
    PatientFactory(given_name="Ann", family_name="Lee", date_of_birth=datetime.date(1980, 3, 2))
    response = client_for(front_desk).post(URL, form_data())
    assert response.status_code == 302
    assert Patient.objects.count() == 2


def test_a_future_birth_date_is_refused_with_everything_kept(client_for, front_desk):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client_for(front_desk).post(URL, form_data(date_of_birth=tomorrow.isoformat()))
    assert response.status_code == 200
    assert "Date of birth cannot be in the future." in response.text
    assert 'value="Zoë"' in response.text
    assert 'value="07700 900123"' in response.text
    assert not Patient.objects.exists()


def test_an_absurd_birth_date_is_refused(client_for, front_desk):
    response = client_for(front_desk).post(URL, form_data(date_of_birth="1850-01-01"))
    assert "check the year" in response.text
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "zoe@", "Enter a valid email address."),
        ("phone", "call me maybe", "Enter a phone number of 6 to 20 digits"),
        ("given_name", "", "This field is required."),
    ],
)
def test_bad_input_gives_a_clear_message_and_saves_nothing(client_for, front_desk, field, value, message):
    response = client_for(front_desk).post(URL, form_data(**{field: value}))
    assert response.status_code == 200
    assert message in response.text
    assert 'value="Ågren"' in response.text
    assert not Patient.objects.exists()


def test_email_contact_needs_an_email_address(client_for, front_desk):
    response = client_for(front_desk).post(URL, form_data(email="", preferred_contact="email"))
    assert "An email address is needed" in response.text
    assert not Patient.objects.exists()


def test_a_practitioner_cannot_register_patients(client_for, practitioner):
    assert client_for(practitioner).get(URL).status_code == 403
    assert client_for(practitioner).post(URL, form_data()).status_code == 403
    assert not Patient.objects.exists()


def test_front_desk_edits_contact_details(client_for, front_desk):
    patient = PatientFactory(given_name="Ann", family_name="Lee", date_of_birth=datetime.date(1970, 1, 5))
    data = form_data(
        given_name="Ann",
        family_name="Lee",
        date_of_birth="1970-01-05",
        phone="+44 7700 900555",
        email="ann.lee@new.example",
    )
    response = client_for(front_desk).post(reverse("patients:patient-edit", args=[patient.pk]), data)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.email == "ann.lee@new.example"
    assert patient.phone_digits == "447700900555"
    assert patient.mrn.startswith("PT-")


def test_an_invalid_edit_keeps_the_typing_and_the_old_record(client_for, front_desk):
    patient = PatientFactory(email="old@mail.example")
    data = form_data(given_name=patient.given_name, family_name=patient.family_name, email="not-an-email")
    response = client_for(front_desk).post(reverse("patients:patient-edit", args=[patient.pk]), data)
    assert response.status_code == 200
    assert 'value="not-an-email"' in response.text
    patient.refresh_from_db()
    assert patient.email == "old@mail.example"


def test_a_practitioner_cannot_edit_demographics(client_for, practitioner):
    patient = PatientFactory(email="old@mail.example")
    url = reverse("patients:patient-edit", args=[patient.pk])
    response = client_for(practitioner).post(url, form_data(email="new@mail.example"))
    assert response.status_code == 403
    patient.refresh_from_db()
    assert patient.email == "old@mail.example"


def test_an_archived_patient_cannot_be_edited_until_restored(client_for, front_desk):
    patient = PatientFactory(archived=True, archived_reason="Moved away")
    response = client_for(front_desk).get(reverse("patients:patient-edit", args=[patient.pk]))
    assert response.status_code == 302


def test_mrn_numbering_survives_a_lost_counter_row(db):
    PatientFactory(mrn="PT-000041")
    MrnSequence.objects.all().delete()
    assert mrn_allocate(count=2) == ["PT-000042", "PT-000043"]
    assert mrn_allocate() == ["PT-000044"]
