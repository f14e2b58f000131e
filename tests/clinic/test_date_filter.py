import datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone


def render(value, filter_expression):
    return Template("{% load dates %}{{ value|" + filter_expression + " }}").render(Context({"value": value}))


@pytest.mark.parametrize(
    "value",
    [
        datetime.date(2026, 3, 3),
        datetime.date(1999, 12, 31),
        datetime.date(2026, 9, 1),
        # 23:30 UTC on 31 May is 1 June in London: the clinic's day, as |date gives it.
        datetime.datetime(2026, 5, 31, 23, 30, tzinfo=ZoneInfo("UTC")),
        timezone.now(),
    ],
)
def test_day_is_the_text_of_the_date_filter(value):
    assert render(value, "day") == render(value, 'date:"j M Y"')


@pytest.mark.parametrize("value", [None, "", "not a date"])
def test_day_of_nothing_is_empty(value):
    assert render(value, "day") == ""
