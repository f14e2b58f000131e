"""Responders at fixed timepoints, their denominators, intervals and time to event, worked out by hand on the
fixed clinic of conftest.py (its base day is 300 days ago; "day" below counts from a course's start).

The seeded timepoints, in days after the last treatment: end of course 14 (window 0–28), 6 weeks 42 (29–56),
3 months 84 (63–112, the primary one), 6 months 182 (140–224), 12 months 364 (301–427).

Pain NRS values at each timepoint:
- C1 completed, last treatment day 28. End of course: window days 28–56 holds treatment 3's pain 4 (day 28):
  8 → 4, ≥ MCID and ≥ 50 %. 6 weeks (57–84): missing. 3 months (91–140): the follow-up 3 on day 112 (its
  target): 8 → 3, both. 6 months (168–252): missing. 12 months (329–455): awaiting (today is day 300).
- C2 stopped (no response), a deviation, last day 20: end of course 6 → 6 (not ≥ MCID, 0 % of 6); later ones
  missing, 12 months awaiting.
- C3 completed, baseline 0, last day 40: end of course 0 → 0 (not ≥ MCID; no room, so not in the ≥ 50 %
  available denominator); later missing, 12 months awaiting. VISA-A 50 → 60 on day 82: 6 weeks (69–96), +10.
- C4 completed after one treatment (day 0), no outcome point: missing at all but 12 months (awaiting).
- C5 stopped (lost), last day 14: end of course 9 → 5 (≥ MCID; 44 %, not ≥ 50 %); later missing.
- C6 and C8 are active: every timepoint awaiting. C7 has no treatment: in no timepoint.
Per-protocol (completed, not a deviation, 3–8 treatments): C1 and C3.
"""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.models import (
    CourseStatus,
    OutcomeInstrument,
    ProtocolSettings,
    ProtocolTimepoint,
    StopReason,
    Timepoint,
)
from outcomes import responders, selectors, stats, survival, timepoints
from outcomes.models import CourseTimepoint
from tests.factories import OutcomeScoreFactory
from tests.outcomes.conftest import KNEE, ClinicBuilder, admin_save


def link(figure, **params):
    return (figure, tuple(sorted(params.items())))


def courses_for(user, **filters):
    return selectors.outcome_courses(user, filters)


def nrs():
    return OutcomeInstrument.objects.get(code=OutcomeInstrument.PAIN_NRS_CODE)


def point(code):
    return ProtocolTimepoint.objects.get(code=code)


def by_timepoint(user, instrument=None):
    table = responders.by_timepoint(courses_for(user), instrument or nrs(), link=link)
    return {row["timepoint"]: row for row in table.rows}


def test_the_seeded_timepoints_and_their_windows(db):
    found = [
        (p.code, p.target_days, p.opens_after_days, p.closes_after_days, p.primary)
        for p in ProtocolTimepoint.objects.all()
    ]
    assert found == [
        ("eoc", 14, 0, 28, False),
        ("w6", 42, 29, 56, False),
        ("w12", 84, 63, 112, True),
        ("w26", 182, 140, 224, False),
        ("w52", 364, 301, 427, False),
    ]


def test_a_window_is_placed_from_the_last_treatment_and_the_nearest_score_wins(db):
    last = datetime.date(2026, 1, 10)
    window = timepoints.window(point("w12"), last)
    assert (window.opens_on, window.target_on, window.closes_on) == (
        datetime.date(2026, 3, 14),
        datetime.date(2026, 4, 4),
        datetime.date(2026, 5, 2),
    )
    early = timepoints.Point(datetime.date(2026, 3, 20), 1, 1, Decimal("4"))
    near = timepoints.Point(datetime.date(2026, 4, 10), 1, 2, Decimal("3"))
    outside = timepoints.Point(datetime.date(2026, 5, 3), 1, 3, Decimal("1"))
    assert timepoints.value_in(window, [early, near, outside]) == near
    # Equally near either side: the later day.
    before = timepoints.Point(datetime.date(2026, 4, 1), 1, 4, Decimal("5"))
    after = timepoints.Point(datetime.date(2026, 4, 7), 1, 5, Decimal("6"))
    assert timepoints.value_in(window, [before, after]) == after
    # The same day: a follow-up score over a treatment's pre-injection score.
    session = timepoints.Point(datetime.date(2026, 4, 4), 0, 9, Decimal("7"))
    score = timepoints.Point(datetime.date(2026, 4, 4), 1, 8, Decimal("2"))
    assert timepoints.value_in(window, [session, score]) == score
    assert timepoints.value_in(window, [outside]) is None


def test_open_closed_and_missing_windows(db):
    today = datetime.date(2026, 6, 1)
    assert timepoints.state(True, datetime.date(2026, 1, 1), today) == timepoints.SCORED
    assert timepoints.state(False, datetime.date(2026, 5, 31), today) == timepoints.MISSING
    # The window closes today: still open.
    assert timepoints.state(False, today, today) == timepoints.AWAITING
    # An open course has no window yet.
    assert timepoints.state(False, None, today) == timepoints.AWAITING
    tp = point("eoc")
    assert timepoints.course_window(tp, CourseStatus.ACTIVE, today) is None
    assert timepoints.course_window(tp, CourseStatus.COMPLETED, None) is None
    assert timepoints.course_window(tp, CourseStatus.STOPPED, today).closes_on == today + datetime.timedelta(
        28
    )


def test_each_courses_stored_values_match_the_hand_count(clinic_data):
    rows = {
        (row.course_id, row.timepoint.code): row
        for row in CourseTimepoint.objects.filter(instrument=nrs()).select_related("timepoint")
    }
    c1 = clinic_data["c1"].pk
    assert (rows[(c1, "eoc")].value, rows[(c1, "eoc")].improvement) == (Decimal("4"), Decimal("4"))
    assert rows[(c1, "eoc")].value_on == clinic_data["c1"].start_date + datetime.timedelta(days=28)
    assert (rows[(c1, "w12")].value, rows[(c1, "w12")].meets_mcid, rows[(c1, "w12")].meets_half) == (
        Decimal("3"),
        True,
        True,
    )
    assert [rows[(c1, code)].state for code in ("eoc", "w6", "w12", "w26", "w52")] == [
        "scored",
        "missing",
        "scored",
        "missing",
        "awaiting",
    ]
    c3 = rows[(clinic_data["c3"].pk, "eoc")]
    assert (c3.value, c3.meets_mcid, c3.evaluable_half) == (Decimal("0"), False, False)
    c5 = rows[(clinic_data["c5"].pk, "eoc")]
    assert (c5.meets_mcid, c5.evaluable_half, c5.meets_half) == (True, True, False)
    assert {rows[(clinic_data["c8"].pk, code)].state for code in ("eoc", "w12")} == {"awaiting"}
    assert rows[(clinic_data["c8"].pk, "eoc")].closes_on is None
    assert not CourseTimepoint.objects.filter(course=clinic_data["c7"]).exists()


def test_responders_at_the_end_of_course_with_three_denominators(clinic_admin, clinic_data):
    row = by_timepoint(clinic_admin)["End of course"]

    assert (row["treated"], row["due"], row["scored"], row["missing"], row["awaiting"]) == (7, 5, 4, 1, 2)
    # ≥ MCID: C1 and C5. ITT 2/5; available 2/4; per-protocol C1 of C1, C3: 1/2.
    assert (row["itt_mcid"].k, row["itt_mcid"].n) == (2, 5)
    assert (row["available_mcid"].k, row["available_mcid"].n) == (2, 4)
    assert (row["pp_mcid"].k, row["pp_mcid"].n) == (1, 2)
    # ≥ 50 %: C1 only; C3 (baseline 0) leaves the available denominator but stays in the ITT one.
    assert (row["itt_half"].k, row["itt_half"].n) == (1, 5)
    assert (row["available_half"].k, row["available_half"].n) == (1, 3)
    assert (row["pp_half"].k, row["pp_half"].n) == (1, 1)
    # Wilson 95 % for 2/4: p = 0.5, centre 0.5, half = 1.96 × √(0.0625 + 0.060025) / 1.96036 = 0.34993.
    assert row["available_mcid"].low == pytest.approx(15.007, abs=0.01)
    assert row["available_mcid"].high == pytest.approx(84.993, abs=0.01)
    assert row["available_mcid"].too_small
    # Mean improvement of C1 4, C2 0, C3 0, C5 4: 2.0; s² = (32 − 16) / 3; ± t(3) 3.182 × √(s² / 4).
    mean = row["mean"]
    assert mean.mean == pytest.approx(2.0)
    assert mean.low == pytest.approx(2.0 - 3.182 * (16 / 3 / 4) ** 0.5, abs=1e-3)
    assert mean.high == pytest.approx(2.0 + 3.182 * (16 / 3 / 4) ** 0.5, abs=1e-3)


def counted(found):
    """{timepoint id: the Tally's numbers}; a sum over no improvement is None counted and 0 stored."""
    return {key: {name: value or 0 for name, value in tally.__dict__.items()} for key, tally in found.items()}


def scanned(courses, instrument, today=None):
    return counted({key[0]: tally for key, tally in responders.tallies(courses, instrument, today=today)})


@pytest.mark.parametrize("code", [OutcomeInstrument.PAIN_NRS_CODE, "KOOS"])
def test_the_stored_tallies_equal_a_count_of_the_timepoint_rows_on_any_day(
    clinic_admin, practitioner, clinic_data, code
):
    instrument = OutcomeInstrument.objects.get(code=code)
    protocol = ProtocolSettings.load()
    later = timezone.localdate() + datetime.timedelta(days=200)
    for today in (None, later):
        whole = responders.stored_tallies(instrument, {}, protocol, today)
        assert counted(whole) == scanned(courses_for(clinic_admin), instrument, today)
        for user in (practitioner, clinic_data["other"]):
            own = responders.stored_tallies(instrument, {"practitioner_id": user.pk}, protocol, today)
            assert counted(own) == scanned(courses_for(user), instrument, today)
    # In 200 days (day 500) the closed courses' 12-month windows (C1's to day 455) have closed unscored: the
    # five are missing, the active C6 and C8 still awaiting.
    twelve = responders.stored_tallies(nrs(), {}, protocol, later)[point("w52").pk]
    assert (twelve.treated, twelve.missing, twelve.awaiting) == (7, 5, 2)


def test_the_dashboard_reads_stored_tallies_unfiltered_or_by_practitioner_and_counts_rows_otherwise(
    clinic_admin, practitioner, clinic_data
):
    assert courses_for(clinic_admin).tally_scope == {}
    assert courses_for(practitioner).tally_scope == {"practitioner_id": practitioner.pk}
    by_practitioner = courses_for(clinic_admin, practitioner=practitioner)
    assert by_practitioner.tally_scope == {"practitioner_id": practitioner.pk}
    assert counted(responders.timepoint_tallies(by_practitioner, nrs())) == scanned(by_practitioner, nrs())
    assert courses_for(clinic_admin, condition=clinic_data["c1"].condition).tally_scope is None
    assert courses_for(practitioner, status=CourseStatus.COMPLETED).tally_scope is None


def test_later_timepoints_are_missing_or_awaiting_by_their_windows(clinic_admin, clinic_data):
    rows = by_timepoint(clinic_admin)

    assert (rows["6 weeks"]["scored"], rows["6 weeks"]["missing"], rows["6 weeks"]["awaiting"]) == (0, 5, 2)
    three = rows["3 months"]
    assert (three["scored"], three["missing"], three["awaiting"]) == (1, 4, 2)
    assert (three["itt_mcid"].k, three["itt_mcid"].n, three["available_mcid"].n) == (1, 5, 1)
    assert three["itt_mcid"].percent == 20.0
    # Every closed course's 12-month window is still open: nobody is due yet.
    twelve = rows["12 months"]
    assert (twelve["due"], twelve["awaiting"]) == (0, 7)
    assert twelve["itt_mcid"].percent is None


def test_instruments_other_than_pain_use_their_own_mcid(clinic_admin, clinic_data):
    koos = OutcomeInstrument.objects.get(code="KOOS")
    three = by_timepoint(clinic_admin, koos)["3 months"]
    # C1 KOOS 40 → 55 (higher is better): +15 ≥ 10, 15 of 60 possible (25 %).
    assert (three["available_mcid"].k, three["available_mcid"].n) == (1, 1)
    assert (three["available_half"].k, three["available_half"].n) == (0, 1)
    visa = OutcomeInstrument.objects.get(code="VISA-A")
    six = by_timepoint(clinic_admin, visa)["6 weeks"]
    # C3 VISA-A 50 → 60: +10 < 20.
    assert (six["available_mcid"].k, six["available_mcid"].n) == (0, 1)


def test_the_relative_mcid_counts_at_a_timepoint(clinic_admin, practitioner):
    builder = ClinicBuilder()
    odi = OutcomeInstrument.objects.get(code="ODI")
    # ODI: 10 points or 30 % of baseline. 20 → 14 is 6 points, exactly 30 % of 20: ≥ MCID; not ≥ 50 %.
    course, _ = builder.course(
        practitioner=practitioner,
        status=CourseStatus.COMPLETED,
        outcome_instrument=odi,
        baseline_instrument_score=Decimal("20"),
        sessions=[(0, 7, None, None), (14, 6, None, None)],
    )
    OutcomeScoreFactory(
        course=course,
        instrument=odi,
        score=Decimal("14"),
        timepoint=Timepoint.WEEK_6,
        recorded_on=course.start_date + datetime.timedelta(days=14 + 42),
    )
    six = by_timepoint(clinic_admin, odi)["6 weeks"]
    assert (six["available_mcid"].k, six["available_half"].k, six["available_half"].n) == (1, 0, 1)


def test_responders_by_condition_and_practitioner_at_the_chosen_timepoint(
    clinic_admin, practitioner, clinic_data
):
    courses = courses_for(clinic_admin)
    table = responders.by_group(courses, nrs(), point("eoc"), "condition", link=link)
    rows = {row["group"]: row for row in table.rows}
    # Knee: C1 (≥ MCID), C2 (no), C5 (≥ MCID) scored, C6 awaiting.
    # Achilles: C3 scored, C4 missing, C8 awaiting.
    knee, achilles = rows[KNEE], rows["Achilles tendinopathy"]
    assert (knee["treated"], knee["scored"], knee["awaiting"], knee["available_mcid"].k) == (4, 3, 1, 2)
    assert (achilles["due"], achilles["missing"], achilles["itt_mcid"].k, achilles["itt_mcid"].n) == (
        2,
        1,
        0,
        2,
    )
    mine = {
        row["group"]: row
        for row in responders.by_group(courses, nrs(), point("eoc"), "practitioner", link=link).rows
    }[practitioner.get_full_name()]
    # C1, C2 scored, C8 awaiting (C7 has no treatment).
    assert (mine["treated"], mine["scored"], mine["available_mcid"].k) == (3, 2, 1)
    assert "at End of course" in table.title


def test_dose_is_the_band_of_most_treatments_not_the_strongest(clinic_admin, clinic_data):
    courses = courses_for(clinic_admin)
    rows = {
        row["group"]: row for row in responders.by_group(courses, nrs(), point("eoc"), "band", link=link).rows
    }
    # C1: 15, 15, 25 → 12.5–< 20 % (two of three), although it reached 25 %. C2: 12.5, 12.5.
    # C8: none, 30 → a tie goes to the stronger band (> 25 %).
    assert rows["12.5 – < 20 %"]["treated"] == 2
    assert "20 – 25 %" not in rows
    assert rows["> 25 %"]["treated"] == 1
    assert rows["No dextrose recorded"]["treated"] == 4  # C3, C4, C5, C6
    sessions = {
        row["group"]: row["treated"]
        for row in responders.by_group(courses, nrs(), point("eoc"), "sessions", link=link).rows
    }
    assert sessions == {"1 treatment": 2, "2 treatments": 3, "3 treatments": 2}


def test_condition_by_band_cross_table(clinic_admin, clinic_data):
    table = responders.condition_by_band(courses_for(clinic_admin), nrs(), point("eoc"), link=link)
    rows = {row["condition"]: row for row in table.rows}

    # Knee 12.5–< 20 %: C1 (≥ MCID) and C2 (not): 1/2. Knee without dextrose: C5 (≥ MCID), C6 awaiting: 1/1.
    assert (rows[KNEE]["12_5_20"].k, rows[KNEE]["12_5_20"].n) == (1, 2)
    assert (rows[KNEE]["none"].k, rows[KNEE]["none"].n) == (1, 1)
    assert rows[KNEE]["gt25"] is None


def test_time_to_discontinuation_counts_only_drop_outs_and_censors_the_rest(clinic_admin, clinic_data):
    counts = {
        days: (events, censored)
        for days, events, censored in survival.discontinuation_counts(courses_for(clinic_admin))
    }
    # Events: C5 (lost) on day 14, C2 (no response) on day 20. Censored: C4 at 0, C1 at 28, C3 at 40 (their
    # last treatment: no end date recorded), C8 today (day 300), C6 today (days since this month began).
    c6_days = (timezone.localdate() - timezone.localdate().replace(day=1)).days
    expected = {0: [0, 1], 14: [1, 0], 20: [1, 0], 28: [0, 1], 40: [0, 1], 300: [0, 1]}
    expected.setdefault(c6_days, [0, 0])[1] += 1
    assert counts == {days: tuple(value) for days, value in expected.items()}


def test_a_goal_met_stop_is_not_a_drop_out(clinic_admin, practitioner):
    builder = ClinicBuilder()
    _course, _ = builder.course(
        practitioner=practitioner,
        status=CourseStatus.STOPPED,
        stop_reason=StopReason.GOAL_MET,
        sessions=[(0, 7, None, None), (14, 2, None, None)],
    )
    assert survival.discontinuation_counts(courses_for(clinic_admin)) == [(14, 0, 1)]
    table = survival.discontinuation_table(courses_for(clinic_admin))
    assert {row["week"]: row["estimate"] for row in table.rows}[2] == 100.0


def test_the_discontinuation_curve_matches_the_hand_computed_estimate(clinic_admin, practitioner):
    builder = ClinicBuilder()
    today = timezone.localdate()
    start = today - datetime.timedelta(days=200)
    # Six courses: stopped on days 21 (patient choice) and 35 (adverse event), 35 (no response);
    # completed on day 28 and 56; one active (censored today, day 200).
    for reason, last in (
        (StopReason.PATIENT_CHOICE, 21),
        (StopReason.ADVERSE_EVENT, 35),
        (StopReason.NO_RESPONSE, 35),
    ):
        builder.course(
            practitioner=practitioner,
            status=CourseStatus.STOPPED,
            stop_reason=reason,
            start=start,
            end_date=start + datetime.timedelta(days=last),
            sessions=[(0, 7, None, None)],
        )
    for last in (28, 56):
        builder.course(
            practitioner=practitioner,
            status=CourseStatus.COMPLETED,
            start=start,
            end_date=start + datetime.timedelta(days=last),
            sessions=[(0, 7, None, None)],
        )
    builder.course(
        practitioner=practitioner, status=CourseStatus.ACTIVE, start=start, sessions=[(0, 7, None, None)]
    )

    table = survival.discontinuation_table(courses_for(clinic_admin))
    rows = {row["week"]: row for row in table.rows}
    # S(21) = 5/6; day 28 censored (4 left); S(35) = 5/6 × 2/4 = 5/12; day 56 censored; day 200 censored.
    assert rows[4]["estimate"] == round(100 * 5 / 6, 1)
    assert (rows[6]["estimate"], rows[6]["at_risk"], rows[6]["events"]) == (41.7, 2, 3)
    assert rows[26]["estimate"] == 41.7
    assert rows[52]["estimate"] is None  # past the last follow-up (day 200)
    assert rows[0]["at_risk"] == 6


def test_time_to_first_response_censors_at_the_last_pain_score(clinic_admin, clinic_data):
    counts = survival.response_counts(courses_for(clinic_admin))
    # First ≥ MCID point: C1 day 14 (8 → 6), C5 day 14 (9 → 5), C8 day 14 (10 → 7). Censored at their last
    # pain point: C2 day 20, C3 day 40 (pain only: its VISA-A score does not count); C4 and C6 have none (0).
    assert counts == [(0, 0, 2), (14, 3, 0), (20, 0, 1), (40, 0, 1)]
    table = survival.response_table(courses_for(clinic_admin))
    # Cumulative response at week 2: 3 of 5 at risk at day 14 → 60 %.
    assert {row["week"]: row["estimate"] for row in table.rows}[2] == 60.0


def test_an_mcid_edit_rebuilds_the_timepoint_values(clinic_admin, clinic_data):
    admin_save(nrs(), mcid_absolute=Decimal("5"), mcid_relative_percent=None)

    row = by_timepoint(clinic_admin)["End of course"]
    # 4 points (C1, C5) no longer meets 5 points.
    assert row["available_mcid"].k == 0


def test_a_timepoint_edit_moves_every_window(clinic_admin, clinic_data):
    eoc = point("eoc")
    admin_save(eoc, target_days=0, window_before_days=0, window_after_days=0)

    row = by_timepoint(clinic_admin)["End of course"]
    # Only the last treatment's own day now: C1 (day 28, 4), C2 (6), C3 (0), C5 (5); the same four.
    assert (row["scored"], row["available_mcid"].k) == (4, 2)
    admin_save(eoc, target_days=100, window_before_days=1, window_after_days=1)
    assert by_timepoint(clinic_admin)["End of course"]["scored"] == 0


def test_the_dashboard_shows_the_timepoint_figures_with_intervals_and_small_n(
    clinic_admin, client_for, clinic_data
):
    client = client_for(clinic_admin)
    url, params = reverse("outcomes:dashboard"), {"timepoint": point("eoc").pk}
    response = client.get(url, params)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Responders at each timepoint: Pain NRS" in html
    assert "95 % CI 15.0–85.0" in html  # 2/4 at the end of course
    assert "n &lt; 10" in html
    assert (
        "Time to discontinuation (Kaplan–Meier)"
        in client.get(url, {**params, "tab": "time"}).content.decode()
    )
    definitions = client.get(url, {**params, "tab": "definitions"}).content.decode()
    assert "2 points or 30 % of the baseline" in definitions  # the NRS's MCID, read from the catalogue
    assert "15 points or 30 % of the baseline" in definitions  # the VAS's, now with its relative MCID
    primary = response.context["primary"]
    assert (primary["tally"].scored, primary["tally"].mcid) == (4, 2)


@pytest.mark.parametrize(
    ("figure", "expected"),
    [
        ("tp-treated", {"c1", "c2", "c3", "c4", "c5", "c6", "c8"}),
        ("tp-due", {"c1", "c2", "c3", "c4", "c5"}),
        ("tp-scored", {"c1", "c2", "c3", "c5"}),
        ("tp-missing", {"c4"}),
        ("tp-awaiting", {"c6", "c8"}),
        ("tp-responders-mcid", {"c1", "c5"}),
        ("tp-responders-50", {"c1"}),
        ("tp-pp-responders-mcid", {"c1"}),
    ],
)
def test_each_timepoint_figure_lists_the_courses_behind_it(
    clinic_admin, client_for, clinic_data, figure, expected
):
    params = {"figure": figure, "timepoint": point("eoc").pk}
    response = client_for(clinic_admin).get(reverse("outcomes:course-list"), params)

    assert response.status_code == 200
    assert {c.pk for c in response.context["page"].object_list} == {clinic_data[name].pk for name in expected}
    assert ("Responders at", "End of course") in response.context["filters_in_force"]


def test_a_timepoint_table_downloads_with_its_intervals(clinic_admin, client_for, clinic_data):
    response = client_for(clinic_admin).get(
        reverse("outcomes:csv", args=["responders-timepoints"]), {"timepoint": point("eoc").pk}
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = rows[0]
    eoc = dict(zip(header, rows[1], strict=True))
    assert eoc["Timepoint"] == "End of course"
    assert (eoc["≥ MCID, available: responders"], eoc["≥ MCID, available: of"]) == ("2", "4")
    assert eoc["≥ MCID, available (%)"] == "50.0"
    assert eoc["≥ MCID, available: 95 % CI low"] == "15.0"


def test_proportions_text():
    assert stats.Proportion(2, 4).text() == "2/4 50.0 % (15.0–85.0)"


def test_the_research_timepoint_file_has_each_courses_value_and_state(clinic_admin, client_for, clinic_data):
    from outcomes.exports import pseudonym
    from tests.outcomes.test_research_export import export

    rows = export(client_for(clinic_admin), "timepoints")
    by_key = {(row["course_key"], row["tp_instrument"], row["tp_code"]): row for row in rows}
    c1 = by_key[(pseudonym("course", clinic_data["c1"].pk), "NRS", "eoc")]
    # C1: treatment 3's pain 4 on day 28 from its first treatment, 8 → 4.
    assert (c1["tp_state"], c1["tp_value"], c1["tp_day"], c1["tp_improvement"]) == ("scored", "4", "28", "4")
    assert (c1["tp_mcid"], c1["tp_half"], c1["tp_opens_days"], c1["tp_closes_days"]) == ("1", "1", "0", "28")
    c3 = by_key[(pseudonym("course", clinic_data["c3"].pk), "NRS", "eoc")]
    assert (c3["tp_mcid"], c3["tp_half"]) == ("0", "")  # baseline 0: no room, so no ≥ 50 % verdict
    c4 = by_key[(pseudonym("course", clinic_data["c4"].pk), "NRS", "eoc")]
    assert (c4["tp_state"], c4["tp_value"], c4["tp_mcid"]) == ("missing", "", "")
    c8 = by_key[(pseudonym("course", clinic_data["c8"].pk), "NRS", "w12")]
    assert c8["tp_state"] == "awaiting"
    visa = by_key[(pseudonym("course", clinic_data["c3"].pk), "VISA-A", "w6")]
    assert (visa["tp_value"], visa["tp_day"], visa["tp_mcid"]) == ("60", "82", "0")
    # Seven treated courses × five timepoints on the NRS, and C1 and C3 on their own measure.
    assert len(rows) == 7 * 5 + 2 * 5


def test_a_clinic_admin_edits_a_timepoint_and_a_window_before_the_last_treatment_is_refused(
    clinic_admin, client_for
):
    clinic_admin.is_staff = True  # clinic admins reach the catalogues in the Django admin
    clinic_admin.save()
    client = client_for(clinic_admin)
    eoc = point("eoc")
    url = reverse("admin:courses_protocoltimepoint_change", args=[eoc.pk])
    assert client.get(reverse("admin:courses_protocoltimepoint_changelist")).status_code == 200
    data = {
        "code": "eoc",
        "name": "End of course",
        "target_days": "14",
        "window_before_days": "20",
        "window_after_days": "14",
        "active": "on",
    }
    response = client.post(url, data)

    assert response.status_code == 200
    assert "The window cannot open before the last treatment" in response.content.decode()
    eoc.refresh_from_db()
    assert eoc.window_before_days == 14
    response = client.post(url, {**data, "window_before_days": "7"})
    assert response.status_code == 302
    eoc.refresh_from_db()
    assert eoc.opens_after_days == 7


def test_a_practitioner_cannot_edit_timepoints(practitioner, client_for):
    response = client_for(practitioner).get(reverse("admin:courses_protocoltimepoint_changelist"))
    assert response.status_code in (302, 403)


def test_without_any_active_timepoint_the_pages_still_answer(clinic_admin, client_for, clinic_data):
    ProtocolTimepoint.objects.update(active=False)
    client = client_for(clinic_admin)

    assert client.get(reverse("outcomes:dashboard")).status_code == 200
    response = client.get(reverse("outcomes:course-list"), {"figure": "tp-responders-mcid", "timepoint": "1"})
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == []
    for name in ("responders-timepoints", "responders-condition", "time-to-response"):
        assert client.get(reverse("outcomes:csv", args=[name])).status_code in (200, 404)


@pytest.mark.parametrize("junk", ["abc", "-1", "99999", "1' OR '1'='1", "", "1.5"])
def test_junk_timepoint_and_measure_fall_back_to_the_defaults(clinic_admin, client_for, clinic_data, junk):
    client = client_for(clinic_admin)
    response = client.get(reverse("outcomes:dashboard"), {"timepoint": junk, "instrument": junk})

    assert response.status_code == 200
    assert response.context["primary"]["timepoint"].code == "w12"
    csv_response = client.get(reverse("outcomes:csv", args=["responders-timepoints"]), {"timepoint": junk})
    assert csv_response.status_code == 200
