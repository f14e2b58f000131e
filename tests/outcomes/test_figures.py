"""The dashboard's figures against the same figures worked out by hand on the fixed clinic in conftest.py."""

import pytest
from django.urls import reverse

from outcomes import selectors
from outcomes.models import CourseSessionCount
from tests.outcomes.conftest import ACHILLES, KNEE


def link(figure, **params):
    return figure


def courses_for(user, **filters):
    return selectors.outcome_courses(user, filters)


def by_group(table):
    return {row["group"]: row for row in table.rows}


def test_headline_figures_match_the_hand_count(clinic_admin, clinic_data):
    h = selectors.headline(courses_for(clinic_admin), link=link)

    assert h["n"] == 8
    assert h["active"] == 2  # C6, C8
    assert h["completed"] == 3  # C1, C3, C4
    assert h["sessions_completed"] == 14
    assert h["sessions_this_month"] == 1  # C6's first session
    assert h["side_effects"] == 4  # the voided one does not count
    assert h["serious"] == 1
    assert h["side_effects_per_100"] == 28.6  # 4 / 14
    assert h["deviations"] == 1


def test_a_practitioner_sees_only_their_own_courses(practitioner, clinic_data):
    h = selectors.headline(courses_for(practitioner), link=link)

    # C1, C2, C7, C8 are theirs.
    assert h["n"] == 4
    assert h["sessions_completed"] == 7
    assert h["side_effects"] == 3  # two on C1, one on C2
    assert h["serious"] == 0


def test_a_practitioner_cannot_widen_their_view_with_the_practitioner_filter(practitioner, clinic_data):
    courses = courses_for(practitioner, practitioner=clinic_data["other"])

    assert set(courses.values_list("pk", flat=True)) == {clinic_data[c].pk for c in ("c1", "c2", "c7", "c8")}


def test_side_effects_by_term_grade_and_band(clinic_admin, clinic_data):
    courses = courses_for(clinic_admin)
    terms = {
        (row["term"], row["severity"]): row for row in selectors.side_effects_by_term(courses, link=link).rows
    }
    bands = {row["band"]: row for row in selectors.side_effects_by_band(courses, link=link).rows}

    assert {key: row["events"] for key, row in terms.items()} == {
        ("Bruising", 1): 1,
        ("Injection-site infection", 3): 1,
        ("Post-injection pain / flare", 1): 1,
        ("Post-injection pain / flare", 2): 1,
    }
    assert terms[("Bruising", 1)]["per_100"] == 7.1
    assert terms[("Injection-site infection", 3)]["serious"] == 1
    assert (bands["12.5 – < 20 %"]["sessions"], bands["12.5 – < 20 %"]["events"]) == (4, 2)
    assert bands["12.5 – < 20 %"]["per_100"] == 50.0
    assert bands["20 – 25 %"]["per_100"] == 100.0
    assert bands["> 25 %"]["per_100"] == 0.0
    assert (bands["No dextrose recorded"]["sessions"], bands["No dextrose recorded"]["per_100"]) == (8, 12.5)


def test_serious_events_are_listed(clinic_admin, clinic_data):
    rows = selectors.serious_events_table(courses_for(clinic_admin), link=link).rows

    assert [(row["term"], row["criterion"], row["session"]) for row in rows] == [
        ("Injection-site infection", "Hospitalisation", 2)
    ]


def test_adherence_counts_sessions_intervals_and_drop_out(clinic_admin, clinic_data):
    result = selectors.adherence(courses_for(clinic_admin), link=link)

    # Closed courses C1-C5: planned 3 + 6 + 3 + 4 + 6, received 3 + 2 + 3 + 1 + 2.
    assert (result["totals"]["planned"], result["totals"]["received"], result["totals"]["rate"]) == (
        22,
        11,
        50.0,
    )
    # Gaps: C1 14, 14; C2 20; C3 14, 26 (outside 14-21); C5 14; C8 14.
    intervals = result["intervals"]
    assert (intervals["intervals"], intervals["inside"], intervals["rate"]) == (7, 6, 85.7)
    rows = {row["sessions"]: row for row in result["table"].rows}
    assert (rows[1]["reached"], rows[1]["ended"], rows[1]["stopped"]) == (5, 1, 0)
    assert (rows[2]["reached"], rows[2]["stopped"], rows[2]["drop_out"]) == (4, 2, 50.0)
    assert (rows[3]["reached"], rows[3]["ended"], rows[3]["stopped"]) == (2, 2, 0)


def test_pain_by_session_averages_each_session_number(clinic_admin, clinic_data):
    table = selectors.pain_by_session(courses_for(clinic_admin), link=link)
    cells = {(row["condition"], row["_x"]): row for row in table.rows}

    # Knee baselines: C1 8, C2 6, C5 9, C6 5; session 2: C1 6, C2 6, C5 5.
    assert (cells[(KNEE, 0)]["n"], cells[(KNEE, 0)]["mean"]) == (4, 7.0)
    assert (cells[(KNEE, 2)]["n"], cells[(KNEE, 2)]["mean"]) == (3, 5.67)
    assert cells[(KNEE, 2)]["sd"] == 0.58
    assert table.chart["labels"][0] == "Baseline"


def test_pain_by_week_merges_sessions_and_follow_up_scores(clinic_admin, clinic_data):
    table = selectors.pain_by_week(courses_for(clinic_admin), link=link)
    cells = {(row["condition"], row["_x"]): row for row in table.rows}

    # Weeks 13-16 (window 6): C1's NRS follow-up 3 on day 112.
    assert (cells[(KNEE, 6)]["n"], cells[(KNEE, 6)]["mean"], cells[(KNEE, 6)]["sd"]) == (1, 3.0, None)
    # Weeks 1-2 knee: C1 session 2 (6), C5 session 2 (5), C2 session 2 on day 20 (6).
    assert (cells[(KNEE, 1)]["n"], cells[(KNEE, 1)]["mean"]) == (3, 5.67)
    # Weeks 1-2 achilles: C3 session 2 (1), C8 session 2 (7) and C8's between-session score (8).
    assert (cells[(ACHILLES, 1)]["n"], cells[(ACHILLES, 1)]["mean"]) == (3, 5.33)
    assert (cells[("All conditions", 1)]["n"], cells[("All conditions", 1)]["mean"]) == (6, 5.5)
    assert table.chart["labels"][:3] == ["0", "1–2", "3–4"]


def test_an_empty_clinic_divides_by_nothing(clinic_admin, client_for):
    response = client_for(clinic_admin).get(reverse("outcomes:dashboard"))

    assert response.status_code == 200
    h = response.context["headline"]
    assert response.context["primary"]["tally"].available_mcid.percent is None
    assert response.context["primary"]["tally"].mean_improvement.mean is None
    assert h["side_effects_per_100"] is None
    adherence = client_for(clinic_admin).get(reverse("outcomes:dashboard"), {"tab": "adherence"})
    assert adherence.context["adherence"]["intervals"]["rate"] is None


@pytest.mark.parametrize(
    ("figure", "expected"),
    [
        ("responders-mcid", {"c1", "c8"}),
        ("responders-50", {"c1"}),
        ("lost", {"c4", "c5"}),
        ("awaiting", {"c6", "c7"}),
        ("baseline-zero", {"c3"}),
        ("serious", {"c3"}),
        ("interval-outside", {"c3"}),
        ("deviation", {"c2"}),
        ("sessions-this-month", {"c6"}),
        ("instrument-responders", {"c1"}),
    ],
)
def test_each_figure_lists_the_courses_behind_it(clinic_admin, client_for, clinic_data, figure, expected):
    response = client_for(clinic_admin).get(reverse("outcomes:course-list"), {"figure": figure})

    assert response.status_code == 200
    shown = {course.pk for course in response.context["page"].object_list}
    assert shown == {clinic_data[name].pk for name in expected}


def test_a_grouped_figure_keeps_its_group_in_the_link(clinic_admin, client_for, clinic_data):
    knee = clinic_data["c1"].condition
    response = client_for(clinic_admin).get(
        reverse("outcomes:course-list"), {"figure": "lost", "condition": knee.pk}
    )

    assert {c.pk for c in response.context["page"].object_list} == {clinic_data["c5"].pk}


def test_the_headline_side_effects_agree_with_the_per_term_counts(clinic_admin, client_for, clinic_data):
    """The headline adds up each course's summary totals; the safety tables add up the per-term counts."""
    response = client_for(clinic_admin).get(reverse("outcomes:dashboard"))
    h = response.context["headline"]
    by_term = selectors.report_counts(selectors.outcome_courses(clinic_admin, {}))[
        CourseSessionCount.Dimension.EFFECT_TERM
    ].values()

    assert h["side_effects"] == sum(n for n, _ in by_term) > 0
    assert h["serious"] == sum(serious for _, serious in by_term) == 1
