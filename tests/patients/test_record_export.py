"""The patient's complete record (right of access): JSON download and printable page, for clinic admins."""

import datetime
import json

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from courses.models import CourseExtension
from patients.record_export import patient_record
from questionnaires.models import Answer, UrgentAlert
from tests.factories import (
    AssignmentFactory,
    ConsentFactory,
    InjectionFactory,
    OutcomeScoreFactory,
    PatientFactory,
    PatientSideEffectReportFactory,
    PreparationComponentFactory,
    ScreeningFactory,
    SideEffectFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    shipped_questionnaire,
)


def full_history(patient, *, courses=1, by):
    """A patient with screenings, a scanned consent and courses full of sessions and entries, some voided."""
    ScreeningFactory(patient=patient, screened_by=by, allergy_latex=True)
    consent = ConsentFactory(patient=patient, taken_by=by, form_version="PRO-2026-1")
    consent.document.save("scan.pdf", SimpleUploadedFile("scan.pdf", b"%PDF-1.7\n%%EOF\n"))
    for number in range(courses):
        course = TreatmentCourseFactory(
            patient=patient,
            consent=consent,
            start_date=timezone.localdate() - datetime.timedelta(days=200 - number * 60),
        )
        CourseExtension.objects.create(
            course=course, from_sessions=6, to_sessions=7, reason="Slow response", created_by=by
        )
        for sequence in (1, 2):
            session = TreatmentSessionFactory(course=course, sequence=sequence, completed=True)
            PreparationComponentFactory(session=session)
            InjectionFactory(session=session)
            wrong = InjectionFactory(session=session)
            wrong.void(by=by, reason="Entered on the wrong session")
            SideEffectFactory(attributed_session=session)
        OutcomeScoreFactory(course=course)
        OutcomeScoreFactory(course=course).void(by=by, reason="Typed 40 for 4")
        _check_in(course, session, by)
    return patient


def _check_in(course, session, practitioner):
    """The treatment's check-in, answered: a moderate swelling reported, and a fever that raised an alert."""
    check_in = AssignmentFactory(
        course=course,
        questionnaire=shipped_questionnaire("check-in"),
        anchor="after",
        session=session,
        timepoint=None,
        status="completed",
        token_hash=f"{session.pk:064d}",
    )
    for item in check_in.questionnaire.items.prefetch_related("choices"):
        if item.link_id == "pain-now":
            Answer.objects.create(assignment=check_in, item=item, value_integer=4)
        elif item.link_id in ("swelling", "fever"):
            Answer.objects.create(assignment=check_in, item=item, choice=item.choices.get(code="moderate"))
    PatientSideEffectReportFactory(
        session=session, assignment=check_in, description="Swelling where injected: Yes, moderate"
    )
    UrgentAlert.objects.create(
        assignment=check_in,
        course=course,
        practitioner=practitioner,
        reason="Fever or a hot, red, swollen joint: Yes, moderate",
        raised_at=timezone.now(),
    )


@pytest.fixture
def patient(clinic_admin, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return full_history(PatientFactory(given_name="Ada", family_name="Quinn"), by=clinic_admin)


def test_the_json_download_holds_the_whole_record_with_voided_rows_marked(client_for, clinic_admin, patient):
    response = client_for(clinic_admin).get(reverse("patients:patient-record-json", args=[patient.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith(f'attachment; filename="patient-record-{patient.mrn}-')
    assert response["Cache-Control"] == "private, no-store"
    record = json.loads(response.content)
    assert record["patient"]["mrn"] == patient.mrn
    assert record["patient"]["given_name"] == "Ada"
    assert "search_name" not in record["patient"]
    assert record["exported_by"] == str(clinic_admin)
    assert record["screenings"][0]["allergy_latex"] is True
    assert record["screenings"][0]["screened_by"] == str(clinic_admin)
    consent = record["consents"][0]
    assert consent["form_version"] == "PRO-2026-1"
    assert consent["document"].endswith(".pdf")  # the scan's name, never its bytes
    assert "%PDF" not in response.content.decode()

    (course,) = record["courses"]
    assert course["extensions"][0]["reason"] == "Slow response"
    assert [session["sequence"] for session in course["sessions"]] == [1, 2]
    session = course["sessions"][0]
    assert session["status_display"] == "Completed"
    assert len(session["preparation"]) == 1
    assert " lot " in session["preparation"][0]["lot"]  # the lot, named with its product
    assert [injection["voided"] for injection in session["injections"]] == [False, True]
    assert session["injections"][1]["void_reason"] == "Entered on the wrong session"
    assert len(session["side_effects"]) == 1
    assert sorted(score["voided"] for score in course["scores"]) == [False, True]


def test_the_printable_page_shows_every_section_and_marks_voided_entries(client_for, clinic_admin, patient):
    response = client_for(clinic_admin).get(reverse("patients:patient-record", args=[patient.pk]))

    assert response.status_code == 200
    text = response.text
    assert "Complete record: Ada Quinn" in text
    assert "css/patient_record.css" in text  # the print stylesheet
    assert "data-print-page" in text
    for heading in ("Screening", "Consent", "Course extension", "Preparation component", "Injection"):
        assert heading in text
    assert text.count(">Voided</span>") == 3  # two injections and one score
    assert "Typed 40 for 4" in text
    assert reverse("patients:patient-record-json", args=[patient.pk]) in text
    assert "style=" not in text


@pytest.mark.parametrize("view", ["patients:patient-record", "patients:patient-record-json"])
def test_downloading_the_record_is_written_to_the_access_log(client_for, clinic_admin, patient, view):
    client_for(clinic_admin).get(reverse(view, args=[patient.pk]))

    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS)
    assert entry.actor == clinic_admin
    assert entry.object_pk == str(patient.pk)
    assert entry.additional_data["what"].startswith("complete record")


@pytest.mark.parametrize("persona", ["front_desk", "practitioner"])
def test_only_clinic_admins_may_download_the_record(request, client_for, patient, persona):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("patients:patient-record", args=[patient.pk])).status_code == 403
    assert client.get(reverse("patients:patient-record-json", args=[patient.pk])).status_code == 403
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_the_patient_page_links_the_record_for_clinic_admins_only(client_for, clinic_admin, practitioner):
    patient = PatientFactory()
    url = reverse("patients:patient-record", args=[patient.pk])
    assert url in client_for(clinic_admin).get(reverse("patients:patient-detail", args=[patient.pk])).text
    assert url not in client_for(practitioner).get(reverse("patients:patient-detail", args=[patient.pk])).text


def test_the_record_takes_the_same_queries_for_one_course_or_four(
    clinic_admin, settings, tmp_path, django_assert_num_queries
):
    settings.MEDIA_ROOT = tmp_path / "media"
    small = full_history(PatientFactory(), courses=1, by=clinic_admin)
    large = full_history(PatientFactory(), courses=4, by=clinic_admin)

    # One query per kind of row (14, the questionnaires, their answers, the reported side effects and the
    # urgent check-ins included) and one per kind of named catalogue or staff row (user, condition, lot,
    # site, side-effect term, instrument, the consent a course rests on, questionnaire, question, answer
    # choice): the same for any history.
    with django_assert_num_queries(24):
        one = patient_record(small).as_dict()
    with django_assert_num_queries(24):
        four = patient_record(large).as_dict()
    assert len(one["courses"]) == 1
    assert len(four["courses"]) == 4
    assert sum(len(course["sessions"]) for course in four["courses"]) == 8


def test_a_patient_without_history_exports_empty_sections(db, clinic_admin, client_for):
    patient = PatientFactory()
    record = json.loads(
        client_for(clinic_admin).get(reverse("patients:patient-record-json", args=[patient.pk])).content
    )
    assert record["screenings"] == record["consents"] == record["courses"] == []
    page = client_for(clinic_admin).get(reverse("patients:patient-record", args=[patient.pk]))
    assert "No treatment courses." in page.text


def test_the_record_holds_the_patients_questionnaires_answers_reports_and_alerts(
    patient, clinic_admin, client_for
):
    record = json.loads(
        client_for(clinic_admin).get(reverse("patients:patient-record-json", args=[patient.pk])).content
    )
    (course,) = record["courses"]
    (check_in,) = course["questionnaires"]
    assert check_in["questionnaire"] == "Check-in after a treatment (check-in)"
    assert "token_hash" not in check_in  # the link's secret digest stays out
    answers = {answer["item"].split(":")[0]: answer for answer in check_in["answers"]}
    assert answers["pain-now"]["value_integer"] == 4
    assert answers["swelling"]["choice"] == "Yes, moderate: it limits what I do"
    (report,) = course["reported_side_effects"]
    assert report["description"] == "Swelling where injected: Yes, moderate" and report["status"] == "pending"
    (alert,) = course["urgent_check_ins"]
    assert alert["reason"].startswith("Fever")

    page = client_for(clinic_admin).get(reverse("patients:patient-record", args=[patient.pk])).text
    for shown in ("Check-in after a treatment", "Side effect the patient reported", "Urgent check-in"):
        assert shown in page
