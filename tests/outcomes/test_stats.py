"""The outcome statistics against values worked by hand or published."""

import math

import pytest

from outcomes import stats


def test_wilson_interval_matches_the_hand_worked_value():
    # 7 of 10: p = 0.7, z² = 3.8415; centre = (0.7 + 0.19207) / 1.38415 = 0.64449;
    # half = 1.96 × √(0.021 + 0.0096036) / 1.38415 = 0.24772.
    low, high = stats.wilson(7, 10)
    assert low == pytest.approx(0.39677, abs=1e-4)
    assert high == pytest.approx(0.89221, abs=1e-4)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # Newcombe 1998, table I (method 3, Wilson score): 81/263, 15/148, 0/20 and 1/29.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombe(k, n, low, high):
    got = stats.wilson(k, n)
    assert got[0] == pytest.approx(low, abs=1e-4)
    assert got[1] == pytest.approx(high, abs=1e-4)


def test_wilson_interval_stays_inside_0_and_1_and_needs_a_denominator():
    assert stats.wilson(0, 4)[0] == 0.0
    assert stats.wilson(4, 4)[1] == 1.0
    assert stats.wilson(0, 0) is None
    with pytest.raises(ValueError):
        stats.wilson(5, 4)


def test_proportion_in_percent_and_its_small_n_flag():
    proportion = stats.Proportion(7, 10)
    assert proportion.percent == 70.0
    assert proportion.low == pytest.approx(39.677, abs=1e-2)
    assert not proportion.too_small
    assert stats.Proportion(4, 4).too_small
    assert stats.Proportion(7, 10).text() == "7/10 70.0 % (39.7–89.2)"
    assert stats.Proportion(0, 0).percent is None


def test_mean_interval_from_sums():
    values = [1, 2, 3, 4, 6]
    n, total, total_sq = len(values), sum(values), sum(v * v for v in values)
    # mean 3.2; s² = (66 − 51.2) / 4 = 3.7; se = √(3.7 / 5) = 0.86023; t(4) = 2.776.
    found = stats.mean_interval(n, total, total_sq)
    assert found.mean == pytest.approx(3.2)
    assert found.low == pytest.approx(3.2 - 2.776 * 0.86023, abs=1e-4)
    assert found.high == pytest.approx(3.2 + 2.776 * 0.86023, abs=1e-4)
    assert found.too_small
    single = stats.mean_interval(1, 5, 25)
    assert (single.mean, single.low, single.high) == (5.0, None, None)
    assert stats.mean_interval(0, 0, 0).mean is None


@pytest.mark.parametrize(
    ("df", "t"), [(1, 12.706), (10, 2.228), (30, 2.042), (40, 2.021), (60, 2.000), (120, 1.980)]
)
def test_t_quantiles(df, t):
    assert stats.t975(df) == pytest.approx(t, abs=1.5e-3)


def test_kaplan_meier_with_censoring_matches_the_hand_worked_curve():
    # Six courses: events at 3, 5, 5 and 9; censored at 4 and 9 (an event comes before a censoring at the
    # same time). At risk 6 → S(3) = 5/6; at 4 one is censored (4 left); S(5) = 5/6 × 2/4 = 0.41667;
    # at 9 two at risk, one event: S(9) = 0.41667 × 1/2 = 0.20833.
    steps = stats.kaplan_meier([(3, 1, 0), (4, 0, 1), (5, 2, 0), (9, 1, 1)])
    assert [(s.time, s.at_risk, s.events, s.censored) for s in steps] == [
        (3, 6, 1, 0),
        (4, 5, 0, 1),
        (5, 4, 2, 0),
        (9, 2, 1, 1),
    ]
    assert [round(s.survival, 5) for s in steps] == [0.83333, 0.83333, 0.41667, 0.20833]
    # Greenwood at 5: 1/(6×5) + 2/(4×2) = 0.28333; log–log: se = √0.28333 / |ln 0.41667| = 0.60800.
    se = math.sqrt(1 / 30 + 2 / 8) / abs(math.log(5 / 12))
    assert steps[2].low == pytest.approx((5 / 12) ** math.exp(1.959964 * se), abs=1e-6)
    assert steps[2].high == pytest.approx((5 / 12) ** math.exp(-1.959964 * se), abs=1e-6)
    assert stats.estimate_at(steps, 0) == (1.0, None, None, 6)
    survival, _, _, at_risk = stats.estimate_at(steps, 6)
    assert (round(survival, 5), at_risk) == (0.41667, 2)
    assert stats.estimate_at(steps, 10) == (None, None, None, 0)


def test_kaplan_meier_without_events_stays_at_1():
    steps = stats.kaplan_meier([(2, 0, 3), (7, 0, 1)])
    assert [s.survival for s in steps] == [1.0, 1.0]
    assert steps[0].low is None
    with pytest.raises(ValueError):
        stats.kaplan_meier([(-1, 1, 0)])
