"""Writes of the patient's side: the secure link, the date-of-birth check, answers and submission.

The link's secret is random (secrets.token_urlsafe, 256 bits) and only its SHA-256 digest is stored, so a
copy of the database opens nothing. It carries no health data, expires with the questionnaire's window,
and opening it changes nothing (e-mail scanners open links before patients do): the patient confirms their
date of birth first, and only submitting uses the link up. Five wrong dates of birth in a row lock the
link for an hour and tell the clinic (a LinkLock row, shown on the course page, and an e-mail).
"""

import datetime
import hashlib
import re
import secrets
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from clinic.outbox import message_send_once
from courses.models import SessionStatus, Timepoint
from courses.services import outcome_score_record, patient_side_effects_report
from courses.timeline import first_treatment
from outcomes.versions import report_data_changed
from questionnaires.alerts import alert_raise_if_urgent
from questionnaires.models import (
    Anchor,
    Answer,
    AnswerType,
    Assignment,
    AssignmentStatus,
    LinkLock,
    Scoring,
    StaffAction,
)
from questionnaires.reactions import reactions_reported
from questionnaires.scoring import questionnaire_score

WRONG_BIRTH_DATES_ALLOWED = 5
LOCK_FOR = datetime.timedelta(hours=1)
TEXT_ANSWER_MAX = 2000
# token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")

# What a link shows instead of the questions. Unknown and used links share one page (and one status):
# telling them apart would tell a stranger that a link existed.
USABLE = "usable"
UNKNOWN = "unknown"
EXPIRED = "expired"
LOCKED = "locked"
NOT_YET = "not_yet"


def token_digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def assignment_for_token(token):
    """The assignment a link's secret opens, or None (a malformed secret never reaches the database)."""
    if not isinstance(token, str) or not TOKEN_SHAPE.match(token):
        return None
    return (
        Assignment.objects.select_related("course__patient", "questionnaire", "session", "timepoint")
        .filter(token_hash=token_digest(token))
        .first()
    )


def link_state(assignment, now):
    if assignment is None or assignment.status in (AssignmentStatus.COMPLETED, AssignmentStatus.CANCELLED):
        return UNKNOWN
    if assignment.status == AssignmentStatus.EXPIRED or assignment.closes_at <= now:
        return EXPIRED
    if assignment.is_locked_at(now):
        return LOCKED
    if assignment.opens_at > now:
        return NOT_YET
    return USABLE


def _usable(assignment, now):
    state = link_state(assignment, now)
    if state != USABLE:
        raise ValidationError("This questionnaire can no longer be answered.", code=state)


def _locked_row(assignment):
    return (
        Assignment.objects.select_for_update()
        .select_related("course__patient", "questionnaire")
        .get(pk=assignment.pk)
    )


@transaction.atomic
def assignment_invite(*, assignment, now=None):
    """Give the assignment a new link; returns its secret (the only time it exists outside the message).

    A new link replaces any earlier one, which stops working at once.
    """
    now = now or timezone.now()
    assignment = _locked_row(assignment)
    if assignment.status not in (AssignmentStatus.SCHEDULED, AssignmentStatus.SENT, AssignmentStatus.OPENED):
        raise ValidationError(f"This questionnaire is {assignment.get_status_display().lower()}.")
    if assignment.closes_at <= now:
        raise ValidationError("This questionnaire's window has closed.")
    token = secrets.token_urlsafe(32)
    assignment.token_hash = token_digest(token)
    assignment.invited_at = now
    if assignment.status == AssignmentStatus.SCHEDULED:
        assignment.status = AssignmentStatus.SENT
    assignment.full_clean()
    assignment.save(update_fields=["token_hash", "invited_at", "status", "updated_at"])
    report_data_changed()  # the dashboard's response rates count what was sent
    return token


@transaction.atomic
def identity_confirm(*, assignment, date_of_birth, now=None):
    """True when `date_of_birth` is the patient's. A wrong one counts; the fifth in a row locks the link for
    an hour, records the lock and tells the clinic. Raises ValidationError when the link cannot be used."""
    now = now or timezone.now()
    assignment = _locked_row(assignment)
    _usable(assignment, now)
    if date_of_birth == assignment.course.patient.date_of_birth:
        assignment.failed_checks = 0
        if assignment.status in (AssignmentStatus.SCHEDULED, AssignmentStatus.SENT):
            assignment.status = AssignmentStatus.OPENED
            assignment.opened_at = now
        assignment.save(update_fields=["failed_checks", "status", "opened_at", "updated_at"])
        return True
    assignment.failed_checks += 1
    if assignment.failed_checks >= WRONG_BIRTH_DATES_ALLOWED:
        assignment.failed_checks = 0
        assignment.locked_until = now + LOCK_FOR
        lock = LinkLock.objects.create(
            assignment=assignment, locked_at=now, locked_until=assignment.locked_until
        )
        _tell_the_clinic(lock)
    assignment.save(update_fields=["failed_checks", "locked_until", "updated_at"])
    return False


def _tell_the_clinic(lock):
    """E-mail the clinic about a locked link (through the outbox): which course to look at, nothing about
    the patient."""
    if not settings.CLINIC_EMAIL:
        return
    context = {"lock": lock, "course_id": lock.assignment.course_id, "clinic_name": settings.CLINIC_NAME}
    message_send_once(
        kind="questionnaire_link_locked",
        key=f"lock:{lock.pk}",
        to=settings.CLINIC_EMAIL,
        subject="A questionnaire link was locked",
        body=render_to_string("questionnaires/link_locked_email.txt", context),
    )


def answer_value(item, raw):
    """The answer the patient gave to `item` from the form's cleaned value: (integer, choice, text).
    Raises ValidationError for a value the item does not offer."""
    raw = "" if raw is None else str(raw).strip()
    if raw == "":
        if item.required:
            raise ValidationError("Please answer this question to go on.")
        return None, None, ""
    if item.answer_type == AnswerType.TEXT:
        return None, None, raw[:TEXT_ANSWER_MAX]
    if item.answer_type == AnswerType.CHOICE:
        choice = next((c for c in item.choices.all() if str(c.pk) == raw), None)
        if choice is None:
            raise ValidationError("Please choose one of the answers offered.")
        return None, choice, ""
    if not re.fullmatch(r"-?\d{1,4}", raw):
        raise ValidationError("Please choose one of the answers offered.")
    value = int(raw)
    low, high = (0, 1) if item.answer_type == AnswerType.YES_NO else (item.min_value, item.max_value)
    if not low <= value <= high:
        raise ValidationError(f"Please choose a number from {low} to {high}.")
    return value, None, ""


@transaction.atomic
def answer_save(*, assignment, item, raw, now=None):
    """Save (or change) the patient's answer to one item, so they can leave and come back."""
    now = now or timezone.now()
    assignment = _locked_row(assignment)
    _usable(assignment, now)
    if assignment.status != AssignmentStatus.OPENED:
        raise ValidationError("Please confirm your date of birth first.")
    if item.questionnaire_id != assignment.questionnaire_id:
        raise ValidationError("This question is not part of this questionnaire.")
    integer, choice, text = answer_value(item, raw)
    answer = Answer.objects.filter(assignment=assignment, item=item).first() or Answer(
        assignment=assignment, item=item
    )
    answer.value_integer, answer.choice, answer.value_text, answer.answered_at = integer, choice, text, now
    answer.full_clean(validate_constraints=False)
    answer.save()
    return answer


def _score_timepoint(assignment):
    """Where a patient's score sits in the course's score history."""
    if assignment.anchor == Anchor.FOLLOW_UP:
        code = assignment.timepoint.code
        return code if code in Timepoint.values else Timepoint.BETWEEN
    if assignment.anchor == Anchor.BEFORE_TREATMENT:
        given = first_treatment(assignment.course.sessions.filter(status=SessionStatus.COMPLETED))
        return Timepoint.SESSION if given else Timepoint.BASELINE
    return Timepoint.BETWEEN


def missing_answers(assignment, items, answers):
    """The required items without an answer, in order."""
    answered = {answer.item_id for answer in answers if not answer.is_blank}
    return [item for item in items if item.required and item.pk not in answered]


@transaction.atomic
def response_submit(*, assignment, now=None):
    """Submit the answers: the score is computed here, stored with the assignment and, for an instrument of
    the catalogue, recorded in the course's score history (source: patient). The link is used up."""
    now = now or timezone.now()
    assignment = _locked_row(assignment)
    _usable(assignment, now)
    if assignment.status != AssignmentStatus.OPENED:
        raise ValidationError("Please confirm your date of birth first.")
    questionnaire = assignment.questionnaire
    items = list(questionnaire.items.prefetch_related("choices"))
    answers = list(assignment.answers.select_related("choice", "item"))
    missing = missing_answers(assignment, items, answers)
    if missing:
        raise ValidationError(
            f"Please answer question {items.index(missing[0]) + 1} before sending.", code="missing"
        )
    score = questionnaire_score(questionnaire, items, answers)
    if questionnaire.scoring != Scoring.NONE and score is None:
        raise ValidationError(
            f"Please answer at least {questionnaire.min_answered} of the questions with a number.",
            code="missing",
        )
    assignment.status = AssignmentStatus.COMPLETED
    assignment.completed_at = now
    assignment.score = score
    if questionnaire.instrument_id and score is not None:
        assignment.outcome_score = outcome_score_record(
            course=assignment.course,
            instrument=questionnaire.instrument,
            score=score.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
            timepoint=_score_timepoint(assignment),
            recorded_by=None,
            recorded_on=timezone.localdate(now),
            source="patient",
            session=assignment.session if assignment.anchor != Anchor.FOLLOW_UP else None,
        )
    assignment.full_clean(validate_constraints=False)
    assignment.save()
    alert_raise_if_urgent(assignment=assignment, answers=answers, now=now)
    if assignment.anchor == Anchor.AFTER_TREATMENT and assignment.session_id:
        patient_side_effects_report(
            assignment=assignment, reports=reactions_reported(answers), reported_on=timezone.localdate(now)
        )
    return assignment


def assignments_expire(*, now=None):
    """Mark every questionnaire whose window has closed unanswered as expired; returns how many."""
    now = now or timezone.now()
    expired = 0
    for pk in Assignment.objects.filter(
        status__in=(AssignmentStatus.SCHEDULED, AssignmentStatus.SENT, AssignmentStatus.OPENED),
        closes_at__lte=now,
    ).values_list("pk", flat=True):
        with transaction.atomic():
            assignment = Assignment.objects.select_for_update().get(pk=pk)
            if assignment.status in (AssignmentStatus.COMPLETED, AssignmentStatus.CANCELLED):
                continue
            assignment.status = AssignmentStatus.EXPIRED
            assignment.save(update_fields=["status", "updated_at"])
            expired += 1
    return expired


# --- The staff side: sending again, and the clinic tablet ------------------------------------------

RESENDS_ALLOWED = 3
RESEND_GAP = datetime.timedelta(minutes=15)


def _answerable_by_staff(assignment, now):
    """Raises ValidationError, in words the front desk can act on, when the patient cannot answer now."""
    if assignment.status not in (AssignmentStatus.SCHEDULED, AssignmentStatus.SENT, AssignmentStatus.OPENED):
        raise ValidationError(f"This questionnaire is {assignment.get_status_display().lower()}.")
    if assignment.closes_at <= now:
        raise ValidationError("This questionnaire's window has closed.")
    if assignment.opens_at > now:
        opens = timezone.localtime(assignment.opens_at)
        raise ValidationError(f"This questionnaire opens on {opens:%d %b %Y at %H:%M}.")
    if assignment.is_locked_at(now):
        until = timezone.localtime(assignment.locked_until)
        raise ValidationError(f"The link is locked until {until:%H:%M} after five wrong dates of birth.")
    if assignment.course.patient.archived:
        raise ValidationError("The patient is archived.")


@transaction.atomic
def assignment_resend(*, assignment, by, now=None):
    """Send the invitation again through the outbox (a new message key each time; the worker gives it a new
    link as it sends, which replaces the earlier one). At most RESENDS_ALLOWED times, RESEND_GAP apart."""
    from questionnaires.messages import INVITATION, LINK_PLACEHOLDER, invitation_key, invitation_message

    now = now or timezone.now()
    assignment = _locked_row(assignment)
    _answerable_by_staff(assignment, now)
    patient = assignment.course.patient
    if not patient.email:
        raise ValidationError(
            "The patient has no e-mail address: add one on the patient's page, or let them fill it in here."
        )
    resends = assignment.staff_actions.filter(kind=StaffAction.Kind.RESEND)
    count = resends.count()
    if count >= RESENDS_ALLOWED:
        raise ValidationError(f"It has already been sent again {count} times: consider calling the patient.")
    last = resends.order_by("-at").first()
    if last is not None and now - last.at < RESEND_GAP:
        minutes = int(RESEND_GAP.total_seconds() // 60)
        raise ValidationError(f"It was sent again less than {minutes} minutes ago.")
    subject, body = invitation_message(assignment, LINK_PLACEHOLDER)
    message_send_once(
        kind=INVITATION,
        key=f"{invitation_key(assignment)}:resend:{count + 1}",
        to=patient.email,
        subject=subject,
        body=body,
        now=now,
    )
    action = StaffAction(assignment=assignment, kind=StaffAction.Kind.RESEND, by=by, at=now)
    action.full_clean()
    action.save()
    if assignment.status == AssignmentStatus.SCHEDULED:
        assignment.status = AssignmentStatus.SENT
        assignment.invited_at = now
        assignment.save(update_fields=["status", "invited_at", "updated_at"])
        report_data_changed()
    return action


@transaction.atomic
def assignment_hand_over(*, assignment, by, now=None):
    """Give the questionnaire a new link for the patient to fill in on a clinic tablet now; returns its
    secret. The earlier link stops working; the patient still confirms their date of birth."""
    now = now or timezone.now()
    assignment = _locked_row(assignment)
    _answerable_by_staff(assignment, now)
    token = assignment_invite(assignment=assignment, now=now)
    action = StaffAction(assignment=assignment, kind=StaffAction.Kind.TABLET, by=by, at=now)
    action.full_clean()
    action.save()
    return token
