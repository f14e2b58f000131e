"""Every shipped instrument and an entered one are scored by questionnaires.scoring, on the server."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from questionnaires.models import Questionnaire, Scoring
from questionnaires.scoring import questionnaire_score, score_range
from tests.factories import ItemChoiceFactory, QuestionnaireFactory, QuestionnaireItemFactory

pytestmark = pytest.mark.django_db


def answers(questionnaire, **values):
    """Answer-like rows from {link_id: value}: a number for scales and yes/no, a choice code, or text."""
    rows = []
    for item in questionnaire.items.all():
        key = item.link_id.replace("-", "_")
        if key not in values:
            continue
        value = values[key]
        choice = item.choices.get(code=value) if item.answer_type == "choice" else None
        rows.append(
            SimpleNamespace(
                item_id=item.pk,
                choice_id=choice.pk if choice else None,
                choice=choice,
                value_integer=value if item.answer_type in ("integer", "yes_no") else None,
                value_text=value if item.answer_type == "text" else "",
            )
        )
    return rows


def score(code_or_questionnaire, **values):
    questionnaire = (
        Questionnaire.objects.get(code=code_or_questionnaire)
        if isinstance(code_or_questionnaire, str)
        else code_or_questionnaire
    )
    items = list(questionnaire.items.prefetch_related("choices"))
    return questionnaire_score(questionnaire, items, answers(questionnaire, **values))


def test_pain_nrs_scores_the_number_chosen():
    assert score("pain-nrs", pain=7) == Decimal("7")
    assert score("pain-nrs", pain=0) == Decimal("0")


def test_pain_nrs_unanswered_has_no_score():
    assert score("pain-nrs") is None


def test_pain_nrs_feeds_the_nrs_instrument_with_its_range():
    nrs = Questionnaire.objects.get(code="pain-nrs")
    assert nrs.instrument.code == "NRS"
    assert (nrs.score_min, nrs.score_max) == (nrs.instrument.min_score, nrs.instrument.max_score)
    assert score_range(nrs, list(nrs.items.all())) == (Decimal(0), Decimal(10))


def test_pgic_scores_the_point_chosen_from_1_very_much_improved_to_7_very_much_worse():
    assert score("pgic", change="1") == Decimal("1")
    assert score("pgic", change="4") == Decimal("4")
    assert score("pgic", change="7") == Decimal("7")
    pgic = Questionnaire.objects.get(code="pgic")
    labels = [choice.label for choice in pgic.items.get().choices.all()]
    assert labels[0] == "Very much improved" and labels[-1] == "Very much worse" and len(labels) == 7


def test_psfs_is_the_mean_of_the_activities_rated_and_ignores_their_names():
    assert score("psfs", activity_1="Kneeling", activity_1_rating=2) == Decimal("2")
    assert score(
        "psfs",
        activity_1="Kneeling",
        activity_1_rating=2,
        activity_2="Stairs",
        activity_2_rating=5,
        activity_3="Running",
        activity_3_rating=6,
    ) == Decimal("4.33")


def test_psfs_rates_up_to_five_activities_higher_better():
    psfs = Questionnaire.objects.get(code="psfs")
    assert psfs.items.filter(scored=True).count() == 5
    assert psfs.higher_is_better and psfs.instrument.code == "PSFS"
    assert score("psfs", **{f"activity_{n}_rating": n * 2 for n in range(1, 6)}) == Decimal("6")


def test_the_check_in_is_not_scored_but_asks_each_reaction_with_its_severity():
    check_in = Questionnaire.objects.get(code="check-in")
    assert check_in.scoring == Scoring.NONE and check_in.instrument is None
    assert score("check-in", pain_now=5, flare="moderate", fever="none") is None
    asked = set(check_in.items.values_list("link_id", flat=True))
    assert {
        "pain-now",
        "flare",
        "swelling",
        "bruising",
        "fever",
        "numbness",
        "other",
        "other-severity",
    } <= asked
    severities = [c.code for c in check_in.items.get(link_id="fever").choices.all()]
    assert severities == ["none", "mild", "moderate", "severe"]


def test_no_licensed_instrument_text_is_shipped():
    shipped = set(Questionnaire.objects.filter(origin="shipped").values_list("code", flat=True))
    assert shipped == {"pain-nrs", "pgic", "psfs", "check-in"}


@pytest.fixture
def entered():
    """An ODI-like instrument entered by a clinic: three items 0-5, the second reversed, a choice item."""
    questionnaire = QuestionnaireFactory(code="entered", scoring=Scoring.PERCENT_OF_MAX, min_answered=2)
    QuestionnaireItemFactory(questionnaire=questionnaire, link_id="a", min_value=0, max_value=5, order=1)
    QuestionnaireItemFactory(
        questionnaire=questionnaire, link_id="b", min_value=0, max_value=5, reversed=True, order=2
    )
    item = QuestionnaireItemFactory(
        questionnaire=questionnaire,
        link_id="c",
        answer_type="choice",
        min_value=None,
        max_value=None,
        order=3,
    )
    for number in range(6):
        ItemChoiceFactory(item=item, code=f"c{number}", label=f"Level {number}", score=Decimal(number))
    return questionnaire


def test_percentage_of_the_maximum_counts_only_the_items_answered(entered):
    # a=5, b=5 reversed -> 0: 5 of 10 = 50 %.
    assert score(entered, a=5, b=5) == Decimal("50.00")
    # a=5, b=1 reversed -> 4, c=3: 12 of 15 = 80 %.
    assert score(entered, a=5, b=1, c="c3") == Decimal("80.00")


def test_below_the_fewest_answered_there_is_no_score(entered):
    assert score(entered, a=5) is None


def test_sum_and_mean_apply_reversed_items(entered):
    entered.scoring = Scoring.SUM
    assert score(entered, a=2, b=4, c="c5") == Decimal("8")
    entered.scoring = Scoring.MEAN
    assert score(entered, a=2, b=4, c="c5") == Decimal("2.67")


def test_yes_no_items_score_one_for_yes():
    questionnaire = QuestionnaireFactory(code="yes-no", scoring=Scoring.SUM)
    for link_id in ("x", "y", "z"):
        QuestionnaireItemFactory(
            questionnaire=questionnaire, link_id=link_id, answer_type="yes_no", min_value=None, max_value=None
        )
    assert score(questionnaire, x=1, y=0, z=1) == Decimal("2")
