"""The one scoring rule of every questionnaire, computed on the server (never in the patient's browser).

- Each scored item gives a number: the value of a scale, the score of the chosen answer, 1 for yes and 0
  for no. A reversed item counts from the other end (its lowest + highest - the value).
- Only answered scored items count. With fewer than the questionnaire's `min_answered`, there is no score.
- sum: the item scores added; mean: their average; percent: the sum as a percentage of the most the items
  answered could give, from their lowest (ODI-style "percentage of the maximum for the items answered").
"""

from decimal import ROUND_HALF_UP, Decimal

from questionnaires.models import AnswerType, Scoring

PLACES = Decimal("0.01")


def item_score(item, answer):
    """The number an answered scored item contributes, or None (not scored, unanswered, no score)."""
    if answer is None or not item.scored:
        return None
    if item.answer_type == AnswerType.CHOICE:
        value = answer.choice.score if answer.choice_id else None
    elif item.answer_type in (AnswerType.INTEGER, AnswerType.YES_NO):
        value = Decimal(answer.value_integer) if answer.value_integer is not None else None
    else:
        value = None
    if value is None:
        return None
    if item.reversed:
        low, high = item.value_range()
        value = low + high - value
    return Decimal(value)


def questionnaire_score(questionnaire, items, answers):
    """The questionnaire's score from `answers` (Answer rows or alike, with `item_id`), or None.

    `items` are the questionnaire's items with their choices loaded.
    """
    if questionnaire.scoring == Scoring.NONE:
        return None
    by_item = {answer.item_id: answer for answer in answers}
    values, lows, highs = [], [], []
    for item in items:
        value = item_score(item, by_item.get(item.pk))
        if value is None:
            continue
        low, high = item.value_range()
        values.append(value)
        lows.append(low)
        highs.append(high)
    if not values or len(values) < questionnaire.min_answered:
        return None
    total = sum(values)
    if questionnaire.scoring == Scoring.SUM:
        result = total
    elif questionnaire.scoring == Scoring.MEAN:
        result = total / len(values)
    else:
        room = sum(highs) - sum(lows)
        result = (total - sum(lows)) * 100 / room if room else Decimal(0)
    return Decimal(result).quantize(PLACES, rounding=ROUND_HALF_UP)


def score_range(questionnaire, items):
    """(lowest, highest) score the questionnaire can give with every scored item answered, or None."""
    ranges = [item.value_range() for item in items]
    ranges = [found for found in ranges if found is not None]
    if questionnaire.scoring == Scoring.NONE or not ranges:
        return None
    if questionnaire.scoring == Scoring.PERCENT_OF_MAX:
        return Decimal(0), Decimal(100)
    lows, highs = [low for low, _ in ranges], [high for _, high in ranges]
    if questionnaire.scoring == Scoring.MEAN:
        return min(lows), max(highs)
    return sum(lows), sum(highs)
