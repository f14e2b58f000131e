"""The questionnaire schedule follows every diary and course write, in the same transaction
(questionnaires.schedule.assignments_sync, called through clinic.changes)."""

import datetime

import pytest
from django.utils import timezone

from courses import services
from courses.models import CourseStatus, OutcomeInstrument, ProtocolTimepoint, SessionStatus, StopReason
from courses.session_services import session_record
from outcomes.timepoints import window
from questionnaires.models import Anchor, Assignment, AssignmentStatus
from questionnaires.schedule import assignments_sync
from scheduling import diary
from tests.factories import TreatmentCourseFactory, TreatmentSessionFactory

pytestmark = pytest.mark.django_db


def at(days, hour=10):
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def course(practitioner, works_every_day):
    return TreatmentCourseFactory(
        practitioner=practitioner,
        status=CourseStatus.PLANNED,
        start_date=timezone.localdate() - datetime.timedelta(days=60),
    )


def live(course, **filters):
    return Assignment.objects.filter(course=course, **filters).exclude(status=AssignmentStatus.CANCELLED)


def codes(assignments):
    return sorted((a.anchor, a.questionnaire.code) for a in assignments)


def test_booking_schedules_pain_before_each_treatment_and_a_check_in_after_it(course, front_desk):
    first, second = diary.course_book(course=course, starts=[at(7), at(21)], booked_by=front_desk)
    assert codes(live(course, session=first)) == [("after", "check-in"), ("before", "pain-nrs")]
    before = live(course, session=first, anchor=Anchor.BEFORE_TREATMENT).get()
    assert before.opens_at == first.starts_at - datetime.timedelta(hours=72)
    assert before.closes_at == first.starts_at
    after = live(course, session=second, anchor=Anchor.AFTER_TREATMENT).get()
    assert after.opens_at == second.starts_at + datetime.timedelta(hours=24)
    assert after.closes_at == second.starts_at + datetime.timedelta(hours=72)
    assert not live(course, anchor=Anchor.FOLLOW_UP).exists()


def test_the_courses_own_instrument_is_asked_before_each_treatment_when_it_has_a_questionnaire(
    course, front_desk
):
    course.outcome_instrument = OutcomeInstrument.objects.get(code="PSFS")
    course.save()
    (visit,) = diary.course_book(course=course, starts=[at(7)], booked_by=front_desk)
    assert codes(live(course, session=visit)) == [
        ("after", "check-in"),
        ("before", "pain-nrs"),
        ("before", "psfs"),
    ]


def test_an_instrument_the_clinic_has_not_entered_adds_nothing(course, front_desk):
    course.outcome_instrument = OutcomeInstrument.objects.get(code="ODI")
    course.save()
    (visit,) = diary.course_book(course=course, starts=[at(7)], booked_by=front_desk)
    assert codes(live(course, session=visit)) == [("after", "check-in"), ("before", "pain-nrs")]


def test_a_moved_treatment_moves_its_questionnaires(course, front_desk):
    (visit,) = diary.course_book(course=course, starts=[at(7)], booked_by=front_desk)
    diary.visit_reschedule(session=visit, starts_at=at(9, 14), by=front_desk)
    before = live(course, session=visit, anchor=Anchor.BEFORE_TREATMENT).get()
    assert before.closes_at == at(9, 14)
    assert before.status == AssignmentStatus.SCHEDULED
    assert not Assignment.objects.filter(status=AssignmentStatus.CANCELLED).exists()


def test_a_cancelled_or_missed_visit_cancels_its_questionnaires_with_the_reason(course, front_desk):
    first, second = diary.course_book(course=course, starts=[at(7), at(21)], booked_by=front_desk)
    diary.visit_cancel(session=first, reason="Patient unwell", by=front_desk)
    cancelled = Assignment.objects.filter(session=first)
    assert {a.status for a in cancelled} == {AssignmentStatus.CANCELLED}
    assert all(a.cancel_reason for a in cancelled)
    assert live(course, session=second).count() == 2


def test_a_no_show_cancels_what_was_still_to_come(course, front_desk):
    missed = TreatmentSessionFactory(
        course=course, sequence=1, starts_at=at(0, 9), ends_at=at(0, 9) + datetime.timedelta(minutes=30)
    )
    assignments_sync(course=course)
    assert live(course, session=missed, anchor=Anchor.AFTER_TREATMENT).exists()
    diary.visit_no_show(session=missed, by=front_desk)
    assert not live(course, session=missed).exists()


def test_a_treatment_given_keeps_its_check_in(course, practitioner, at_noon):
    visit = TreatmentSessionFactory(
        course=course,
        sequence=1,
        status=SessionStatus.CHECKED_IN,
        starts_at=at_noon,
        ends_at=at_noon + datetime.timedelta(minutes=30),
    )
    assignments_sync(course=course)
    session_record(
        session=visit,
        data={"pain_pre": 5, "complete": True},
        components=[],
        injections=[],
        side_effects=[],
        recorded_by=practitioner,
        expected_version=visit.version,
        confirmations={"screening": "Checked at the visit"},
    )
    check_in = live(course, session=visit, anchor=Anchor.AFTER_TREATMENT).get()
    assert check_in.status == AssignmentStatus.SCHEDULED


def test_a_stopped_course_keeps_only_its_follow_ups_and_what_the_patient_started(
    course, front_desk, practitioner
):
    TreatmentSessionFactory(course=course, sequence=1, completed=True, starts_at=at(-10))
    first, _second = diary.course_book(course=course, starts=[at(7), at(21)], booked_by=front_desk)
    opened = live(course, session=first, anchor=Anchor.BEFORE_TREATMENT).get()
    opened.status = AssignmentStatus.OPENED
    opened.save()
    services.course_stop(
        course=course, by=practitioner, stop_reason=StopReason.PATIENT_CHOICE, cancel_reason="Course stopped"
    )
    kept = live(course)
    assert {a.anchor for a in kept if a.pk != opened.pk} == {Anchor.FOLLOW_UP}
    opened.refresh_from_db()
    assert opened.status == AssignmentStatus.OPENED


def test_completing_a_course_schedules_each_follow_up_in_its_timepoint_window(course, practitioner):
    last = TreatmentSessionFactory(course=course, sequence=1, completed=True, starts_at=at(-3))
    course.status = CourseStatus.ACTIVE
    course.save()
    services.course_complete(course=course, by=practitioner)
    follow_ups = live(course, anchor=Anchor.FOLLOW_UP)
    w12 = ProtocolTimepoint.objects.get(code="w12")
    expected = window(w12, timezone.localtime(last.starts_at).date())
    nrs = follow_ups.get(timepoint=w12, questionnaire__code="pain-nrs")
    assert timezone.localtime(nrs.opens_at).date() == expected.opens_on
    assert timezone.localtime(nrs.closes_at).date() == expected.closes_on + datetime.timedelta(days=1)
    assert follow_ups.filter(timepoint=w12, questionnaire__code="pgic").exists()
    # One per timepoint, questionnaire and course: syncing again adds nothing.
    count = follow_ups.count()
    assert assignments_sync(course=course) == (0, 0, 0)
    assert live(course, anchor=Anchor.FOLLOW_UP).count() == count


def test_a_window_that_has_passed_expires_and_is_never_recreated(course, front_desk):
    (visit,) = diary.course_book(course=course, starts=[at(7)], booked_by=front_desk)
    later = at(11)
    assignments_sync(course=course, now=later)
    statuses = set(Assignment.objects.filter(session=visit).values_list("status", flat=True))
    assert statuses == {AssignmentStatus.EXPIRED}
    assert assignments_sync(course=course, now=later) == (0, 0, 0)


def test_after_the_rules_change_the_sync_command_applies_them_to_every_course(course, front_desk):
    from django.core.management import call_command

    from questionnaires.models import ScheduleRule

    (visit,) = diary.course_book(course=course, starts=[at(7)], booked_by=front_desk)
    ScheduleRule.objects.filter(anchor=Anchor.AFTER_TREATMENT).update(active=False)
    call_command("questionnaires_sync", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert codes(live(course, session=visit)) == [("before", "pain-nrs")]
