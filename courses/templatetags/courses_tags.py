from django import template

from clinic.choices import Laterality
from courses.models import TreatmentCourse

register = template.Library()

HOME_CARD_LIMIT = 6


@register.inclusion_tag("courses/_my_courses_card.html", takes_context=True)
def my_courses_card(context):
    """The home page's list of the signed-in practitioner's open courses (one query)."""
    user = context["user"]
    courses = (
        TreatmentCourse.objects.open()
        .filter(practitioner=user)
        .for_list()
        .order_by("status", "-start_date", "-id")
    )
    shown = list(courses[: HOME_CARD_LIMIT + 1])
    return {
        "courses": shown[:HOME_CARD_LIMIT],
        "more": len(shown) > HOME_CARD_LIMIT,
        "perms": context.get("perms"),
    }


_LATERALITY_LABELS = dict(Laterality.choices)


@register.filter
def side_label(side):
    """An injection's side in words, for the middle of a sentence: "right", "bilateral"."""
    return _LATERALITY_LABELS.get(side, side).lower()
