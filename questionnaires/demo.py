"""Demo answers for `seed_demo`: patients answer the check-in after their latest treatment.

Every answer goes through the services the patient's phone pages use (a new link, the date of birth, the
answers one by one, the submission), so the demo's check-ins are scored, land in the score history and
report their reactions to the next session page exactly as a patient's would. Every check-in open now is
answered. The first reports a moderate flare and mild swelling, so the demo always has reactions waiting on
a session page; the others report reactions at roughly the rates of the domain notes (flare most often). No
demo patient reports a fever or a hot joint: that raises an urgent alert and an e-mail to a practitioner.
"""

from django.utils import timezone

from questionnaires.alerts import NOT_REPORTED
from questionnaires.models import Anchor, Assignment, AssignmentStatus
from questionnaires.services import answer_save, assignment_invite, identity_confirm, response_submit

SHOWN_REACTIONS = {"flare": "moderate", "swelling": "mild"}
# Reaction → chance it is reported at all, and the severities it comes with.
REACTIONS = {
    "flare": (0.35, ["mild", "mild", "moderate"]),
    "swelling": (0.15, ["mild", "moderate"]),
    "bruising": (0.08, ["mild"]),
    "numbness": (0.04, ["mild"]),
}


def _raw_answer(item, choices, rng, shown):
    """What a demo patient answers to one check-in item, as the phone page would post it."""
    if item.link_id == "pain-now":
        return str(rng.randint(1, 6))
    if shown and item.link_id in SHOWN_REACTIONS:
        return str(choices[SHOWN_REACTIONS[item.link_id]])
    if item.link_id in REACTIONS:
        chance, severities = REACTIONS[item.link_id]
        code = rng.choice(severities) if rng.random() < chance else NOT_REPORTED
        return str(choices[code])
    if item.answer_type == "choice" and item.required:
        return str(choices[NOT_REPORTED])  # the fever item, and any other required reaction: "no"
    return ""


def seed(*, users, rng, patients=None, stdout=None):
    now = timezone.now()
    open_check_ins = (
        Assignment.objects.filter(
            anchor=Anchor.AFTER_TREATMENT,
            status__in=(AssignmentStatus.SCHEDULED, AssignmentStatus.SENT, AssignmentStatus.OPENED),
            opens_at__lte=now,
            closes_at__gt=now,
            course__patient__archived=False,
        )
        .select_related("questionnaire", "course__patient")
        .order_by("pk")
    )
    answered = 0
    for assignment in open_check_ins:
        items = list(assignment.questionnaire.items.prefetch_related("choices"))
        assignment_invite(assignment=assignment, now=now)
        identity_confirm(
            assignment=assignment, date_of_birth=assignment.course.patient.date_of_birth, now=now
        )
        for item in items:
            choices = {choice.code: choice.pk for choice in item.choices.all()}
            raw = _raw_answer(item, choices, rng, shown=answered == 0)
            if raw:
                answer_save(assignment=assignment, item=item, raw=raw, now=now)
        response_submit(assignment=assignment, now=now)
        answered += 1
    if stdout:
        stdout.write(f"Demo check-ins answered by patients: {answered}")
