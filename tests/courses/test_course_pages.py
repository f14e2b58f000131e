import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.models import CourseStatus, ProtocolSettings, TreatmentCourse
from tests.factories import (
    ConditionFactory,
    ConsentFactory,
    InjectionFactory,
    LotFactory,
    OutcomeInstrumentFactory,
    OutcomeScoreFactory,
    PatientFactory,
    PreparationComponentFactory,
    ProductFactory,
    SideEffectFactory,
    SideEffectTermFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)

pytestmark = pytest.mark.django_db


def plan(practitioner, **overrides):
    data = {
        "condition": ConditionFactory().pk,
        "body_region": "knee",
        "laterality": "right",
        "practitioner": practitioner.pk,
        "start_date": timezone.localdate().isoformat(),
        "planned_sessions": 6,
        "interval_days": 14,
        "baseline_pain": 7,
        "goals": "Walk the dog for 30 minutes",
        "deviation_reason": "",
    }
    data.update(overrides)
    return data


def test_the_create_form_starts_from_the_clinic_protocol(client_for, practitioner):
    patient = PatientFactory()
    response = client_for(practitioner).get(reverse("courses:course-create") + f"?patient={patient.pk}")
    assert response.status_code == 200
    assert response.context["form"].initial["planned_sessions"] == 6
    assert response.context["form"].initial["interval_days"] == 14
    assert "protocol deviation" in response.text


def test_it_plans_a_course_for_a_patient(client_for, practitioner):
    patient = PatientFactory()
    consent = ConsentFactory(patient=patient)
    response = client_for(practitioner).post(
        reverse("courses:course-create") + f"?patient={patient.pk}", plan(practitioner, consent=consent.pk)
    )
    course = TreatmentCourse.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("courses:course-detail", args=[course.pk])
    assert course.status == CourseStatus.PLANNED
    assert course.consent == consent
    assert course.created_by == practitioner
    assert not course.is_protocol_deviation


def test_a_plan_outside_the_protocol_comes_back_asking_for_a_reason_and_keeps_the_input(
    client_for, practitioner
):
    patient = PatientFactory()
    response = client_for(practitioner).post(
        reverse("courses:course-create") + f"?patient={patient.pk}",
        plan(practitioner, planned_sessions=10, goals="Typed goals"),
    )
    assert response.status_code == 200
    assert "deviation_reason" in response.context["form"].errors
    assert "Typed goals" in response.text
    assert not TreatmentCourse.objects.exists()


def test_a_plan_outside_the_protocol_is_saved_and_flagged_with_its_reason(client_for, practitioner):
    patient = PatientFactory()
    client_for(practitioner).post(
        reverse("courses:course-create") + f"?patient={patient.pk}",
        plan(practitioner, interval_days=7, deviation_reason="Weekly, as in Klein 1993"),
    )
    course = TreatmentCourse.objects.get(patient=patient)
    assert course.is_protocol_deviation
    assert course.deviation_reason == "Weekly, as in Klein 1993"


def test_the_course_page_shows_the_plan_timeline_and_responder_status(client_for, practitioner):
    course = TreatmentCourseFactory(baseline_pain=8)
    session = TreatmentSessionFactory(course=course, sequence=1, completed=True, pain_pre=8)
    InjectionFactory(session=session, volume_ml=Decimal("2.5"))
    OutcomeScoreFactory(course=course, score=Decimal("3"))
    response = client_for(practitioner).get(reverse("courses:course-detail", args=[course.pk]))
    assert response.status_code == 200
    assert "1 of 6 treatments" in response.text
    assert "MCL femoral" in response.text
    assert "Responder" in response.text


def test_the_home_page_lists_the_practitioners_open_courses(client_for, practitioner):
    mine = TreatmentCourseFactory(practitioner=practitioner)
    other = TreatmentCourseFactory()
    response = client_for(practitioner).get(reverse("home"))
    assert reverse("courses:course-detail", args=[mine.pk]) in response.text
    assert reverse("courses:course-detail", args=[other.pk]) not in response.text


def clinical_course():
    """A course with a completed session carrying a preparation, an injection, a side effect and notes."""
    course = TreatmentCourseFactory(goals="Kneel in the garden")
    session = TreatmentSessionFactory(
        course=course,
        sequence=1,
        completed=True,
        notes="Tender over pes anserine",
        total_volume_ml=Decimal("4"),
    )
    InjectionFactory(session=session)
    PreparationComponentFactory(session=session, lot=LotFactory(lot_number="DX-4471"))
    SideEffectFactory(attributed_session=session, term=SideEffectTermFactory(name="Bruising"))
    OutcomeScoreFactory(course=course)
    return course


def test_front_desk_sees_the_schedule_and_status_but_no_clinical_entries(client_for, front_desk):
    course = clinical_course()
    response = client_for(front_desk).get(reverse("courses:course-detail", args=[course.pk]))
    assert response.status_code == 200
    assert "Session" in response.text and "Completed" in response.text
    for clinical in (
        "MCL femoral",
        "DX-4471",
        "Bruising",
        "Tender over",
        "Kneel in the garden",
        "pain-trend",
    ):
        assert clinical not in response.text
    assert "Complete the course" not in response.text
    assert "Edit plan" not in response.text


def test_a_practitioner_sees_the_clinical_timeline(client_for, practitioner):
    course = clinical_course()
    response = client_for(practitioner).get(reverse("courses:course-detail", args=[course.pk]))
    for clinical in ("MCL femoral", "DX-4471", "Bruising", "Kneel in the garden", "pain-trend", "4 mL"):
        assert clinical in response.text


def test_a_clinic_admin_reads_the_clinical_course_but_gets_no_actions(client_for, clinic_admin):
    course = clinical_course()
    response = client_for(clinic_admin).get(reverse("courses:course-detail", args=[course.pk]))
    assert "DX-4471" in response.text
    assert "Complete the course" not in response.text
    assert "Add a score" not in response.text


@pytest.mark.parametrize("interval", [14, 18])
def test_the_course_page_says_when_the_next_treatment_is_due(client_for, practitioner, interval):
    """The window is the one the diary books in (courses.timeline), whatever the planned interval."""
    course = TreatmentCourseFactory(interval_days=interval)
    first = TreatmentSessionFactory(course=course, sequence=1, completed=True)
    response = client_for(practitioner).get(reverse("courses:course-detail", args=[course.pk]))
    progress = response.context["progress"]
    last = timezone.localtime(first.starts_at).date()
    assert (progress.completed, progress.planned) == (1, 6)
    assert progress.next_due.earliest == last + datetime.timedelta(days=14)
    assert progress.next_due.planned == last + datetime.timedelta(days=interval)
    assert progress.next_due.latest == last + datetime.timedelta(days=21)
    assert "14–21 days allowed" in response.text


def test_a_missing_course_is_a_404(client_for, practitioner):
    assert client_for(practitioner).get(reverse("courses:course-detail", args=[999999])).status_code == 404


def test_completing_from_the_page_with_booked_sessions_asks_for_a_reason(client_for, practitioner):
    course = TreatmentCourseFactory()
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    TreatmentSessionFactory(course=course, sequence=2)
    client = client_for(practitioner)
    response = client.post(
        reverse("courses:course-complete", args=[course.pk]),
        {"end_date": timezone.localdate().isoformat(), "note": "Typed note"},
    )
    assert response.status_code == 400
    assert "still booked" in response.text
    assert "Typed note" in response.text
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE
    response = client.post(
        reverse("courses:course-complete", args=[course.pk]),
        {"end_date": timezone.localdate().isoformat(), "cancel_reason": "Goal met"},
    )
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.status == CourseStatus.COMPLETED


def test_stopping_from_the_page_records_the_reason(client_for, practitioner):
    course = TreatmentCourseFactory()
    response = client_for(practitioner).post(
        reverse("courses:course-stop", args=[course.pk]),
        {"stop_reason": "no_response", "end_date": timezone.localdate().isoformat(), "note": "No change"},
    )
    assert response.status_code == 302
    course.refresh_from_db()
    assert (course.status, course.stop_reason, course.closing_note) == ("stopped", "no_response", "No change")


def test_extending_past_the_maximum_from_the_page_shows_the_deviation_field_error(client_for, practitioner):
    course = TreatmentCourseFactory(planned_sessions=8)
    response = client_for(practitioner).post(
        reverse("courses:course-extend", args=[course.pk]), {"to_sessions": 10, "reason": "Slow but steady"}
    )
    assert response.status_code == 400
    assert "beyond the protocol maximum" in response.text
    assert "Slow but steady" in response.text
    course.refresh_from_db()
    assert course.planned_sessions == 8


def test_a_follow_up_score_is_added_from_the_course_page(client_for, practitioner):
    course = TreatmentCourseFactory()
    nrs = OutcomeInstrumentFactory()
    response = client_for(practitioner).post(
        reverse("courses:score-add", args=[course.pk]),
        {
            "instrument": nrs.pk,
            "score": "2",
            "timepoint": "w12",
            "recorded_on": timezone.localdate().isoformat(),
            "source": "phone",
        },
    )
    assert response.status_code == 302
    score = course.scores.get()
    assert (score.score, score.timepoint, score.source, score.created_by) == (
        Decimal("2"),
        "w12",
        "phone",
        practitioner,
    )


def test_an_out_of_range_score_comes_back_with_the_message(client_for, practitioner):
    course = TreatmentCourseFactory()
    nrs = OutcomeInstrumentFactory()
    response = client_for(practitioner).post(
        reverse("courses:score-add", args=[course.pk]),
        {
            "instrument": nrs.pk,
            "score": "12",
            "timepoint": "w6",
            "recorded_on": timezone.localdate(),
            "source": "clinic",
        },
    )
    assert response.status_code == 400
    assert "scores run from" in response.text
    assert not course.scores.exists()


def test_a_walk_in_session_opens_the_logging_page(client_for, practitioner, works_every_day, at_noon):
    course = TreatmentCourseFactory(practitioner=practitioner)
    response = client_for(practitioner).post(
        reverse("courses:session-walk-in", args=[course.pk]), {"practitioner": practitioner.pk}
    )
    session = course.sessions.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("courses:session-log", args=[session.pk])


def test_the_course_list_shows_the_practitioners_open_courses_by_default(client_for, practitioner):
    mine = TreatmentCourseFactory(practitioner=practitioner, planned_sessions=10, deviation_reason="Why")
    mine.full_clean()
    mine.save()
    closed = TreatmentCourseFactory(practitioner=practitioner, status=CourseStatus.COMPLETED)
    someone_elses = TreatmentCourseFactory()
    response = client_for(practitioner).get(reverse("courses:course-list"))
    shown = list(response.context["page"])
    assert shown == [mine]
    assert "Protocol deviation" in response.text
    response = client_for(practitioner).get(
        reverse("courses:course-list"), {"status": "all", "practitioner": ""}
    )
    assert set(response.context["page"]) == {mine, closed, someone_elses}
    response = client_for(practitioner).get(
        reverse("courses:course-list"), {"status": "all", "deviation": "on"}
    )
    assert list(response.context["page"]) == [mine]


def test_the_course_list_is_paginated_with_a_flat_query_count(
    client_for, practitioner, django_assert_max_num_queries
):
    for days_ago in range(30):
        # Different days, so the sessions do not overlap in the practitioner's diary.
        course = TreatmentCourseFactory(
            practitioner=practitioner,
            start_date=timezone.localdate() - datetime.timedelta(days=40 + days_ago),
        )
        TreatmentSessionFactory(course=course, sequence=1, completed=True)
    client = client_for(practitioner)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("courses:course-list"))
    assert len(response.context["page"]) == 25
    assert response.context["page"].paginator.num_pages == 2


def test_lot_recall_lists_every_patient_who_received_the_lot(client_for, practitioner):
    lot = LotFactory(lot_number="RCL-001", recalled=True)
    other_lot = LotFactory(lot_number="RCL-002")
    first = PreparationComponentFactory(lot=lot)
    second = PreparationComponentFactory(lot=lot)
    not_this_lot = PreparationComponentFactory(lot=other_lot)
    voided = PreparationComponentFactory(lot=lot)
    voided.void(by=practitioner, reason="Entered on the wrong session")
    client = client_for(practitioner)
    search = client.get(reverse("courses:lot-recall"), {"q": "rcl"})
    assert set(search.context["lots"]) == {lot, other_lot}
    response = client.get(reverse("courses:lot-recall"), {"q": "RCL-001", "lot": lot.pk})
    recipients = response.context["recipients"]
    assert {c.session.patient for c in recipients} == {first.session.patient, second.session.patient}
    assert not_this_lot.session.patient.full_name not in response.text
    assert voided.session.patient.full_name not in response.text
    assert response.context["patient_count"] == 2


def test_lot_recall_of_an_unknown_lot_is_a_404(client_for, practitioner):
    assert client_for(practitioner).get(reverse("courses:lot-recall"), {"lot": 424242}).status_code == 404
    assert client_for(practitioner).get(reverse("courses:lot-recall"), {"lot": "abc"}).status_code == 404


def test_a_clinic_admin_edits_the_protocol(client_for, clinic_admin):
    data = {
        "min_sessions": 3,
        "max_sessions": 6,
        "default_sessions": 4,
        "min_interval_days": 10,
        "max_interval_days": 28,
        "default_interval_days": 21,
        "slot_minutes": 45,
        "screening_valid_days": 365,
        "reminder_hours_before": 48,
    }
    response = client_for(clinic_admin).post(reverse("courses:protocol-settings"), data)
    assert response.status_code == 302
    protocol = ProtocolSettings.load()
    assert (protocol.max_sessions, protocol.default_sessions, protocol.slot_minutes) == (6, 4, 45)


def test_protocol_defaults_must_lie_inside_the_protocol(client_for, clinic_admin):
    data = {
        "min_sessions": 3,
        "max_sessions": 6,
        "default_sessions": 8,
        "min_interval_days": 21,
        "max_interval_days": 14,
        "default_interval_days": 14,
        "slot_minutes": 30,
        "screening_valid_days": 180,
        "reminder_hours_before": 24,
    }
    response = client_for(clinic_admin).post(reverse("courses:protocol-settings"), data)
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"default_sessions", "max_interval_days"}
    assert ProtocolSettings.load().max_sessions == 8


@pytest.mark.parametrize("session_count", [2, 8])
def test_the_course_page_query_count_does_not_grow_with_sessions_and_injections(
    client_for, practitioner, django_assert_max_num_queries, session_count
):
    course = TreatmentCourseFactory(planned_sessions=8)
    nrs = OutcomeInstrumentFactory()
    for sequence in range(1, session_count + 1):
        session = TreatmentSessionFactory(course=course, sequence=sequence, completed=True)
        for _ in range(6):
            InjectionFactory(session=session)
        PreparationComponentFactory(session=session)
        PreparationComponentFactory(
            session=session,
            lot=LotFactory(
                product=ProductFactory(
                    name="Lidocaine 1%", product_type="anaesthetic", stock_concentration_percent=1
                )
            ),
        )
        SideEffectFactory(attributed_session=session)
        OutcomeScoreFactory(course=course, instrument=nrs, session=session)
    client = client_for(practitioner)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("courses:course-detail", args=[course.pk]))
    assert response.status_code == 200
    assert response.text.count("MCL femoral") == 6 * session_count


def test_lot_recall_opens_a_single_match_and_lists_recalled_lots_first(client_for, clinic_admin):
    recalled = LotFactory(lot_number="LD-RECALLED", recalled=True, recall_note="Particulates")
    component = PreparationComponentFactory(lot=LotFactory(lot_number="DX-ONLY-ONE"))
    client = client_for(clinic_admin)
    start = client.get(reverse("courses:lot-recall"))
    assert start.context["recalled_lots"] == [recalled]
    found = client.get(reverse("courses:lot-recall"), {"q": "only-one"})
    assert found.context["lot"] == component.lot
    assert component.session.patient.full_name in found.text


def test_planning_without_a_patient_sends_the_practitioner_to_choose_one(client_for, practitioner):
    response = client_for(practitioner).get(reverse("courses:course-create"))
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:patient-list")


def test_planning_for_an_unknown_patient_is_a_404(client_for, practitioner):
    response = client_for(practitioner).get(reverse("courses:course-create") + "?patient=999999")
    assert response.status_code == 404


def test_a_practitioner_edits_an_open_plan(client_for, practitioner):
    course = TreatmentCourseFactory(status=CourseStatus.PLANNED)
    response = client_for(practitioner).post(
        reverse("courses:course-edit", args=[course.pk]),
        plan(
            practitioner,
            condition=course.condition_id,
            start_date=course.start_date.isoformat(),
            planned_sessions=4,
        ),
    )
    assert response.status_code == 302
    course.refresh_from_db()
    assert (course.planned_sessions, course.practitioner, course.goals) == (
        4,
        practitioner,
        "Walk the dog for 30 minutes",
    )


def test_an_invalid_edit_changes_nothing_and_keeps_the_input(client_for, practitioner):
    course = TreatmentCourseFactory(status=CourseStatus.PLANNED, planned_sessions=6)
    response = client_for(practitioner).post(
        reverse("courses:course-edit", args=[course.pk]),
        plan(practitioner, condition=course.condition_id, planned_sessions=12, goals="Typed"),
    )
    assert response.status_code == 200
    assert "deviation_reason" in response.context["form"].errors
    assert "Typed" in response.text
    course.refresh_from_db()
    assert course.planned_sessions == 6


def test_a_closed_plan_cannot_be_edited(client_for, practitioner):
    course = TreatmentCourseFactory(status=CourseStatus.COMPLETED, end_date=timezone.localdate())
    response = client_for(practitioner).get(reverse("courses:course-edit", args=[course.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("courses:course-detail", args=[course.pk])


def test_a_walk_in_while_a_visit_is_booked_explains_what_to_do(client_for, practitioner, works_every_day):
    course = TreatmentCourseFactory(practitioner=practitioner)
    TreatmentSessionFactory(course=course, sequence=1)
    response = client_for(practitioner).post(
        reverse("courses:session-walk-in", args=[course.pk]), {"practitioner": practitioner.pk}
    )
    assert response.status_code == 400
    assert "Treatment 1 is booked" in response.text
    assert course.sessions.count() == 1


def test_front_desk_can_book_and_move_sessions_from_the_course_page(client_for, front_desk):
    course = TreatmentCourseFactory()
    session = TreatmentSessionFactory(course=course, sequence=1)
    response = client_for(front_desk).get(reverse("courses:course-detail", args=[course.pk]))
    assert reverse("scheduling:course-book", args=[course.pk]) in response.text
    assert reverse("scheduling:session-reschedule", args=[session.pk]) in response.text


def test_a_score_entered_in_error_is_voided_with_a_reason_and_leaves_the_trend(client_for, practitioner):
    course = TreatmentCourseFactory(baseline_pain=7)
    score = OutcomeScoreFactory(course=course, instrument=OutcomeInstrumentFactory(), score=Decimal("1"))
    client = client_for(practitioner)
    refused = client.post(reverse("courses:score-void", args=[course.pk, score.pk]), {"reason": " "})
    assert refused.status_code == 302
    score.refresh_from_db()
    assert not score.is_voided
    client.post(reverse("courses:score-void", args=[course.pk, score.pk]), {"reason": "Typed 1 for 7"})
    score.refresh_from_db()
    assert (score.is_voided, score.void_reason, score.voided_by) == (True, "Typed 1 for 7", practitioner)
    trend = client.get(reverse("courses:course-trend-data", args=[course.pk])).json()
    assert trend["points"] == []


def test_a_score_of_another_course_cannot_be_voided_through_this_one(client_for, practitioner):
    score = OutcomeScoreFactory()
    other = TreatmentCourseFactory()
    response = client_for(practitioner).post(
        reverse("courses:score-void", args=[other.pk, score.pk]), {"reason": "Wrong"}
    )
    assert response.status_code == 404
