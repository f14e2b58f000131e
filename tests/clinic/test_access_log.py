"""The access log: opening a patient's record, course, session or export records who, whose, when, where."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from clinic.access import log_access, patient_access, patient_of, user_access
from tests.factories import (
    InjectionFactory,
    OutcomeScoreFactory,
    PatientFactory,
    SideEffectFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)


def request_as(user, path="/courses/1/", address="192.0.2.7"):
    request = RequestFactory().get(path, REMOTE_ADDR=address)
    request.user = user
    return request


def test_opening_a_course_is_logged_under_its_patient(practitioner):
    course = TreatmentCourseFactory()
    entry = log_access(request_as(practitioner), course)

    assert entry.action == LogEntry.Action.ACCESS
    assert entry.actor == practitioner
    assert entry.remote_addr == "192.0.2.7"
    assert str(entry.object_pk) == str(course.patient.pk)
    assert entry.additional_data["record_type"] == "courses.treatmentcourse"
    assert entry.additional_data["record_id"] == course.pk
    assert entry.additional_data["record"] == str(course)
    assert entry.additional_data["path"] == "/courses/1/"
    assert list(patient_access(course.patient)) == [entry]
    assert list(user_access(practitioner)) == [entry]


@pytest.mark.parametrize(
    "make",
    [
        PatientFactory,
        TreatmentCourseFactory,
        TreatmentSessionFactory,
        InjectionFactory,
        SideEffectFactory,
        OutcomeScoreFactory,
    ],
)
def test_it_finds_the_patient_of_every_clinical_record(db, make):
    record = make()
    patient = patient_of(record)
    assert patient.__class__.__name__ == "Patient"
    if hasattr(record, "course"):
        assert patient == record.course.patient


def test_an_export_is_logged_with_what_was_done(clinic_admin):
    patient = PatientFactory()
    entry = log_access(request_as(clinic_admin, "/patients/1/export.json"), patient, what="JSON export")
    assert entry.additional_data["what"] == "JSON export"
    assert entry.object_repr == str(patient)


def test_it_asks_for_the_patient_when_it_cannot_tell(practitioner):
    from courses.models import Condition

    with pytest.raises(ValueError, match="pass patient="):
        log_access(request_as(practitioner), Condition.objects.first())


def test_one_call_in_a_view_is_all_it_takes(client_for, practitioner, settings):
    """A detail view calls log_access once; the middleware adds nothing twice and the page still renders."""
    session = TreatmentSessionFactory()

    @login_required
    def session_detail(request, pk):
        log_access(request, session)
        return HttpResponse("session page")

    from django.urls import path

    import tests.clinic.test_access_log as this

    this.urlpatterns = [path("probe/<int:pk>/", session_detail, name="probe")]
    settings.ROOT_URLCONF = "tests.clinic.test_access_log"
    client = client_for(practitioner)
    response = client.get("/probe/1/", REMOTE_ADDR="198.51.100.23")

    assert response.status_code == 200
    entry = patient_access(session.patient).get()
    assert entry.actor == practitioner
    assert entry.remote_addr == "198.51.100.23"
    assert entry.additional_data["record"] == str(session)


class TestPatientAccessPage:
    def test_it_lists_who_opened_the_patient_and_what(
        self, client_for, clinic_admin, practitioner, front_desk
    ):
        course = TreatmentCourseFactory()
        log_access(request_as(practitioner, address="192.0.2.8"), course)
        log_access(request_as(front_desk), course.patient)
        other = TreatmentCourseFactory()
        log_access(request_as(practitioner), other)

        response = client_for(clinic_admin).get(reverse("clinic:patient-access", args=[course.patient.pk]))

        assert response.status_code == 200
        rows = response.context["rows"]
        assert [row["entry"].actor for row in rows] == [front_desk, practitioner]
        text = response.content.decode()
        assert str(course) in text
        assert "192.0.2.8" in text
        assert other.patient.full_name not in text

    def test_it_is_paginated(self, client_for, clinic_admin, practitioner):
        patient = PatientFactory()
        for _ in range(55):
            log_access(request_as(practitioner), patient)
        client = client_for(clinic_admin)
        url = reverse("clinic:patient-access", args=[patient.pk])
        assert len(client.get(url).context["rows"]) == 50
        assert len(client.get(url, {"page": 2}).context["rows"]) == 5

    def test_it_is_for_clinic_admins_only(self, client_for, practitioner):
        patient = PatientFactory()
        url = reverse("clinic:patient-access", args=[patient.pk])
        assert client_for(practitioner).get(url).status_code == 403

    def test_a_missing_patient_is_404(self, client_for, clinic_admin):
        assert (
            client_for(clinic_admin).get(reverse("clinic:patient-access", args=[999999])).status_code == 404
        )


class TestUserAccessPage:
    def test_it_lists_every_patient_the_user_opened(self, client_for, clinic_admin, practitioner):
        first, second = TreatmentSessionFactory(), TreatmentCourseFactory()
        log_access(request_as(practitioner), first)
        log_access(request_as(practitioner), second)
        log_access(request_as(clinic_admin), PatientFactory())

        response = client_for(clinic_admin).get(reverse("clinic:user-access", args=[practitioner.pk]))

        assert response.status_code == 200
        rows = response.context["rows"]
        assert [row["patient"] for row in rows] == [second.patient, first.patient]
        assert [row["record"] for row in rows] == [str(second), str(first)]

    def test_its_queries_stay_flat_as_the_log_grows(
        self, client_for, clinic_admin, practitioner, django_assert_max_num_queries
    ):
        client = client_for(clinic_admin)
        url = reverse("clinic:user-access", args=[practitioner.pk])
        log_access(request_as(practitioner), TreatmentCourseFactory())
        with django_assert_max_num_queries(14):
            client.get(url)
        for _ in range(20):
            log_access(request_as(practitioner), TreatmentCourseFactory())
        with django_assert_max_num_queries(14):
            assert len(client.get(url).context["rows"]) == 21

    def test_it_is_for_clinic_admins_only(self, client_for, front_desk, practitioner):
        url = reverse("clinic:user-access", args=[practitioner.pk])
        assert client_for(front_desk).get(url).status_code == 403


def test_opening_a_patient_in_the_django_admin_is_logged(client, db):
    from tests.factories import UserFactory

    superuser = UserFactory(is_superuser=True, is_staff=True)
    patient = PatientFactory()
    client.force_login(superuser)

    assert client.get(reverse("admin:patients_patient_change", args=[patient.pk])).status_code == 200
    assert client.get(reverse("admin:courses_condition_change", args=[1])).status_code in (200, 302)

    entry = patient_access(patient).get()
    assert entry.actor == superuser
    assert entry.additional_data["what"] == "admin"
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == 1
