"""Importing a FHIR R4 Questionnaire: items, answers and scores mapped, each problem named, all or nothing."""

import copy
import json
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from courses.models import OutcomeInstrument
from questionnaires.fhir_import import questionnaire_import
from questionnaires.models import ItemChoice, Questionnaire, QuestionnaireItem, Scoring
from questionnaires.scoring import questionnaire_score
from tests.api.fhir_kit import validated

pytestmark = pytest.mark.django_db

ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"


def option(code, display, score):
    return {
        "valueCoding": {"code": code, "display": display},
        "extension": [{"url": ORDINAL, "valueDecimal": score}],
    }


# A made-up back questionnaire in the shape of a licensed one (no licensed text): a group of three
# choice questions scored 0-5, a display note, and a free-text comment.
RESOURCE = {
    "resourceType": "Questionnaire",
    "id": "back-demo",
    "name": "BackDemo",
    "title": "Back function (demo)",
    "version": "2.1",
    "status": "active",
    "copyright": "Demo items written for the tests.",
    "item": [
        {"linkId": "intro", "type": "display", "text": "Choose one answer in each section."},
        {
            "linkId": "sections",
            "type": "group",
            "item": [
                {
                    "linkId": f"s{n}",
                    "type": "choice",
                    "required": True,
                    "text": f"Section {n}: how much does your back limit you?",
                    "answerOption": [option(f"a{score}", f"Level {score}", score) for score in range(6)],
                }
                for n in (1, 2, 3)
            ],
        },
        {"linkId": "comment", "type": "string", "text": "Anything else?"},
    ],
}


def test_the_test_resource_is_a_valid_fhir_questionnaire():
    validated(RESOURCE)


def import_it(resource=RESOURCE, **options):
    options = {"scoring": Scoring.PERCENT_OF_MAX, "min_answered": 2, **options}
    return questionnaire_import(resource=copy.deepcopy(resource), **options)


def test_it_maps_items_answers_and_scores():
    questionnaire = import_it()
    assert (questionnaire.code, questionnaire.name, questionnaire.version) == (
        "backdemo",
        "Back function (demo)",
        "2.1",
    )
    assert questionnaire.origin == "fhir"
    assert (questionnaire.score_min, questionnaire.score_max) == (0, 100)
    items = list(questionnaire.items.all())
    assert [item.link_id for item in items] == ["s1", "s2", "s3", "comment"]
    assert [item.answer_type for item in items] == ["choice", "choice", "choice", "text"]
    assert items[0].required and not items[3].required
    assert [(c.code, c.label, c.score) for c in items[0].choices.all()][:2] == [
        ("a0", "Level 0", 0),
        ("a1", "Level 1", 1),
    ]
    assert items[0].scored and not items[3].scored


def answers_for(questionnaire, **codes):
    rows = []
    for item in questionnaire.items.all():
        if item.link_id in codes:
            choice = item.choices.get(code=codes[item.link_id])
            rows.append(
                SimpleNamespace(item_id=item.pk, choice_id=choice.pk, choice=choice, value_integer=None)
            )
    return rows


def test_an_imported_questionnaire_is_scored_by_the_same_rule_with_reversed_items_and_the_fewest_answered():
    questionnaire = import_it()
    items = lambda: list(questionnaire.items.prefetch_related("choices"))  # noqa: E731
    # 4 + 2 of the 10 the two answered items could give: 60 %.
    assert questionnaire_score(
        questionnaire, items(), answers_for(questionnaire, s1="a4", s2="a2")
    ) == Decimal("60.00")
    assert questionnaire_score(questionnaire, items(), answers_for(questionnaire, s1="a4")) is None
    QuestionnaireItem.objects.filter(questionnaire=questionnaire, link_id="s2").update(reversed=True)
    # s2 reversed: 2 -> 3; (4 + 3 + 5) of 15 = 80 %.
    answers = answers_for(questionnaire, s1="a4", s2="a2", s3="a5")
    assert questionnaire_score(questionnaire, items(), answers) == Decimal("80.00")


def test_it_feeds_a_catalogue_instrument_with_the_same_range():
    odi = OutcomeInstrument.objects.get(code="ODI")
    assert import_it(instrument=odi).instrument == odi


def test_a_range_that_does_not_match_the_instrument_is_refused():
    with pytest.raises(ValidationError, match="ODI scores run from"):
        import_it(scoring=Scoring.SUM, instrument=OutcomeInstrument.objects.get(code="ODI"))
    assert not Questionnaire.objects.filter(origin="fhir").exists()


def with_item(**changes):
    resource = copy.deepcopy(RESOURCE)
    resource["item"][1]["item"][1].update(changes)
    return resource


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"enableWhen": [{"question": "s1", "operator": "=", "answerBoolean": True}]}, "enableWhen"),
        ({"type": "decimal"}, "type 'decimal' are not supported"),
        ({"repeats": True}, "repeating"),
        ({"linkId": "s1"}, "same linkId"),
        ({"answerOption": []}, "needs its answers in answerOption"),
        ({"type": "integer"}, "minValue and maxValue"),
    ],
)
def test_what_cannot_be_imported_is_named_and_nothing_is_saved(changes, message):
    before = (Questionnaire.objects.count(), QuestionnaireItem.objects.count(), ItemChoice.objects.count())
    with pytest.raises(ValidationError) as caught:
        import_it(with_item(**changes))
    assert any(message in text for text in caught.value.messages)
    assert (
        Questionnaire.objects.count(),
        QuestionnaireItem.objects.count(),
        ItemChoice.objects.count(),
    ) == before


def test_a_second_import_with_the_same_code_is_refused():
    import_it()
    with pytest.raises(ValidationError, match="exists already"):
        import_it()


def test_the_clinic_admin_imports_by_uploading_a_file(client_for, clinic_admin):
    upload = SimpleUploadedFile("back.json", json.dumps(RESOURCE).encode(), content_type="application/json")
    response = client_for(clinic_admin).post(
        reverse("questionnaires:import"), {"file": upload, "scoring": "percent", "min_answered": 2}
    )
    assert response.status_code == 302
    assert Questionnaire.objects.get(code="backdemo").items.count() == 4


def test_pasted_junk_is_refused_with_the_reason_and_the_text_kept(client_for, clinic_admin):
    response = client_for(clinic_admin).post(
        reverse("questionnaires:import"),
        {"pasted": '{"resourceType": "Patient"}', "scoring": "sum", "min_answered": 1},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "This is not a FHIR Questionnaire" in html
    assert "resourceType" in html  # what was pasted is still in the box
    response = client_for(clinic_admin).post(
        reverse("questionnaires:import"), {"pasted": "{not json", "scoring": "sum", "min_answered": 1}
    )
    assert response.status_code == 400 and "not valid JSON" in response.content.decode()


def test_practitioners_cannot_import(client_for, practitioner):
    assert client_for(practitioner).get(reverse("questionnaires:import")).status_code == 403
