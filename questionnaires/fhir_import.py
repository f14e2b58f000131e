"""Import a FHIR R4 `Questionnaire` resource (JSON) as a questionnaire of the clinic, all or nothing.

How it maps (README "Questionnaires"):
- `title` (else `name`) -> name, `version`, `copyright` -> copyright note; the code is the clinic's choice
  (else made from `name` or `id`).
- each `item` (a `group`'s items are taken in order, a `display` item is left out): `linkId`, `text`,
  `required`; `type` integer -> a scale (its `minValue`/`maxValue` extensions give the range), `choice`
  (or R5's `coding`) -> one choice from `answerOption` (`valueCoding` code and display, `valueString`, or
  `valueInteger`), `boolean` -> yes/no, `string`/`text` -> free text.
- an answer's score: the `ordinalValue` extension (R4, on the option or its coding) or `itemWeight` (R5), or
  the integer itself; a choice item with no scored answer is not scored.
- refused, with the item named: `enableWhen` (conditional questions), `repeats`, `answerValueSet`, and every
  other type (decimal, date, attachment, ...).

The scoring rule, the fewest answered items and the link to a catalogue instrument are not in FHIR: the
clinic admin chooses them on the import page.
"""

import json
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from questionnaires.models import AnswerType, ItemChoice, Questionnaire, QuestionnaireItem
from questionnaires.scoring import score_range

MAX_BYTES = 1024 * 1024
MAX_ITEMS = 200
ORDINAL_URLS = (
    "http://hl7.org/fhir/StructureDefinition/ordinalValue",
    "http://hl7.org/fhir/StructureDefinition/itemWeight",
    "http://hl7.org/fhir/StructureDefinition/questionnaire-ordinalValue",
)
MIN_URL = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_URL = "http://hl7.org/fhir/StructureDefinition/maxValue"
TYPES = {
    "integer": AnswerType.INTEGER,
    "choice": AnswerType.CHOICE,
    "coding": AnswerType.CHOICE,
    "boolean": AnswerType.YES_NO,
    "string": AnswerType.TEXT,
    "text": AnswerType.TEXT,
}


def parse_json(text):
    """The resource as a dict, from the uploaded or pasted text."""
    if len(text.encode()) > MAX_BYTES:
        raise ValidationError("The file is larger than 1 MB: is it really a Questionnaire?")
    try:
        resource = json.loads(text)
    except ValueError as error:
        raise ValidationError(f"This is not valid JSON ({error}).") from None
    if not isinstance(resource, dict) or resource.get("resourceType") != "Questionnaire":
        raise ValidationError(
            'This is not a FHIR Questionnaire (its "resourceType" must be "Questionnaire").'
        )
    return resource


def _text(value, limit, what, problems):
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(f"{what} must be text.")
        return ""
    value = value.strip()
    if len(value) > limit:
        problems.append(f"{what} is longer than {limit} characters.")
    return value[:limit]


def _extension(element, urls):
    for extension in element.get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") in urls:
            for key in ("valueDecimal", "valueInteger"):
                if isinstance(extension.get(key), (int, float)) and not isinstance(extension.get(key), bool):
                    return extension[key]
    return None


def _flatten(items, problems, where="the questionnaire"):
    if not isinstance(items, list):
        problems.append(f'The "item" list of {where} is not a list.')
        return []
    found = []
    for item in items:
        if not isinstance(item, dict):
            problems.append(f"An item of {where} is not an object.")
            continue
        if item.get("type") == "group":
            found.extend(_flatten(item.get("item") or [], problems, f"group {item.get('linkId', '?')}"))
        elif item.get("type") != "display":
            found.append(item)
    return found


def _choices(item, label, problems):
    options = item.get("answerOption")
    if item.get("answerValueSet"):
        problems.append(f"{label}: answers from a value set are not supported; list them in answerOption.")
        return []
    if not isinstance(options, list) or not options:
        problems.append(f"{label}: a choice question needs its answers in answerOption.")
        return []
    choices = []
    for position, option in enumerate(options):
        if not isinstance(option, dict):
            problems.append(f"{label}: answer {position + 1} is not an object.")
            continue
        score = _extension(option, ORDINAL_URLS)
        coding = option.get("valueCoding")
        if isinstance(coding, dict):
            code = str(coding.get("code") or "").strip()
            display = str(coding.get("display") or code).strip()
            if score is None:
                score = _extension(coding, ORDINAL_URLS)
        elif isinstance(option.get("valueString"), str):
            code = display = option["valueString"].strip()
        elif isinstance(option.get("valueInteger"), int) and not isinstance(option.get("valueInteger"), bool):
            code = display = str(option["valueInteger"])
            score = option["valueInteger"] if score is None else score
        else:
            problems.append(
                f"{label}: answer {position + 1} has no valueCoding, valueString or valueInteger."
            )
            continue
        if not code:
            problems.append(f"{label}: answer {position + 1} has no code.")
            continue
        score = Decimal(str(score)) if score is not None else None
        choices.append({"code": code[:60], "label": display[:200], "score": score, "order": position})
    codes = [choice["code"] for choice in choices]
    if len(set(codes)) != len(codes):
        problems.append(f"{label}: two answers share a code.")
    return choices


def items_from_fhir(resource):
    """The items (plain dicts) of a Questionnaire resource; raises ValidationError listing every problem."""
    problems = []
    raw_items = _flatten(resource.get("item") or [], problems)
    if not raw_items and not problems:
        problems.append("The Questionnaire has no questions.")
    if len(raw_items) > MAX_ITEMS:
        problems.append(f"The Questionnaire has {len(raw_items)} questions; at most {MAX_ITEMS} are taken.")
    items, seen = [], set()
    for order, raw in enumerate(raw_items[:MAX_ITEMS]):
        link_id = _text(raw.get("linkId"), 60, f"The linkId of question {order + 1}", problems)
        label = f"Question {link_id or order + 1}"
        if not link_id:
            problems.append(f"Question {order + 1} has no linkId.")
        elif link_id in seen:
            problems.append(f"{label}: another question has the same linkId.")
        seen.add(link_id)
        kind = TYPES.get(raw.get("type"))
        if kind is None:
            problems.append(f"{label}: questions of type {raw.get('type')!r} are not supported.")
            continue
        if raw.get("enableWhen"):
            problems.append(f"{label}: conditional questions (enableWhen) are not supported.")
        if raw.get("repeats"):
            problems.append(f"{label}: repeating answers are not supported.")
        item = {
            "link_id": link_id,
            "text": _text(raw.get("text"), 500, f"{label}'s text", problems),
            "answer_type": kind,
            "required": bool(raw.get("required", False)),
            "order": order,
            "choices": [],
            "min_value": None,
            "max_value": None,
            "scored": kind != AnswerType.TEXT,
        }
        if not item["text"]:
            problems.append(f"{label} has no text.")
        if kind == AnswerType.INTEGER:
            low, high = _extension(raw, (MIN_URL,)), _extension(raw, (MAX_URL,))
            if not isinstance(low, int) or not isinstance(high, int) or high <= low:
                problems.append(
                    f"{label}: a number question needs whole-number minValue and maxValue extensions, "
                    "the maximum above the minimum."
                )
            elif abs(low) > 1000 or abs(high) > 1000:
                problems.append(f"{label}: scales run between -1000 and 1000.")
            else:
                item["min_value"], item["max_value"] = low, high
        if kind == AnswerType.CHOICE:
            item["choices"] = _choices(raw, label, problems)
            item["scored"] = any(choice["score"] is not None for choice in item["choices"])
        items.append(item)
    if problems:
        raise ValidationError(problems)
    return items


@transaction.atomic
def questionnaire_import(
    *, resource, scoring, min_answered, instrument=None, higher_is_better=False, code="", copyright_note=""
):
    """Create the questionnaire, its items and answers from `resource`; nothing is saved on any problem."""
    items = items_from_fhir(resource)
    problems = []
    name = _text(resource.get("title") or resource.get("name"), 120, "The title", problems)
    code = slugify(code or resource.get("name") or resource.get("id") or name)[:30]
    if not name:
        problems.append("The Questionnaire has neither a title nor a name.")
    if not code:
        problems.append("Give the questionnaire a code.")
    elif Questionnaire.objects.filter(code=code).exists():
        problems.append(f"A questionnaire with the code {code!r} exists already: choose another code.")
    if problems:
        raise ValidationError(problems)
    questionnaire = Questionnaire(
        code=code,
        name=name,
        version=_text(resource.get("version"), 40, "The version", problems),
        purpose=re.sub(r"\s+", " ", str(resource.get("purpose") or resource.get("description") or ""))[:300],
        scoring=scoring,
        min_answered=min_answered,
        instrument=instrument,
        higher_is_better=higher_is_better,
        origin=Questionnaire.Origin.FHIR,
        copyright_note=(copyright_note or str(resource.get("copyright") or ""))[:300],
    )
    built = []
    for fields in items:
        item = QuestionnaireItem(**{k: v for k, v in fields.items() if k != "choices"})
        item._choices_built = [ItemChoice(**choice) for choice in fields["choices"]]
        built.append(item)
    found = _range(questionnaire, built)
    if found is not None:
        questionnaire.score_min, questionnaire.score_max = found
    questionnaire.full_clean()
    questionnaire.save()
    for item in built:
        item.questionnaire = questionnaire
        item.full_clean()
        item.save()
        for choice in item._choices_built:
            choice.item = item
            choice.full_clean()
            choice.save()
    return questionnaire


class _Unsaved:
    """An item not saved yet, answering value_range() from its built choices."""

    def __init__(self, item):
        self.item = item

    def value_range(self):
        item = self.item
        if not item.scored:
            return None
        if item.answer_type == AnswerType.INTEGER:
            return Decimal(item.min_value), Decimal(item.max_value)
        if item.answer_type == AnswerType.YES_NO:
            return Decimal(0), Decimal(1)
        scores = [c.score for c in item._choices_built if c.score is not None]
        return (min(scores), max(scores)) if scores else None


def _range(questionnaire, built):
    return score_range(questionnaire, [_Unsaved(item) for item in built])
