"""The statistics behind the outcome figures: short, exact and tested against hand-computed values.

- A proportion with its Wilson score 95 % interval (Wilson 1927; Newcombe 1998 recommends it over the Wald
  interval, which collapses at 0 % and 100 % and undercovers for small n).
- A mean with its 95 % t interval, from the count, sum and sum of squares the database aggregates.
- The Kaplan–Meier estimator with Greenwood's variance and the log–log 95 % interval (Kalbfleisch & Prentice),
  from (time, events, censored) counts grouped by the database.

These few formulas do not justify a statistics library as a dependency (scipy or lifelines would add tens of
megabytes for a dozen lines); the tests check each against published or hand-worked values.
"""

import math
from dataclasses import dataclass

Z95 = 1.959963984540054
# Student's t 0.975 quantiles for 1–30 degrees of freedom (standard tables, three decimals); above 30 the
# Cornish–Fisher expansion (Hill 1970) below agrees with the tables to three decimals.
T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
# Below this many courses a proportion's interval is too wide to read as a rate.
SMALL_N = 10


def t975(df):
    """Student's t 0.975 quantile with `df` degrees of freedom."""
    if df < 1:
        raise ValueError("A t interval needs at least one degree of freedom.")
    if df <= len(T975):
        return T975[df - 1]
    z = Z95
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


@dataclass(frozen=True)
class Proportion:
    """k of n, as a percentage with its Wilson 95 % interval (percentages; None when n is 0)."""

    k: int
    n: int
    kind = "proportion"

    @property
    def percent(self):
        return 100 * self.k / self.n if self.n else None

    @property
    def interval(self):
        low_high = wilson(self.k, self.n)
        return None if low_high is None else (100 * low_high[0], 100 * low_high[1])

    @property
    def low(self):
        return self.interval[0] if self.n else None

    @property
    def high(self):
        return self.interval[1] if self.n else None

    @property
    def too_small(self):
        return self.n < SMALL_N

    def text(self):
        """'7/10 70.0 % (39.7–89.2)' — the plain-text form of the CSV downloads."""
        if not self.n:
            return f"{self.k}/{self.n}"
        return f"{self.k}/{self.n} {self.percent:.1f} % ({self.low:.1f}–{self.high:.1f})"


def wilson(k, n, z=Z95):
    """The Wilson score interval of k successes in n trials, as proportions (None when n is 0)."""
    if n <= 0:
        return None
    if not 0 <= k <= n:
        raise ValueError("k must lie between 0 and n.")
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # At k = 0 or k = n the bound is exactly 0 or 1; rounding must not move it past.
    return (0.0 if k == 0 else max(0.0, centre - half), 1.0 if k == n else min(1.0, centre + half))


@dataclass(frozen=True)
class Mean:
    """A mean with its 95 % t interval (the interval is None below two values)."""

    n: int
    mean: float | None
    low: float | None
    high: float | None
    kind = "mean"

    @property
    def too_small(self):
        return self.n < SMALL_N


def mean_interval(n, total, total_sq):
    """The mean of n values from their sum and sum of squares, with its 95 % t interval."""
    if not n:
        return Mean(0, None, None, None)
    total, total_sq = float(total), float(total_sq)
    mean = total / n
    if n < 2:
        return Mean(n, mean, None, None)
    # Sum of squared deviations; never negative (rounding of equal values can make it −1e-16).
    ss = max(0.0, total_sq - total * total / n)
    half = t975(n - 1) * math.sqrt(ss / (n - 1) / n)
    return Mean(n, mean, mean - half, mean + half)


@dataclass(frozen=True)
class Step:
    """The Kaplan–Meier estimate just after `time`: at risk before it, events and censored at it."""

    time: int
    at_risk: int
    events: int
    censored: int
    survival: float
    low: float | None
    high: float | None


def kaplan_meier(rows, z=Z95):
    """The Kaplan–Meier curve from (time, events, censored) rows (several rows may share a time).

    At a time with both, events come before censorings (the usual convention: a course censored on the day
    of another's event was still at risk of it). Returns the Steps at the times with events or censorings,
    in time order; survival before the first step is 1. The interval is the log–log one, which stays inside
    0–1; it is None where the estimate is 1 (no event yet) or 0.
    """
    by_time = {}
    for time, events, censored in rows:
        if time < 0:
            raise ValueError("Times are counted from the origin and cannot be negative.")
        entry = by_time.setdefault(time, [0, 0])
        entry[0] += events
        entry[1] += censored
    at_risk = sum(events + censored for events, censored in by_time.values())
    survival, greenwood = 1.0, 0.0
    steps = []
    for time in sorted(by_time):
        events, censored = by_time[time]
        if events:
            survival *= 1 - events / at_risk
            if at_risk > events:
                greenwood += events / (at_risk * (at_risk - events))
        low = high = None
        if 0 < survival < 1:
            log_s = math.log(survival)
            se = math.sqrt(greenwood) / abs(log_s)
            # exp(−exp(log(−log S) ± z·se)) = S ** exp(± z·se)
            low, high = survival ** math.exp(z * se), survival ** math.exp(-z * se)
        steps.append(Step(time, at_risk, events, censored, survival, low, high))
        at_risk -= events + censored
    return steps


def estimate_at(steps, time):
    """(survival, low, high, at risk) at `time` from kaplan_meier's steps: the last step at or before it, and
    the number still followed at `time` (their time is `time` or later). Past the last follow-up time the
    curve is not defined: survival is then None."""
    if steps and time > steps[-1].time:
        return None, None, None, 0
    survival, low, high = 1.0, None, None
    for step in steps:
        if step.time > time:
            break
        survival, low, high = step.survival, step.low, step.high
    at_risk = sum(step.events + step.censored for step in steps if step.time >= time)
    return survival, low, high, at_risk
