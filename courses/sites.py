"""Coded, placed injection sites: the SNOMED CT code check, the laterality rule and the body chart.

The chart's figures are drawn on the project's own coordinate system (templates/courses/_body_chart.html):
each view (front, back) is CHART_WIDTH × CHART_HEIGHT units with the body's midline at x = MIDLINE. A site
is stored once, where an admin placed it; a paired site is mirrored onto the other side of the body.
"""

from django.core.exceptions import ValidationError

from clinic.choices import BodyRegion, Laterality

CHART_WIDTH, CHART_HEIGHT = 200, 500
MIDLINE = CHART_WIDTH // 2
# Around a region's sites when the chart zooms to it, and the least it shows (chart units).
ZOOM_MARGIN, ZOOM_MIN_WIDTH, ZOOM_MIN_HEIGHT = 14, 72, 60

FRONT, BACK = "front", "back"
VIEWS = ((FRONT, "Front"), (BACK, "Back"))


class LateralityRule:
    """What side an injection at a site may record (InjectionSite.laterality_rule)."""

    PAIRED = "paired"
    MIDLINE = "midline"
    ANY = "any"
    CHOICES = (
        (PAIRED, "Paired: left, right or bilateral"),
        (MIDLINE, "Midline only"),
        (ANY, "Any side (no rule)"),
    )
    ALLOWED = {
        PAIRED: (Laterality.LEFT, Laterality.RIGHT, Laterality.BILATERAL),
        MIDLINE: (Laterality.MIDLINE,),
    }


def laterality_problem(site, laterality):
    """Why `laterality` cannot be recorded for an injection at `site`, or None: the one laterality rule."""
    allowed = LateralityRule.ALLOWED.get(site.laterality_rule)
    if allowed is None or laterality in allowed:
        return None
    if site.laterality_rule == LateralityRule.MIDLINE:
        return f"{site.name} is a midline structure: record the side as midline."
    return f"{site.name} is on one side of the body: record left, right or bilateral."


# Verhoeff's dihedral-group tables: SNOMED CT identifiers end with a Verhoeff check digit.
_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
# The permutation applied at position i is the second row applied i times.
_P = [list(range(10)), [1, 5, 7, 6, 2, 8, 3, 0, 9, 4]]
for _ in range(6):
    _P.append([_P[-1][_P[1][digit]] for digit in range(10)])


def verhoeff_valid(digits):
    """True when the string of digits ends with its Verhoeff check digit."""
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _D[check][_P[position % 8][int(digit)]]
    return check == 0


def validate_snomed_concept_id(value):
    """A SNOMED CT concept identifier: 6–18 digits, a concept's partition, a valid Verhoeff check digit."""
    if not value:
        return
    if not value.isascii() or not value.isdigit():
        raise ValidationError("A SNOMED CT code is digits only, e.g. 49076000.", code="snomed_digits")
    if not 6 <= len(value) <= 18 or value.startswith("0"):
        raise ValidationError("A SNOMED CT code has 6 to 18 digits.", code="snomed_length")
    if not verhoeff_valid(value):
        raise ValidationError(
            "This is not a SNOMED CT code: its check digit does not match. Copy it again from the browser.",
            code="snomed_check_digit",
        )
    # The two digits before the check digit say what the identifier names: 00 and 10 are concepts.
    if value[-3:-1] not in ("00", "10"):
        raise ValidationError(
            "This SNOMED CT identifier is not a concept (it may be a description id): give the concept id.",
            code="snomed_partition",
        )


# --- The body chart --------------------------------------------------------------------------------------


def marker_sides(site):
    """[(x, laterality)] for a placed site: a paired site on both sides of the body, a midline one once.

    Seen from the front the patient's right is on the viewer's left; seen from the back it is on the right.
    """
    x = site.chart_x
    if site.laterality_rule == LateralityRule.MIDLINE or (
        site.laterality_rule == LateralityRule.ANY and abs(x - MIDLINE) <= 2
    ):
        return [(x, Laterality.MIDLINE)]
    near, far = (
        (Laterality.RIGHT, Laterality.LEFT)
        if site.chart_view == FRONT
        else (
            Laterality.LEFT,
            Laterality.RIGHT,
        )
    )
    inner = min(x, CHART_WIDTH - x)  # the viewer-left copy
    return [(inner, near), (CHART_WIDTH - inner, far)]


def _box(points):
    """The viewBox (x, y, width, height) framing these points, with a margin and a least size."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    left, right = min(xs) - ZOOM_MARGIN, max(xs) + ZOOM_MARGIN
    top, bottom = min(ys) - ZOOM_MARGIN, max(ys) + ZOOM_MARGIN
    width, height = max(right - left, ZOOM_MIN_WIDTH), max(bottom - top, ZOOM_MIN_HEIGHT)
    left = min(max((left + right - width) / 2, 0), CHART_WIDTH - width)
    top = min(max((top + bottom - height) / 2, 0), CHART_HEIGHT - height)
    return (round(left), round(top), round(width), round(height))


def body_chart(sites, *, region, previous):
    """What the body chart draws: per view, a marker per site and side, and each region's zoom box.

    `sites` are the active catalogue rows; `previous` is a set of (site id, laterality) given at earlier
    treatments of the course (a bilateral injection marks both sides). The chart opens zoomed to `region`
    (the course's) where it has placed sites. Sites without a position stay in the dropdown only.
    """
    region_labels = dict(BodyRegion.choices)
    views = []
    for view, label in VIEWS:
        markers, points = [], {}
        for site in sites:
            if site.chart_view != view or site.chart_x is None or site.chart_y is None:
                continue
            for x, laterality in marker_sides(site):
                given = (site.pk, laterality) in previous or (
                    laterality in (Laterality.LEFT, Laterality.RIGHT)
                    and (site.pk, Laterality.BILATERAL) in previous
                )
                points.setdefault(site.region, []).append((x, site.chart_y))
                side = Laterality(laterality).label.lower()
                name = f"{site.name}, {side} ({region_labels.get(site.region, site.region)})"
                markers.append(
                    {
                        "site": site.pk,
                        "laterality": laterality,
                        "x": x,
                        "y": site.chart_y,
                        "previous": given,
                        "label": name + (", given at an earlier treatment" if given else ""),
                    }
                )
        regions = []
        for code, region_points in points.items():
            # The zoom button sits on the viewer-left copy of the region (or on the midline).
            near = [(x, y) for x, y in region_points if x <= MIDLINE] or region_points
            regions.append(
                {
                    "code": code,
                    "label": region_labels.get(code, code),
                    "box": " ".join(map(str, _box(region_points))),
                    "x": round(sum(x for x, _ in near) / len(near)),
                    "y": round(sum(y for _, y in near) / len(near)),
                }
            )
        views.append(
            {
                "name": view,
                "label": label,
                "markers": sorted(markers, key=lambda m: (m["y"], m["x"])),  # tab order: top to bottom
                "regions": sorted(regions, key=lambda r: r["y"]),
                # Seen from the front the patient's right is on the viewer's left.
                "viewer_left": "Right" if view == FRONT else "Left",
                "viewer_right": "Left" if view == FRONT else "Right",
            }
        )
    zoomable = any(r["code"] == region for view in views for r in view["regions"])
    return {
        # The figures are drawn by the template; the buttons on them by static/js/body_chart.js from `views`
        # as JSON, which keeps the page's rendering time flat in the size of the catalogue.
        "views": views,
        "region": region if zoomable else "",
        "region_label": region_labels.get(region, ""),
        "full_box": f"0 0 {CHART_WIDTH} {CHART_HEIGHT}",
        "any_previous": bool(previous),
    }
