"""A readable history: labels and values as the clinic names them, and for a patient one timeline with the
screenings, consents, courses, visits, injections, side effects and override reasons (clinic.history)."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from tests.factories import (
    ConsentFactory,
    InjectionFactory,
    PatientFactory,
    ScreeningFactory,
    SideEffectFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)


def history_url(obj):
    return reverse("clinic:history", args=[ContentType.objects.get_for_model(obj).pk, obj.pk])


@pytest.fixture
def treated_patient(practitioner):
    patient = PatientFactory(given_name="Zoë", family_name="Okafor")
    ScreeningFactory(patient=patient, screened_by=practitioner, diabetes=True)
    ConsentFactory(patient=patient, taken_by=practitioner)
    course = TreatmentCourseFactory(patient=patient, practitioner=practitioner)
    session = TreatmentSessionFactory(course=course, sequence=1, completed=True)
    InjectionFactory(session=session)
    SideEffectFactory(attributed_session=session)
    session.spacing_override_reason = "Patient travelling abroad for three weeks"
    session.save()
    return patient


def test_the_history_shows_no_internals(treated_patient, client_for, clinic_admin):
    text = client_for(clinic_admin).get(history_url(treated_patient)).content.decode()
    assert ".None" not in text
    assert "None →" not in text
    assert '<dt class="col-sm-4 fw-semibold">ID</dt>' not in text
    assert ">Id<" not in text


def test_the_patient_timeline_includes_every_record_under_the_patient(
    treated_patient, client_for, clinic_admin
):
    response = client_for(clinic_admin).get(history_url(treated_patient))
    assert response.status_code == 200
    kinds = {row["kind"] for row in response.context["rows"]}
    assert {"Patient", "Screening", "Consent", "Treatment course", "Treatment session", "Injection"} <= kinds
    assert "Side effect" in kinds


def test_values_read_as_the_clinic_names_them(treated_patient, client_for, clinic_admin, practitioner):
    rows = client_for(clinic_admin).get(history_url(treated_patient)).context["rows"]
    changes = {(row["kind"], c["label"]): c for row in rows for c in row["changes"]}
    assert changes[("Treatment session", "Spacing override reason")]["after"] == (
        "Patient travelling abroad for three weeks"
    )
    assert changes[("Treatment session", "Spacing override reason")]["before"] == "(blank)"
    screening_by = next(
        c for (kind, label), c in changes.items() if kind == "Screening" and "by" in label.lower()
    )
    assert screening_by["after"] == str(practitioner)
    # On creation only the values given, without a "before".
    assert changes[("Screening", "Diabetes")] == {"label": "Diabetes", "before": None, "after": "Yes"}
    assert changes[("Injection", "Laterality")]["after"] == "Right"


def test_the_timeline_runs_a_flat_number_of_queries(
    practitioner, client_for, clinic_admin, django_assert_max_num_queries
):
    patient = PatientFactory()
    client = client_for(clinic_admin)
    course = TreatmentCourseFactory(patient=patient, practitioner=practitioner)
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    client.get(history_url(patient))
    with django_assert_max_num_queries(20) as small:
        client.get(history_url(patient))
    for sequence in range(2, 8):
        InjectionFactory(session=TreatmentSessionFactory(course=course, sequence=sequence, completed=True))
    with django_assert_max_num_queries(len(small.captured_queries) + 4):
        assert client.get(history_url(patient)).status_code == 200


def test_other_records_keep_their_own_history_only(treated_patient, client_for, clinic_admin):
    course = treated_patient.courses.get()
    rows = client_for(clinic_admin).get(history_url(course)).context["rows"]
    assert {row["kind"] for row in rows} == {"Treatment course"}
