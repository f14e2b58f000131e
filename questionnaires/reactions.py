"""What a check-in tells the practitioner about side effects: the one rule that reads reactions out of the
answers. `reactions_reported` is called by `services.response_submit` in the submission's transaction; each
reaction becomes a PatientSideEffectReport that waits on the next session page until the practitioner
confirms it into the side-effect record (checked, graded, attributed) or dismisses it with a reason.

The patient's severity suggests a grade (mild 1, moderate 2, severe 3) and the question suggests a catalogue
term; the practitioner decides both. A fever or a hot, swollen joint suggests no term: only an examination
tells an infection from a flare (it also raises the urgent alert, questionnaires.alerts).
"""

from courses.models import SideEffectTerm
from questionnaires.alerts import NOT_REPORTED, URGENT_ITEMS

# Check-in question → the catalogue term it suggests (None: the practitioner chooses).
REACTION_ITEMS = {
    "flare": "Post-injection pain / flare",
    "swelling": "Swelling",
    "bruising": "Bruising",
    "fever": None,
    "numbness": "Numbness",
    "other": "Other",
}
# The free-text "other" reaction takes its severity from this question.
OTHER_SEVERITY_ITEM = "other-severity"
GRADE_BY_SEVERITY = {"mild": 1, "moderate": 2, "severe": 3}
SHORT_TITLES = {
    "flare": "Pain flare where injected",
    "swelling": "Swelling where injected",
    "bruising": "Bruising where injected",
    **URGENT_ITEMS,
    "numbness": "Numbness or tingling near the injection",
}


def _severity(answer):
    return answer.choice.code if answer is not None and answer.choice_id else None


def reactions_reported(answers):
    """The reactions these answers report: [{"item_code", "description", "term", "grade"}], in item order.
    A severity of "no" (or no answer) reports nothing; "other" reports its text with its own severity."""
    by_code = {answer.item.link_id: answer for answer in answers}
    wanted = {name for name in REACTION_ITEMS.values() if name}
    terms = {term.name: term for term in SideEffectTerm.objects.filter(name__in=wanted, active=True)}
    reactions = []
    for answer in sorted(answers, key=lambda a: (a.item.order, a.item_id)):
        code = answer.item.link_id
        if code not in REACTION_ITEMS or answer.is_blank:
            continue
        if code == "other":
            text = answer.value_text.strip()
            rated = by_code.get(OTHER_SEVERITY_ITEM)
            severity = _severity(rated)
            if not text or severity == NOT_REPORTED:
                continue
            description = f"Other: {text}" + (f" ({rated.choice.label})" if severity else "")
        else:
            severity = _severity(answer)
            if severity is None or severity == NOT_REPORTED:
                continue
            description = f"{SHORT_TITLES.get(code, answer.item.text)}: {answer.choice.label}"
        reactions.append(
            {
                "item_code": code,
                "description": description,
                "term": terms.get(REACTION_ITEMS[code]),
                "grade": GRADE_BY_SEVERITY.get(severity),
            }
        )
    return reactions
