import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from courses import services
from courses.models import (
    CourseExtension,
    CourseStatus,
    OutcomeScore,
    ProtocolSettings,
    SessionStatus,
    StopReason,
    Timepoint,
)
from tests.factories import (
    ConditionFactory,
    ConsentFactory,
    OutcomeInstrumentFactory,
    PatientFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)

pytestmark = pytest.mark.django_db


def create(practitioner, **overrides):
    values = {
        "patient": PatientFactory(),
        "condition": ConditionFactory(),
        "body_region": "knee",
        "laterality": "left",
        "practitioner": practitioner,
        "baseline_pain": 6,
        "created_by": practitioner,
    }
    values.update(overrides)
    return services.course_create(**values)


# --- Planning -----------------------------------------------------------------------------------


def test_a_new_course_takes_the_protocol_defaults(practitioner):
    protocol = ProtocolSettings.load()
    protocol.default_sessions, protocol.default_interval_days = 5, 21
    protocol.save()
    course = create(practitioner)
    assert (course.planned_sessions, course.interval_days) == (5, 21)
    assert course.status == CourseStatus.PLANNED
    assert course.start_date == timezone.localdate()
    assert not course.is_protocol_deviation


@pytest.mark.parametrize(("sessions", "interval"), [(2, 14), (9, 14), (6, 7), (6, 28)])
def test_a_plan_outside_the_protocol_needs_a_reason(practitioner, sessions, interval):
    with pytest.raises(ValidationError) as error:
        create(practitioner, planned_sessions=sessions, interval_days=interval)
    assert "deviation_reason" in error.value.message_dict


def test_a_plan_outside_the_protocol_with_a_reason_is_flagged(practitioner):
    course = create(practitioner, planned_sessions=10, deviation_reason="  Long-standing multi-site pain  ")
    assert course.is_protocol_deviation
    assert course.deviation_reason == "Long-standing multi-site pain"


def test_the_protocol_limits_themselves_are_in_protocol(practitioner):
    assert not create(practitioner, planned_sessions=3, interval_days=21).is_protocol_deviation
    assert not create(practitioner, planned_sessions=8, interval_days=14).is_protocol_deviation


def test_a_course_cannot_be_planned_for_an_archived_patient(practitioner):
    patient = PatientFactory(archived=True, archived_reason="Moved away")
    with pytest.raises(ValidationError):
        create(practitioner, patient=patient)


def test_consent_must_belong_to_the_patient(practitioner):
    with pytest.raises(ValidationError) as error:
        create(practitioner, consent=ConsentFactory())
    assert "consent" in error.value.message_dict


def test_a_baseline_instrument_score_needs_its_instrument_and_range(practitioner):
    with pytest.raises(ValidationError) as error:
        create(practitioner, baseline_instrument_score=Decimal("40"))
    assert "baseline_instrument_score" in error.value.message_dict
    visa = OutcomeInstrumentFactory(code="VISA-A", name="VISA-A", max_score=100, higher_is_better=True)
    with pytest.raises(ValidationError):
        create(practitioner, outcome_instrument=visa, baseline_instrument_score=Decimal("140"))
    assert create(practitioner, outcome_instrument=visa, baseline_instrument_score=Decimal("40")).pk


def test_editing_a_plan_recomputes_the_deviation_flag(practitioner):
    course = create(practitioner)
    with pytest.raises(ValidationError):
        services.course_update(course=course, updated_by=practitioner, interval_days=30)
    course = services.course_update(
        course=course, updated_by=practitioner, interval_days=30, deviation_reason="Patient travels monthly"
    )
    assert course.is_protocol_deviation
    course = services.course_update(course=course, updated_by=practitioner, interval_days=14)
    course.refresh_from_db()
    assert not course.is_protocol_deviation


def test_a_plan_cannot_drop_below_the_sessions_already_booked(practitioner):
    course = TreatmentCourseFactory(planned_sessions=4)
    for sequence in (1, 2, 3):
        TreatmentSessionFactory(course=course, sequence=sequence)
    with pytest.raises(ValidationError) as error:
        services.course_update(
            course=course, updated_by=practitioner, planned_sessions=2, deviation_reason="x"
        )
    assert "planned_sessions" in error.value.message_dict


def test_a_closed_course_plan_cannot_be_edited(practitioner):
    course = TreatmentCourseFactory(status=CourseStatus.COMPLETED, end_date=timezone.localdate())
    with pytest.raises(ValidationError):
        services.course_update(course=course, updated_by=practitioner, goals="More")


# --- Status changes ------------------------------------------------------------------------------


def test_a_planned_course_can_be_started_once(practitioner):
    course = create(practitioner)
    services.course_activate(course=course, by=practitioner)
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE
    with pytest.raises(ValidationError):
        services.course_activate(course=course, by=practitioner)


def test_completing_refuses_while_sessions_are_still_booked(practitioner):
    course = TreatmentCourseFactory()
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    booked = TreatmentSessionFactory(course=course, sequence=2)
    with pytest.raises(ValidationError) as error:
        services.course_complete(course=course, by=practitioner)
    assert "cancel_reason" in error.value.message_dict
    course.refresh_from_db()
    booked.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE
    assert booked.status == SessionStatus.SCHEDULED


def test_completing_with_a_reason_cancels_the_booked_sessions(practitioner):
    course = TreatmentCourseFactory()
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    booked = TreatmentSessionFactory(course=course, sequence=2)
    services.course_complete(course=course, by=practitioner, cancel_reason="Pain-free after one session")
    course.refresh_from_db()
    booked.refresh_from_db()
    assert course.status == CourseStatus.COMPLETED
    assert course.end_date == timezone.localdate()
    assert booked.status == SessionStatus.CANCELLED
    assert booked.cancel_reason == "Pain-free after one session"
    assert booked.version == 2


def test_a_course_without_any_session_given_is_stopped_not_completed(practitioner):
    with pytest.raises(ValidationError):
        services.course_complete(course=TreatmentCourseFactory(), by=practitioner)


def test_only_an_active_course_can_be_completed(practitioner):
    with pytest.raises(ValidationError):
        services.course_complete(course=TreatmentCourseFactory(status=CourseStatus.PLANNED), by=practitioner)


def test_stopping_needs_a_reason(practitioner):
    course = TreatmentCourseFactory()
    with pytest.raises(ValidationError) as error:
        services.course_stop(course=course, by=practitioner, stop_reason="")
    assert "stop_reason" in error.value.message_dict


def test_stopping_follows_the_same_rule_for_booked_sessions(practitioner):
    course = TreatmentCourseFactory()
    booked = TreatmentSessionFactory(course=course, sequence=1)
    with pytest.raises(ValidationError):
        services.course_stop(course=course, by=practitioner, stop_reason=StopReason.ADVERSE_EVENT)
    services.course_stop(
        course=course,
        by=practitioner,
        stop_reason=StopReason.ADVERSE_EVENT,
        note="Septic bursitis after session 1",
        cancel_reason="Course stopped",
    )
    course.refresh_from_db()
    booked.refresh_from_db()
    assert course.status == CourseStatus.STOPPED
    assert course.stop_reason == StopReason.ADVERSE_EVENT
    assert course.closing_note == "Septic bursitis after session 1"
    assert booked.status == SessionStatus.CANCELLED


def test_a_closed_course_cannot_be_stopped_again(practitioner):
    course = TreatmentCourseFactory(status=CourseStatus.STOPPED, stop_reason=StopReason.PATIENT_CHOICE)
    with pytest.raises(ValidationError):
        services.course_stop(course=course, by=practitioner, stop_reason=StopReason.NO_RESPONSE)


def test_an_end_date_cannot_be_in_the_future_or_before_the_start(practitioner):
    course = TreatmentCourseFactory()
    with pytest.raises(ValidationError):
        services.course_stop(
            course=course,
            by=practitioner,
            stop_reason=StopReason.PATIENT_CHOICE,
            end_date=timezone.localdate() + datetime.timedelta(days=1),
        )
    with pytest.raises(ValidationError):
        services.course_stop(
            course=course,
            by=practitioner,
            stop_reason=StopReason.PATIENT_CHOICE,
            end_date=course.start_date - datetime.timedelta(days=1),
        )


# --- Extensions ----------------------------------------------------------------------------------


def test_an_extension_up_to_the_protocol_maximum_records_why(practitioner):
    course = TreatmentCourseFactory(planned_sessions=6)
    extension = services.course_extend(course=course, by=practitioner, to_sessions=8, reason="Improving")
    course.refresh_from_db()
    assert course.planned_sessions == 8
    assert (extension.from_sessions, extension.to_sessions, extension.reason) == (6, 8, "Improving")
    assert extension.created_by == practitioner
    assert not course.is_protocol_deviation


def test_an_extension_needs_a_reason_and_more_sessions(practitioner):
    course = TreatmentCourseFactory(planned_sessions=6)
    with pytest.raises(ValidationError) as error:
        services.course_extend(course=course, by=practitioner, to_sessions=6, reason=" ")
    assert set(error.value.message_dict) == {"to_sessions", "reason"}
    assert not CourseExtension.objects.exists()


def test_an_extension_beyond_the_maximum_needs_a_deviation_reason(practitioner):
    course = TreatmentCourseFactory(planned_sessions=6)
    with pytest.raises(ValidationError) as error:
        services.course_extend(course=course, by=practitioner, to_sessions=10, reason="Slow progress")
    assert "deviation_reason" in error.value.message_dict
    services.course_extend(
        course=course, by=practitioner, to_sessions=10, reason="Slow progress", deviation_reason="Bilateral"
    )
    course.refresh_from_db()
    assert course.planned_sessions == 10
    assert course.is_protocol_deviation
    assert course.deviation_reason == "Bilateral"


def test_a_closed_course_cannot_be_extended(practitioner):
    course = TreatmentCourseFactory(status=CourseStatus.COMPLETED, end_date=timezone.localdate())
    with pytest.raises(ValidationError):
        services.course_extend(course=course, by=practitioner, to_sessions=7, reason="More")


# --- Scores --------------------------------------------------------------------------------------


def test_a_follow_up_score_is_recorded_within_the_instrument_range(practitioner):
    course = TreatmentCourseFactory()
    nrs = OutcomeInstrumentFactory()
    with pytest.raises(ValidationError) as error:
        services.outcome_score_record(
            course=course,
            instrument=nrs,
            score=Decimal("11"),
            timepoint=Timepoint.WEEK_12,
            recorded_by=practitioner,
        )
    assert "score" in error.value.message_dict
    score = services.outcome_score_record(
        course=course,
        instrument=nrs,
        score=Decimal("3"),
        timepoint=Timepoint.WEEK_12,
        source=OutcomeScore.Source.PHONE,
        recorded_by=practitioner,
    )
    assert score.created_by == practitioner
    assert score.recorded_on == timezone.localdate()


def test_a_score_cannot_be_dated_in_the_future(practitioner):
    with pytest.raises(ValidationError):
        services.outcome_score_record(
            course=TreatmentCourseFactory(),
            instrument=OutcomeInstrumentFactory(),
            score=Decimal("3"),
            timepoint=Timepoint.WEEK_6,
            recorded_on=timezone.localdate() + datetime.timedelta(days=2),
            recorded_by=practitioner,
        )


def test_a_score_session_must_belong_to_the_course(practitioner):
    with pytest.raises(ValidationError):
        services.outcome_score_record(
            course=TreatmentCourseFactory(),
            instrument=OutcomeInstrumentFactory(),
            score=Decimal("3"),
            timepoint=Timepoint.SESSION,
            session=TreatmentSessionFactory(),
            recorded_by=practitioner,
        )
