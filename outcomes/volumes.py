"""The total volume injected over a course, in bands (the dose tables and their drill-down filter)."""

from django.db.models import Case, CharField, Value, When

# Total volume injected over a course, in bands (mL).
VOLUME_BANDS = [
    ("none", "No volume recorded"),
    ("lt10", "< 10 mL"),
    ("10_20", "10 – < 20 mL"),
    ("20_40", "20 – < 40 mL"),
    ("ge40", "≥ 40 mL"),
]
VOLUME_LABELS = dict(VOLUME_BANDS)


def volume_code(volume):
    """The band of one course's total volume, in Python (the same thresholds as `volume_band`)."""
    if volume is None:
        return "none"
    if volume < 10:
        return "lt10"
    if volume < 20:
        return "10_20"
    if volume < 40:
        return "20_40"
    return "ge40"


def volume_band(field_name):
    """SQL CASE giving the band of a course's total volume."""
    return Case(
        When(**{f"{field_name}__isnull": True}, then=Value("none")),
        When(**{f"{field_name}__lt": 10}, then=Value("lt10")),
        When(**{f"{field_name}__lt": 20}, then=Value("10_20")),
        When(**{f"{field_name}__lt": 40}, then=Value("20_40")),
        default=Value("ge40"),
        output_field=CharField(),
    )
