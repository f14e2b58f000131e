"""Every page that opens a patient's record writes one access-log entry: who, which patient, which record.

Exports that name no one patient (research files, report CSVs) are logged against the user who took them.
Clinic admins read both lists: "who opened this patient" and "what did this user open".
"""

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import (
    ConsentFactory,
    InjectionFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)


def accesses():
    return LogEntry.objects.filter(action=LogEntry.Action.ACCESS)


@pytest.fixture
def records(db, practitioner, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    course = TreatmentCourseFactory(practitioner=practitioner)
    session = TreatmentSessionFactory(course=course, sequence=1, completed=True)
    InjectionFactory(session=session)
    consent = ConsentFactory(patient=course.patient, taken_by=practitioner)
    consent.document.save("scan.pdf", SimpleUploadedFile("scan.pdf", b"%PDF-1.7\n%%EOF\n"))
    return {"patient": course.patient, "course": course, "session": session, "consent": consent}


# (url name, persona allowed to open it, the record opened, how to get its URL args)
PAGES = [
    ("patients:patient-detail", "practitioner", "patient", "patients.patient"),
    ("patients:consent-document", "practitioner", "consent", "patients.consent"),
    ("courses:course-detail", "practitioner", "course", "courses.treatmentcourse"),
    ("courses:course-trend-data", "practitioner", "course", "courses.treatmentcourse"),
    ("courses:session-log", "practitioner", "session", "courses.treatmentsession"),
    ("courses:session-handout", "practitioner", "session", "courses.treatmentsession"),
    ("outcomes:patient-trend-data", "practitioner", "patient", "patients.patient"),
    ("scheduling:session-reschedule", "front_desk", "session", "courses.treatmentsession"),
    ("scheduling:course-book", "front_desk", "course", "courses.treatmentcourse"),
    ("patients:patient-record", "clinic_admin", "patient", "patients.patient"),
    ("patients:patient-record-json", "clinic_admin", "patient", "patients.patient"),
]


@pytest.mark.parametrize(("name", "persona", "opened", "record_type"), PAGES)
def test_opening_the_page_writes_one_access_entry_naming_the_user_and_the_patient(
    request, client_for, records, name, persona, opened, record_type
):
    user = request.getfixturevalue(persona)
    response = client_for(user).get(reverse(name, args=[records[opened].pk]))

    assert response.status_code == 200
    (entry,) = accesses()
    assert entry.actor == user
    assert entry.object_pk == str(records["patient"].pk)
    assert entry.object_repr == str(records["patient"])
    assert entry.additional_data["record_type"] == record_type
    assert entry.additional_data["record_id"] == records[opened].pk
    assert entry.remote_addr == "127.0.0.1"


@pytest.mark.parametrize(
    ("name", "opened"),
    [
        ("patients:patient-detail", "patient"),
        ("courses:course-detail", "course"),
        ("courses:session-log", "session"),
        ("outcomes:patient-trend-data", "patient"),
    ],
)
def test_a_refused_page_logs_nothing(client_for, stranger, records, name, opened):
    response = client_for(stranger).get(reverse(name, args=[records[opened].pk]))
    assert response.status_code == 403
    assert not accesses().exists()


def test_saving_a_session_is_not_logged_as_opening_it(client_for, practitioner, records):
    session = TreatmentSessionFactory(course=records["course"], sequence=2)
    client = client_for(practitioner)
    client.post(reverse("courses:session-log", args=[session.pk]), {"action": "save"})
    assert not accesses().exists()


def test_the_admin_lists_show_who_opened_the_patient_and_what_the_user_opened(
    client_for, practitioner, clinic_admin, records
):
    client_for(practitioner).get(reverse("courses:course-detail", args=[records["course"].pk]))
    client_for(practitioner).get(reverse("courses:session-handout", args=[records["session"].pk]))
    admin = client_for(clinic_admin)

    by_patient = admin.get(reverse("clinic:patient-access", args=[records["patient"].pk]))
    assert by_patient.status_code == 200
    assert [row["entry"].actor for row in by_patient.context["rows"]] == [practitioner, practitioner]
    assert "aftercare handout" in by_patient.text
    assert str(records["course"]) in by_patient.text

    by_user = admin.get(reverse("clinic:user-access", args=[practitioner.pk]))
    assert by_user.status_code == 200
    assert [row["patient"] for row in by_user.context["rows"]] == [records["patient"]] * 2
    assert records["patient"].full_name in by_user.text


@pytest.mark.parametrize(
    ("url", "what"),
    [
        (lambda: reverse("outcomes:research-export") + "?level=courses", "Research export: courses"),
        (lambda: reverse("outcomes:research-export") + "?level=sessions", "Research export: sessions"),
        (lambda: reverse("outcomes:research-export") + "?level=scores", "Research export: scores"),
        (
            lambda: reverse("outcomes:research-export") + "?level=side_effects",
            "Research export: side_effects",
        ),
        (lambda: reverse("outcomes:research-export") + "?level=injections", "Research export: injections"),
        (lambda: reverse("outcomes:csv", args=["pain-by-session"]), "CSV download: pain-by-session"),
    ],
)
def test_a_de_identified_export_is_logged_against_the_user(client_for, clinic_admin, records, url, what):
    response = client_for(clinic_admin).get(url())
    assert response.status_code == 200
    if response.streaming:
        assert b"".join(response.streaming_content)

    (entry,) = accesses()
    assert entry.actor == clinic_admin
    assert entry.additional_data["what"] == what
    assert entry.additional_data["path"] == url()
    # Filed under the user, not under any patient.
    assert not accesses().filter(object_pk=str(records["patient"].pk), content_type__model="patient")

    listing = client_for(clinic_admin).get(reverse("clinic:user-access", args=[clinic_admin.pk]))
    (row,) = listing.context["rows"]
    assert row["event"] is True
    assert row["patient"] is None
    assert "No single patient" in listing.text
    assert what in listing.text


def test_the_research_export_page_itself_is_not_an_export(client_for, clinic_admin, records):
    assert client_for(clinic_admin).get(reverse("outcomes:research-export")).status_code == 200
    assert not accesses().exists()


def test_an_export_event_and_a_patient_with_the_same_id_are_told_apart(client_for, clinic_admin, records):
    """The user's row id may equal a patient's id: the event must not be shown as opening that patient."""
    from clinic.access import log_event
    from tests.clinic.test_access_log import request_as

    log_event(request_as(clinic_admin, "/outcomes/tables/x.csv"), "CSV download: x")
    response = client_for(clinic_admin).get(reverse("clinic:user-access", args=[clinic_admin.pk]))
    (row,) = response.context["rows"]
    assert row["patient"] is None


def test_log_event_needs_a_signed_in_user(rf):
    from django.contrib.auth.models import AnonymousUser

    from clinic.access import log_event

    request = rf.get("/outcomes/tables/x.csv")
    request.user = AnonymousUser()
    with pytest.raises(ValueError, match="signed-in"):
        log_event(request, "CSV download: x")
