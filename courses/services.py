"""Writes for courses: planning, status changes, extensions, follow-up scores.

Every function is keyword-only, runs in one transaction and validates with full_clean(), so views, the
admin and the demo seeder share the same rules, and ends by announcing what it changed (clinic.changes).
Visits in the diary (booking, walk-ins, moves, cancellations) are the diary service's (scheduling.diary).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.changes import Change, announce
from courses import timeline
from courses.models import (
    LIVE_SESSION_STATUSES,
    CourseExtension,
    CourseStatus,
    NoShowFollowUp,
    OutcomeScore,
    PatientSideEffectReport,
    ProtocolSettings,
    SessionStatus,
    Timepoint,
    TreatmentCourse,
)
from scheduling import diary

# Plan fields a practitioner may set when creating or editing a course.
PLAN_FIELDS = (
    "condition",
    "body_region",
    "laterality",
    "practitioner",
    "planned_sessions",
    "interval_days",
    "outcome_instrument",
    "baseline_pain",
    "baseline_instrument_score",
    "goals",
    "consent",
    "start_date",
    "deviation_reason",
)


def _check_consent(course):
    if course.consent_id and course.consent.patient_id != course.patient_id:
        raise ValidationError({"consent": "This consent belongs to another patient."})


def _check_instrument_baseline(course):
    if course.baseline_instrument_score is None:
        return
    instrument = course.outcome_instrument
    if instrument is None:
        raise ValidationError(
            {"baseline_instrument_score": "Choose the outcome instrument this baseline score belongs to."}
        )
    if not instrument.min_score <= course.baseline_instrument_score <= instrument.max_score:
        raise ValidationError(
            {
                "baseline_instrument_score": (
                    f"{instrument.code} scores run from {instrument.min_score} to {instrument.max_score}."
                )
            }
        )


@transaction.atomic
def course_create(
    *,
    patient,
    condition,
    body_region,
    laterality,
    practitioner,
    baseline_pain,
    created_by,
    planned_sessions=None,
    interval_days=None,
    outcome_instrument=None,
    baseline_instrument_score=None,
    goals="",
    consent=None,
    start_date=None,
    deviation_reason="",
):
    """Plan a new course for a patient. Session count and spacing default to the clinic protocol."""
    protocol = ProtocolSettings.load()
    if patient.archived:
        raise ValidationError("This patient is archived: restore the record before planning a course.")
    course = TreatmentCourse(
        patient=patient,
        condition=condition,
        body_region=body_region,
        laterality=laterality,
        practitioner=practitioner,
        planned_sessions=planned_sessions or protocol.default_sessions,
        interval_days=interval_days or protocol.default_interval_days,
        outcome_instrument=outcome_instrument,
        baseline_pain=baseline_pain,
        baseline_instrument_score=baseline_instrument_score,
        goals=goals,
        consent=consent,
        start_date=start_date or timezone.localdate(),
        deviation_reason=deviation_reason.strip(),
        status=CourseStatus.PLANNED,
        created_by=created_by,
    )
    _check_consent(course)
    _check_instrument_baseline(course)
    course.full_clean()
    course.save()
    announce(Change.PLAN, courses=[course])
    return course


@transaction.atomic
def course_update(*, course, updated_by, **changes):
    """Edit the plan of an open course. Completed and stopped courses are a closed record."""
    unknown = set(changes) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"Not plan fields: {', '.join(sorted(unknown))}")
    course = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
    if not course.is_open:
        raise ValidationError(f"This course is {course.get_status_display().lower()}: its plan is closed.")
    for name, value in changes.items():
        setattr(course, name, value.strip() if name == "deviation_reason" else value)
    live = course.sessions.filter(status__in=LIVE_SESSION_STATUSES).count()
    if course.planned_sessions < live:
        raise ValidationError(
            {"planned_sessions": f"The course already has {live} booked or completed sessions."}
        )
    first = course.sessions.filter(status__in=LIVE_SESSION_STATUSES).order_by("starts_at").first()
    if first and course.start_date > timezone.localtime(first.starts_at).date():
        raise ValidationError({"start_date": "The course cannot start after its first visit."})
    _check_consent(course)
    _check_instrument_baseline(course)
    course.full_clean()
    course.save()
    announce(Change.PLAN, courses=[course])
    return course


@transaction.atomic
def course_activate(*, course, by):
    """A planned course starts: the patient has agreed and sessions are being booked or given."""
    course = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
    if course.status != CourseStatus.PLANNED:
        raise ValidationError(
            f"Only a planned course can be started; this one is {course.get_status_display()}."
        )
    course.status = CourseStatus.ACTIVE
    course.full_clean()
    course.save(update_fields=["status", "is_protocol_deviation", "updated_at"])
    announce(Change.STATUS, courses=[course])
    return course


def _close_open_sessions(course, *, reason, by):
    """Cancel the booked visits of a course being closed (the diary service), or refuse without a reason."""
    return diary.course_visits_cancel(course=course, reason=reason, by=by)


def _end_date(course, end_date):
    end_date = end_date or timezone.localdate()
    if end_date < course.start_date:
        raise ValidationError({"end_date": "The end date cannot be before the start date."})
    if end_date > timezone.localdate():
        raise ValidationError({"end_date": "The end date cannot be in the future."})
    return end_date


@transaction.atomic
def course_complete(*, course, by, end_date=None, note="", cancel_reason=""):
    """Close an active course as finished. Sessions still booked are cancelled only with a reason."""
    course = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
    if course.status != CourseStatus.ACTIVE:
        raise ValidationError(
            f"Only an active course can be completed; this one is {course.get_status_display().lower()}."
        )
    if not timeline.treatments(course.sessions.filter(status=SessionStatus.COMPLETED)):
        raise ValidationError("No treatment has been given yet: stop the course instead, with its reason.")
    _close_open_sessions(course, reason=cancel_reason, by=by)
    course.status = CourseStatus.COMPLETED
    course.end_date = _end_date(course, end_date)
    course.closing_note = note.strip()
    course.full_clean()
    course.save()
    announce(Change.STATUS, courses=[course])
    return course


@transaction.atomic
def course_stop(*, course, by, stop_reason, end_date=None, note="", cancel_reason=""):
    """Stop a planned or active course early, saying why. Sessions still booked need a cancel reason."""
    course = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
    if not course.is_open:
        raise ValidationError(f"This course is already {course.get_status_display().lower()}.")
    if not stop_reason:
        raise ValidationError({"stop_reason": "Say why the course was stopped."})
    _close_open_sessions(course, reason=cancel_reason, by=by)
    # Nobody needs to call back about a missed visit of a course that has stopped.
    diary.course_no_shows_close(course=course, outcome=NoShowFollowUp.COURSE_STOPPED, by=by)
    course.status = CourseStatus.STOPPED
    course.stop_reason = stop_reason
    course.end_date = _end_date(course, end_date)
    course.closing_note = note.strip()
    course.full_clean()
    course.save()
    announce(Change.STATUS, courses=[course])
    return course


@transaction.atomic
def course_extend(*, course, by, to_sessions, reason, deviation_reason=""):
    """Plan more sessions for an open course, recording why. Past the protocol maximum is a deviation."""
    course = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
    if not course.is_open:
        raise ValidationError(f"This course is {course.get_status_display().lower()}: it cannot be extended.")
    reason = (reason or "").strip()
    errors = {}
    if to_sessions is None or to_sessions <= course.planned_sessions:
        errors["to_sessions"] = (
            f"An extension must plan more than the current {course.planned_sessions} sessions."
        )
    if not reason:
        errors["reason"] = "Say why the course is extended."
    if errors:
        raise ValidationError(errors)
    protocol = ProtocolSettings.load()
    deviation_reason = (deviation_reason or "").strip()
    if to_sessions > protocol.max_sessions and not deviation_reason:
        raise ValidationError(
            {
                "deviation_reason": (
                    f"{to_sessions} sessions is beyond the protocol maximum of {protocol.max_sessions}: "
                    "record the reason for the deviation."
                )
            }
        )
    if deviation_reason:
        course.deviation_reason = (
            f"{course.deviation_reason.strip()}\n{deviation_reason}".strip()
            if course.deviation_reason.strip()
            else deviation_reason
        )
    extension = CourseExtension(
        course=course,
        from_sessions=course.planned_sessions,
        to_sessions=to_sessions,
        reason=reason,
        created_by=by,
    )
    course.planned_sessions = to_sessions
    course.full_clean()
    course.save()
    extension.full_clean()
    extension.save()
    announce(Change.PLAN, courses=[course])
    return extension


@transaction.atomic
def outcome_score_record(
    *,
    course,
    instrument,
    score,
    timepoint,
    recorded_by,
    recorded_on=None,
    source=OutcomeScore.Source.CLINIC,
    session=None,
):
    """A follow-up pain or instrument score for a course."""
    if session is not None and session.course_id != course.pk:
        raise ValidationError({"session": "That session belongs to another course."})
    if recorded_on and recorded_on < course.start_date - datetime.timedelta(days=90):
        raise ValidationError({"recorded_on": "This date is long before the course started."})
    if timepoint == Timepoint.BASELINE:
        first = timeline.first_treatment(course.sessions.filter(status=SessionStatus.COMPLETED))
        problem = timeline.baseline_date_problem(
            recorded_on or timezone.localdate(), timeline.local_day(first.starts_at) if first else None
        )
        if problem:
            raise ValidationError({"timepoint": problem})
    entry = OutcomeScore(
        course=course,
        instrument=instrument,
        score=score,
        timepoint=timepoint,
        source=source,
        session=session,
        recorded_on=recorded_on or timezone.localdate(),
        created_by=recorded_by,
    )
    entry.full_clean()
    entry.save()
    announce(Change.SCORES, courses=[course])
    return entry


@transaction.atomic
def outcome_score_void(*, score, by, reason):
    """Withdraw a score entered in error: it stays on record, hidden from trends and responder status."""
    score = OutcomeScore.all_objects.select_for_update().get(pk=score.pk)
    if score.is_voided:
        raise ValidationError("This score was already voided.")
    score.void(by=by, reason=(reason or "")[:200])
    announce(Change.SCORES, courses=[score.course_id])
    return score


# --- What the patient reports after a treatment ---------------------------------------------------------


def patient_side_effects_report(*, assignment, reports, reported_on):
    """Store the reactions a submitted check-in reports, each waiting for the practitioner's decision.

    `reports` are dicts with "item_code", "description", "term" (a SideEffectTerm or None) and "grade"
    (1-3 or None), as questionnaires.reactions reads them from the answers. Runs in the submission's
    transaction; the figures change only when a report is confirmed into a side effect.
    """
    made = []
    for row in reports:
        report = PatientSideEffectReport(
            course=assignment.course,
            session=assignment.session,
            assignment=assignment,
            item_code=row["item_code"],
            term=row.get("term"),
            description=row["description"][:300],
            grade=row.get("grade"),
            reported_on=reported_on,
        )
        report.full_clean(exclude=["course", "session", "assignment", "term"])
        report.save()
        made.append(report)
    return made


@transaction.atomic
def patient_report_dismiss(*, report, by, reason, now=None):
    """The practitioner decides a patient's report is not a side effect: kept, with who, when and why."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why this report is not a side effect."})
    report = PatientSideEffectReport.objects.select_for_update().get(pk=report.pk)
    if report.status != PatientSideEffectReport.Status.PENDING:
        raise ValidationError(report.decided_sentence)
    report.status = PatientSideEffectReport.Status.DISMISSED
    report.decided_by, report.decided_at = by, now or timezone.now()
    report.dismiss_reason = reason[:300]
    report.full_clean(exclude=["course", "session", "assignment", "term", "decided_by"])
    report.save()
    return report
