"""`day`: a date as "3 Mar 2026", for long lists.

The same text as Django's `|date:"j M Y"` (the clinic's date style, English month abbreviations), without
building a general DateFormat for every cell: on a page of 25 search results the two date columns were a
quarter of the rows' rendering time.
"""

from django import template

register = template.Library()

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@register.filter(expects_localtime=True)
def day(value):
    """A date or datetime (in the clinic's time zone, like `|date`) as "j M Y"; empty for no value."""
    if not value:
        return ""
    try:
        return f"{value.day} {MONTHS[value.month - 1]} {value.year}"
    except AttributeError:
        return ""
