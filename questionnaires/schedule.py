"""The questionnaire schedule of a course, decided in one place: `assignments_sync()`.

What a course should be asked, from the clinic's schedule rules (ScheduleRule, protocol data):
- before each booked treatment (pain NRS and the course's own instrument), from `opens_hours` to
  `closes_hours` around the visit's start (default: the 72 hours before it);
- a check-in after each treatment, booked or given (default: 24 to 72 hours after its start);
- at each protocol follow-up timepoint, in the timepoint's own window (outcomes.timepoints.course_window:
  placed once the course is closed, from its last treatment).

Every diary and course write announces itself (clinic.changes) inside its transaction; `follow()` then
syncs the courses named, in that same transaction. Sync creates what is missing, moves what is scheduled or
sent when its visit moved, and cancels what is no longer wanted (a visit cancelled or missed, a stopped
course's treatment questionnaires: a closed course keeps only its follow-ups). What the patient has opened,
completed or let expire is never touched. Nothing is created whose window has already closed.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from clinic.changes import Change, changed
from courses import timeline
from courses.models import OPEN_SESSION_STATUSES, CourseStatus, ProtocolTimepoint, TreatmentCourse
from outcomes import timepoints
from questionnaires.models import (
    MOVABLE_STATUSES,
    Anchor,
    Assignment,
    AssignmentStatus,
    Questionnaire,
    ScheduleRule,
)

RELATED = ["course", "questionnaire", "session", "timepoint", "outcome_score"]
# The writes the schedule follows: visits booked, moved or cancelled, treatments given, plans and status.
FOLLOWS = {Change.DIARY, Change.TREATMENT, Change.PLAN, Change.STATUS}


def _day_start(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _course_questionnaire(course, cache):
    """The active questionnaire that feeds the course's own instrument, or None."""
    if course.outcome_instrument_id is None:
        return None
    if course.outcome_instrument_id not in cache:
        cache[course.outcome_instrument_id] = (
            Questionnaire.objects.filter(instrument_id=course.outcome_instrument_id, active=True)
            .order_by("pk")
            .first()
        )
    return cache[course.outcome_instrument_id]


def _rule_questionnaires(rules, course, cache):
    """{anchor: [questionnaire, ...]} without duplicates (the course's instrument may be the NRS itself)."""
    found = {anchor: [] for anchor in Anchor.values}
    for rule in rules:
        questionnaire = rule.questionnaire if rule.questionnaire_id else _course_questionnaire(course, cache)
        if questionnaire is None or not questionnaire.active:
            continue
        if all(q.pk != questionnaire.pk for q, _rule in found[rule.anchor]):
            found[rule.anchor].append((questionnaire, rule))
    return found


def wanted(course, sessions, rules, protocol_timepoints, cache=None):
    """{(anchor, session id or None, timepoint id or None, questionnaire id): (questionnaire, opens, closes)}:
    what the course should be asked, from its visits (`sessions`) and the rules."""
    by_anchor = _rule_questionnaires(rules, course, cache if cache is not None else {})
    found = {}
    if course.is_open:
        for session in sessions:
            if session.assessment_only:
                continue
            booked = session.status in OPEN_SESSION_STATUSES
            for anchor in (Anchor.BEFORE_TREATMENT, Anchor.AFTER_TREATMENT):
                if anchor == Anchor.BEFORE_TREATMENT and not booked:
                    continue
                if anchor == Anchor.AFTER_TREATMENT and not (booked or timeline.is_treatment(session)):
                    continue
                for questionnaire, rule in by_anchor[anchor]:
                    opens = session.starts_at + datetime.timedelta(hours=rule.opens_hours)
                    closes = session.starts_at + datetime.timedelta(hours=rule.closes_hours)
                    found[(anchor, session.pk, None, questionnaire.pk)] = (questionnaire, opens, closes)
    elif course.status == CourseStatus.COMPLETED:
        # A completed course's last treatments keep their check-ins; a stopped course keeps only its
        # follow-ups.
        for session in timeline.treatments(sessions):
            for questionnaire, rule in by_anchor[Anchor.AFTER_TREATMENT]:
                opens = session.starts_at + datetime.timedelta(hours=rule.opens_hours)
                closes = session.starts_at + datetime.timedelta(hours=rule.closes_hours)
                found[(Anchor.AFTER_TREATMENT, session.pk, None, questionnaire.pk)] = (
                    questionnaire,
                    opens,
                    closes,
                )
    given = timeline.treatments(sessions)
    last_day = timeline.local_day(given[-1].starts_at) if given else None
    for timepoint in protocol_timepoints:
        window = timepoints.course_window(timepoint, course.status, last_day)
        if window is None:
            continue
        opens, closes = _day_start(window.opens_on), _day_start(window.closes_on + datetime.timedelta(days=1))
        for questionnaire, _rule in by_anchor[Anchor.FOLLOW_UP]:
            found[(Anchor.FOLLOW_UP, None, timepoint.pk, questionnaire.pk)] = (questionnaire, opens, closes)
    return found


def _key(assignment):
    return (assignment.anchor, assignment.session_id, assignment.timepoint_id, assignment.questionnaire_id)


# No savepoint: it runs inside every diary write's transaction, and any error it raises ends that write too.
@transaction.atomic(savepoint=False)
def assignments_sync(*, course, now=None, rules=None, protocol_timepoints=None):
    """Bring the course's questionnaires in line with its diary, status and the schedule rules.

    Returns (created, moved, cancelled) counts.
    """
    now = now or timezone.now()
    course = TreatmentCourse.objects.select_for_update().get(pk=getattr(course, "pk", course))
    if rules is None:
        rules = list(ScheduleRule.objects.filter(active=True).select_related("questionnaire"))
    if protocol_timepoints is None:
        protocol_timepoints = list(ProtocolTimepoint.objects.filter(active=True))
    sessions = list(course.sessions.all())
    target = wanted(course, sessions, rules, protocol_timepoints)
    created = moved = cancelled = 0
    held = {}
    for assignment in course.assignments.held().select_for_update():
        held[_key(assignment)] = assignment
    for key, assignment in held.items():
        if assignment.status not in MOVABLE_STATUSES:
            continue  # opened, completed or expired: the patient's, never moved
        if assignment.closes_at <= now:
            _expire(assignment)
            continue
        if key not in target:
            _cancel(assignment, now, "Its visit was cancelled or missed, or the course closed.")
            cancelled += 1
            continue
        _questionnaire, opens, closes = target[key]
        if closes <= now:
            _cancel(assignment, now, "Its visit moved to a time whose window has passed.")
            cancelled += 1
        elif (assignment.opens_at, assignment.closes_at) != (opens, closes):
            assignment.opens_at, assignment.closes_at = opens, closes
            assignment.full_clean(exclude=RELATED, validate_constraints=False)
            assignment.save(update_fields=["opens_at", "closes_at", "updated_at"])
            moved += 1
    for key, (questionnaire, opens, closes) in target.items():
        if key in held or closes <= now:
            continue
        anchor, session_id, timepoint_id, _questionnaire_id = key
        assignment = Assignment(
            course=course,
            questionnaire=questionnaire,
            anchor=anchor,
            session_id=session_id,
            timepoint_id=timepoint_id,
            opens_at=opens,
            closes_at=closes,
        )
        # The values are the schedule's own, its related rows in hand; the database holds the constraints
        # (one per visit or timepoint, window ordered): checking them again here would cost eight queries a
        # row on every diary write.
        assignment.full_clean(exclude=RELATED, validate_constraints=False)
        assignment.save()
        created += 1
    return created, moved, cancelled


def _expire(assignment):
    assignment.status = AssignmentStatus.EXPIRED
    assignment.save(update_fields=["status", "updated_at"])


def _cancel(assignment, now, reason):
    assignment.status = AssignmentStatus.CANCELLED
    assignment.cancelled_at = now
    assignment.cancel_reason = reason
    assignment.full_clean(exclude=RELATED, validate_constraints=False)
    assignment.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])


def follow(sender, what, course_ids, **kwargs):
    """clinic.changes receiver: sync the questionnaires of the courses whose diary, plan or status changed."""
    if not (what & FOLLOWS) or not course_ids:
        return
    rules = list(ScheduleRule.objects.filter(active=True).select_related("questionnaire"))
    protocol_timepoints = list(ProtocolTimepoint.objects.filter(active=True))
    for course_id in sorted(course_ids):
        assignments_sync(course=course_id, rules=rules, protocol_timepoints=protocol_timepoints)


def connect():
    changed.connect(follow, sender=Change, dispatch_uid="questionnaires-follow-changes")
