"""The uplift interval: a worked example (README "Measuring campaigns") and planted effects."""

from __future__ import annotations

import numpy as np
import pytest

from engine.history.uplift import uplift


def test_the_readme_worked_example() -> None:
    treated = np.array([1, 0, 1, 1, 0, 0, 1, 0], dtype=float)  # 4 of 8 converted
    holdout = np.array([0, 1, 0, 0], dtype=float)  # 1 of 4
    got = uplift(treated, holdout)
    assert got.uplift == pytest.approx(0.25)
    # s_t^2 = 8/7 x 0.25 = 0.285714, s_h^2 = 4/3 x 0.1875 = 0.25
    assert got.se == pytest.approx(np.sqrt(0.2857142857 / 8 + 0.25 / 4), abs=1e-9)
    assert round(got.se, 4) == 0.3134
    assert (round(got.low, 4), round(got.high, 4)) == (-0.3642, 0.8642)
    assert round(got.mde, 4) == 0.878
    assert not got.significant


def test_cuped_keeps_the_uplift_and_narrows_the_interval() -> None:
    rng = np.random.default_rng(5)
    x_t, x_h = rng.gamma(2, 50, 4000), rng.gamma(2, 50, 1000)
    y_t = 0.8 * x_t + rng.normal(3, 20, 4000)
    y_h = 0.8 * x_h + rng.normal(0, 20, 1000)
    plain, adjusted = uplift(y_t, y_h), uplift(y_t, y_h, x_t, x_h)
    assert adjusted.theta == pytest.approx(0.8, abs=0.05)
    assert adjusted.se < plain.se / 2
    assert abs(adjusted.uplift - 3) < 3 * adjusted.se


@pytest.mark.parametrize("cuped", [False, True])
def test_the_95_interval_covers_a_planted_uplift_about_95_percent_of_the_time(
        cuped: bool) -> None:
    truth, covered, seeds = 4.0, 0, 400
    for seed in range(seeds):  # fixed seeds: the same figure every time
        rng = np.random.default_rng(seed)
        x_t, x_h = rng.gamma(2, 30, 1500), rng.gamma(2, 30, 300)
        # a margin with a conversion of 6% (holdout) and a planted effect of `truth`
        y_t = 0.5 * x_t * (rng.random(1500) < 0.3) + rng.exponential(20, 1500) + truth
        y_h = 0.5 * x_h * (rng.random(300) < 0.3) + rng.exponential(20, 300)
        got = uplift(y_t, y_h, x_t, x_h) if cuped else uplift(y_t, y_h)
        covered += got.low <= truth <= got.high
    assert 0.92 <= covered / seeds <= 0.98, covered / seeds


@pytest.mark.parametrize("value", [0.0, 0.1, 12.34])
def test_figures_that_vary_in_neither_group_have_no_interval(value: float) -> None:
    """An interval of width 0 would read as an effect known exactly (the trial saw +0.00
    (+0.00 .. +0.00) with an MDE of 0): when no figure varies in either group there is no
    interval and no minimum detectable effect (NaN: empty in measure.csv)."""
    got = uplift(np.full(40, value), np.full(35, value))
    assert got.uplift == pytest.approx(0.0)
    assert np.isnan(got.se) and np.isnan(got.low) and np.isnan(got.high)
    assert np.isnan(got.mde) and not got.significant
    varies = uplift(np.full(40, value), np.r_[np.full(34, value), value + 1])
    assert varies.se > 0 and np.isfinite(varies.low)


def test_the_verdict_says_why_there_is_no_interval_in_large_groups_too() -> None:
    """Issue 13 re-trial: with 30 customers or more in each group and no margin varying, the
    verdict said only the window's dates (or 'no interval'), not why."""
    from engine.history.measure_verdict import judge

    flat = uplift(np.zeros(646), np.zeros(67), np.zeros(646), np.zeros(67))
    over = 100  # the day after the last transaction: past the window's end
    assert judge(flat, 646, 67, 0, 30, over) == (
        "too early to tell: no minimum detectable effect: no margin varies in either group",
        None)
    assert judge(flat, 646, 67, 0, 30, 20)[0] == (
        "too early to tell: the window ends 1970-01-30, the transactions 1970-01-20; no "
        "minimum detectable effect: no margin varies in either group")
    varies = uplift(np.r_[np.zeros(645), 1.0], np.zeros(67))
    assert judge(varies, 646, 67, 0, 30, over)[0] == "not significant"
