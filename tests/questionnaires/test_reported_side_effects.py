"""Reactions a patient reports in a check-in wait on the next session page until the practitioner confirms
each into the side-effect record (checked, graded, attributed) or dismisses it with a reason."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from courses.models import PatientSideEffectReport, SessionStatus, SideEffect, SideEffectTerm
from courses.services import patient_report_dismiss
from questionnaires.services import answer_save, assignment_invite, identity_confirm, response_submit
from tests.courses.test_session_logging import session_post, three_sites
from tests.factories import (
    AssignmentFactory,
    PatientFactory,
    ScreeningFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    shipped_questionnaire,
)

pytestmark = pytest.mark.django_db

DOB = datetime.date(1968, 5, 17)
Status = PatientSideEffectReport.Status


def _check_in(course, session):
    assignment = AssignmentFactory(
        course=course,
        questionnaire=shipped_questionnaire("check-in"),
        anchor="after",
        session=session,
        timepoint=None,
        opens_at=timezone.now() - datetime.timedelta(days=1),
    )
    assignment_invite(assignment=assignment)
    identity_confirm(assignment=assignment, date_of_birth=DOB)
    assignment.refresh_from_db()
    return assignment


def answer(assignment, **severities):
    """Answer every question: `severities` maps a reaction to its choice code (default "none"); `other` is
    the free text, `other_severity` its choice."""
    for item in assignment.questionnaire.items.prefetch_related("choices"):
        if item.link_id == "pain-now":
            raw = "3"
        elif item.link_id == "other":
            raw = severities.get("other", "")
        elif item.link_id == "other-severity":
            code = severities.get("other_severity")
            raw = str(item.choices.get(code=code).pk) if code else ""
        else:
            raw = str(item.choices.get(code=severities.get(item.link_id, "none")).pk)
        answer_save(assignment=assignment, item=item, raw=raw)


@pytest.fixture
def course(practitioner):
    """Treatment 1 given 3 days ago and its check-in open; treatment 2 checked in today."""
    patient = PatientFactory(date_of_birth=DOB, email="lee@mail.example")
    course = TreatmentCourseFactory(
        patient=patient,
        practitioner=practitioner,
        status="active",
        start_date=timezone.localdate() - datetime.timedelta(days=3),
        interval_days=14,
    )
    first = TreatmentSessionFactory(
        course=course, sequence=1, completed=True, starts_at=timezone.now() - datetime.timedelta(days=3)
    )
    ScreeningFactory(patient=patient, screened_by=practitioner)
    course.first = first
    course.check_in = _check_in(course, first)
    course.next_visit = TreatmentSessionFactory(
        course=course, sequence=2, status=SessionStatus.CHECKED_IN, starts_at=timezone.now()
    )
    return course


def submitted(course, **severities):
    answer(course.check_in, **severities)
    response_submit(assignment=course.check_in)
    return list(PatientSideEffectReport.objects.order_by("pk"))


def log_url(session):
    return reverse("courses:session-log", args=[session.pk])


def dismiss_url(report):
    return reverse("courses:patient-report-dismiss", args=[report.pk])


# --- What a check-in reports -----------------------------------------------------------------------


def test_each_reaction_reported_waits_with_its_suggested_term_and_grade(course):
    reports = submitted(
        course,
        swelling="moderate",
        fever="mild",
        other="A headache the next day",
        other_severity="severe",
    )

    assert [(r.item_code, r.term and r.term.name, r.grade, r.status) for r in reports] == [
        ("swelling", "Swelling", 2, Status.PENDING),
        ("fever", None, 1, Status.PENDING),  # only an examination tells an infection from a flare
        ("other", "Other", 3, Status.PENDING),
    ]
    assert reports[0].description == "Swelling where injected: Yes, moderate: it limits what I do"
    assert "A headache the next day" in reports[2].description
    assert {(r.course, r.session, r.assignment) for r in reports} == {(course, course.first, course.check_in)}
    assert not SideEffect.objects.exists()  # nothing enters the record until the practitioner confirms


def test_a_check_in_reporting_nothing_leaves_nothing_waiting(course):
    assert submitted(course) == []


def test_other_without_text_or_with_no_severity_reports_nothing(course):
    assert submitted(course, other="   ", other_severity="mild") == []


def test_a_refused_submission_leaves_nothing_waiting(course):
    answer(course.check_in, swelling="mild")
    course.check_in.answers.filter(item__link_id="bruising").delete()  # a required answer missing
    with pytest.raises(ValidationError):
        response_submit(assignment=course.check_in)
    assert not PatientSideEffectReport.objects.exists()


def test_a_report_is_never_deleted(course):
    (report,) = submitted(course, bruising="mild")
    with pytest.raises(ValidationError):
        report.delete()


# --- The next session page -----------------------------------------------------------------------


def test_the_next_session_page_and_the_treatments_own_list_what_waits_and_an_earlier_visit_does_not(
    client_for, practitioner, course
):
    earlier_visit = TreatmentSessionFactory(
        course=course,
        sequence=9,
        completed=True,
        assessment_only=True,
        starts_at=course.first.starts_at - datetime.timedelta(days=7),
    )
    submitted(course, swelling="moderate", bruising="mild")
    client = client_for(practitioner)

    page = client.get(log_url(course.next_visit)).text
    assert "Reported by the patient after a treatment (2)" in page
    assert "Swelling where injected: Yes, moderate" in page
    assert "Bruising where injected: Yes, mild" in page
    assert "Check and add as a side effect" in page and "Dismiss" in page

    # After a course's last treatment there is no later visit: the treatment's own page offers them too.
    own = client.get(log_url(course.first) + "?edit=1").text
    assert "Reported by the patient after a treatment (2)" in own

    earlier = client.get(log_url(earlier_visit) + "?edit=1").text
    assert "Reported by the patient" not in earlier


def test_check_and_add_fills_a_row_the_practitioner_saves_into_the_record(client_for, practitioner, course):
    (report,) = submitted(course, swelling="moderate")
    client = client_for(practitioner)

    page = client.get(log_url(course.next_visit) + f"?report={report.pk}").text
    rows = page.split('data-formset="side_effects"')[1].split("<template")[0]
    assert f'name="side_effects-0-patient_report" value="{report.pk}"' in rows
    assert f'<option value="{report.term_id}" selected>' in rows
    assert f'<option value="{course.first.pk}" selected>' in rows
    assert "From the patient's check-in of" in rows
    assert "Reported by the patient after" not in page  # the row on the page is the report now

    row = {
        "term": report.term_id,
        "attributed_session": course.first.pk,
        "onset_date": (timezone.localdate() - datetime.timedelta(days=2)).isoformat(),
        "severity": 2,
        "action_taken": "advice",
        "outcome": "resolving",
        "relatedness": "related",
        "notes": "Swollen for two days, settling",
        "patient_report": report.pk,
    }
    response = client.post(
        log_url(course.next_visit),
        session_post(course.next_visit, side_effects=[row], action="save"),
    )

    assert response.status_code == 302, response.text
    side_effect = SideEffect.objects.get()
    report.refresh_from_db()
    assert (report.status, report.side_effect, report.decided_by) == (
        Status.CONFIRMED,
        side_effect,
        practitioner,
    )
    assert (
        side_effect.attributed_session == course.first and side_effect.reported_session == course.next_visit
    )
    assert "Reported by the patient" not in client.get(log_url(course.next_visit) + "?edit=1").text


def test_a_row_naming_a_report_decided_meanwhile_saves_nothing(client_for, practitioner, course):
    (report,) = submitted(course, bruising="mild")
    row = {
        "term": report.term_id,
        "attributed_session": course.first.pk,
        "onset_date": timezone.localdate().isoformat(),
        "severity": 1,
        "action_taken": "none",
        "outcome": "resolved",
        "relatedness": "related",
        "patient_report": report.pk,
    }
    patient_report_dismiss(report=report, by=practitioner, reason="Bruise from a fall before the visit")

    response = client_for(practitioner).post(
        log_url(course.next_visit),
        session_post(course.next_visit, injections=three_sites(), side_effects=[row]),
    )

    assert response.status_code == 200
    assert "no longer waiting" in response.text
    assert not SideEffect.objects.exists()
    course.next_visit.refresh_from_db()
    assert course.next_visit.status == SessionStatus.CHECKED_IN


def test_two_rows_cannot_confirm_one_report(practitioner, course):
    from courses.session_services import session_record

    (report,) = submitted(course, flare="severe")
    row = {
        "term": report.term,
        "attributed_session": course.first,
        "onset_date": timezone.localdate(),
        "severity": 3,
        "action_taken": "advice",
        "outcome": "resolved",
        "relatedness": "related",
        "patient_report": report,
    }
    with pytest.raises(ValidationError) as raised:
        session_record(
            session=course.next_visit,
            data={"complete": False},
            components=[],
            injections=[],
            side_effects=[row, dict(row)],
            recorded_by=practitioner,
            expected_version=course.next_visit.version,
            confirmations={},
        )
    assert "Two rows confirm the same patient report" in str(raised.value)
    assert not SideEffect.objects.exists()
    report.refresh_from_db()
    assert report.status == Status.PENDING


def test_another_courses_report_is_refused_on_the_row(client_for, practitioner, course):
    (report,) = submitted(course, numbness="mild")
    other = TreatmentCourseFactory(practitioner=practitioner)
    TreatmentSessionFactory(course=other, sequence=1, completed=True)
    ScreeningFactory(patient=other.patient, screened_by=practitioner)
    visit = TreatmentSessionFactory(course=other, sequence=2, status=SessionStatus.CHECKED_IN)
    row = {
        "term": SideEffectTerm.objects.get(name="Numbness").pk,
        "attributed_session": other.sessions.get(sequence=1).pk,
        "onset_date": timezone.localdate().isoformat(),
        "severity": 1,
        "action_taken": "none",
        "outcome": "resolved",
        "relatedness": "related",
        "patient_report": report.pk,
    }

    response = client_for(practitioner).post(
        log_url(visit), session_post(visit, injections=three_sites(), side_effects=[row], action="save")
    )

    assert response.status_code == 200 and "no longer waiting" in response.text
    assert not SideEffect.objects.exists()


def test_an_unknown_report_in_the_address_fills_nothing_and_says_so(client_for, practitioner, course):
    page = client_for(practitioner).get(log_url(course.next_visit) + "?report=99999&report=x").text
    assert "no longer waiting" in page
    assert 'name="side_effects-0-patient_report"' not in page


def test_voiding_the_confirmed_side_effect_puts_the_report_back_to_wait(practitioner, course):
    from courses.session_services import session_record

    (report,) = submitted(course, flare="mild")
    row = {
        "term": report.term,
        "attributed_session": course.first,
        "onset_date": timezone.localdate(),
        "severity": 1,
        "action_taken": "none",
        "outcome": "resolved",
        "relatedness": "related",
        "patient_report": report,
    }
    visit = course.next_visit
    session_record(
        session=visit,
        data={"complete": False},
        components=[],
        injections=[],
        side_effects=[row],
        recorded_by=practitioner,
        expected_version=visit.version,
        confirmations={},
    )
    side_effect = SideEffect.objects.get()
    visit.refresh_from_db()
    session_record(
        session=visit,
        data={"complete": False},
        components=[],
        injections=[],
        side_effects=[{"id": side_effect.pk, "void_reason": "Entered on the wrong patient"}],
        recorded_by=practitioner,
        expected_version=visit.version,
        confirmations={},
    )
    report.refresh_from_db()
    assert (report.status, report.side_effect, report.decided_at) == (Status.PENDING, None, None)


# --- Dismissing ------------------------------------------------------------------------------------


def test_dismissing_needs_a_reason_and_keeps_the_report(client_for, practitioner, course):
    (report,) = submitted(course, bruising="mild")
    client = client_for(practitioner)
    back = log_url(course.next_visit)

    refused = client.post(dismiss_url(report), {"reason": "  ", "next": back}, follow=True)
    assert "Say why this report is not a side effect." in refused.text
    report.refresh_from_db()
    assert report.status == Status.PENDING

    response = client.post(dismiss_url(report), {"reason": "Bruised in a fall", "next": back})
    assert response.status_code == 302 and response.url == back
    report.refresh_from_db()
    assert (report.status, report.dismiss_reason, report.decided_by) == (
        Status.DISMISSED,
        "Bruised in a fall",
        practitioner,
    )
    assert "Reported by the patient" not in client.get(back).text

    again = client.post(dismiss_url(report), {"reason": "Twice", "next": back}, follow=True)
    assert "already dismissed" in again.text


def test_dismissing_goes_back_only_to_our_own_pages(client_for, practitioner, course):
    (report,) = submitted(course, bruising="mild")
    response = client_for(practitioner).post(
        dismiss_url(report), {"reason": "Not related", "next": "https://evil.example/"}
    )
    assert response.url == reverse("courses:course-detail", args=[course.pk])


@pytest.mark.parametrize("role", ["front_desk", "clinic_admin", "stranger"])
def test_only_practitioners_dismiss(client_for, course, role, request):
    (report,) = submitted(course, bruising="mild")
    response = client_for(request.getfixturevalue(role)).post(dismiss_url(report), {"reason": "No"})
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.status == Status.PENDING


def test_dismissing_answers_only_post(client_for, practitioner, course):
    (report,) = submitted(course, bruising="mild")
    assert client_for(practitioner).get(dismiss_url(report)).status_code == 405


def test_an_unknown_report_is_a_404(client_for, practitioner):
    assert (
        client_for(practitioner).post(dismiss_url(type("R", (), {"pk": 99999})), {"reason": "x"}).status_code
        == 404
    )


def test_the_course_page_shows_each_report_and_its_decision(client_for, practitioner, course):
    _, bruising = submitted(course, swelling="mild", bruising="moderate")
    patient_report_dismiss(report=bruising, by=practitioner, reason="Bruised before the visit")

    page = client_for(practitioner).get(reverse("courses:course-detail", args=[course.pk])).text

    assert "Side effects the patient reported" in page
    assert "Swelling where injected: Yes, mild" in page and "Waits for the practitioner" in page
    assert reverse("courses:session-log", args=[course.first.pk]) + "?edit=1#patient-reports" in page
    assert "Dismissed" in page and "Bruised before the visit" in page


def test_front_desk_sees_no_reports_on_the_course_page(client_for, front_desk, course):
    submitted(course, swelling="mild")
    page = client_for(front_desk).get(reverse("courses:course-detail", args=[course.pk])).text
    assert "Side effects the patient reported" not in page and "Swelling where injected" not in page
