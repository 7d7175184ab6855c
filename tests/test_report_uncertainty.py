"""The model equity of a segment (a value tier, a lifecycle stage) and its interval, as the
report shows them: from the delta method of the total (engine/value/models/uncertainty.py),
not from the customers' own bounds added up."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from engine.data.load import load_transactions
from engine.project.config import load_config
from engine.report.equity import EquitySettings, equity_customers, monthly_figures
from engine.value.models import BetaGeoFitter, GammaGammaFitter, ShiftedBetaGeoFitter, sbg
from engine.value.models.uncertainty import (
    ClvIntervals,
    clv_intervals,
    residual_value_intervals,
)
from tests import test_report_equity as equity
from tests.models.conftest import synthetic_draw

CLV = {"horizon": 12, "discount_rate_per_period": 0.01, "periods_per_step": 30 / 7}


@pytest.fixture(scope="module")
def purchases() -> tuple[BetaGeoFitter, GammaGammaFitter, tuple[np.ndarray, ...]]:
    x, tx, t, m = synthetic_draw(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg = BetaGeoFitter().fit(x, tx, t)
        gg = GammaGammaFitter().fit(x[x > 0], m[x > 0])
    return bg, gg, (x, tx, t, m)


def test_one_segment_is_the_total_and_each_segment_is_bounded_as_its_own_total(
        purchases: tuple[BetaGeoFitter, GammaGammaFitter, tuple[np.ndarray, ...]]) -> None:
    bg, gg, (x, tx, t, m) = purchases
    rate = np.where(x > 2, 0.3, 0.4)

    def bounds(keep: np.ndarray) -> ClvIntervals:
        return clv_intervals(bg, gg, x[keep], tx[keep], t[keep], m[keep], margin_rate=rate[keep],
                             level=0.9, **CLV)  # type: ignore[arg-type]

    everyone = np.ones(len(x), dtype=bool)
    whole = bounds(everyone)
    one = whole.segments(np.zeros(len(x), dtype=np.intp), 1)
    assert (one.estimate[0], one.lower[0], one.upper[0]) == pytest.approx(
        (whole.total.estimate[0], whole.total.lower[0], whole.total.upper[0]), rel=1e-12)
    group = np.minimum(x, 2).astype(np.intp)  # none, one and several repeat purchases
    segs = whole.segments(group, 3)
    assert segs.estimate.sum() == pytest.approx(whole.total.estimate[0], rel=1e-12)
    lo, hi = whole.customers.lower, whole.customers.upper
    for k in range(3):
        # the same parameters valued on that segment's customers alone
        part = bounds(group == k)
        assert (segs.estimate[k], segs.lower[k], segs.upper[k]) == pytest.approx(
            (part.total.estimate[0], part.total.lower[0], part.total.upper[0]), rel=1e-9)
        # narrower than the customers' bounds added up (which count every shared error anew)
        assert segs.upper[k] - segs.lower[k] < (hi - lo)[group == k].sum()


def test_subscription_segments_are_bounded_the_same_way() -> None:
    rng = np.random.default_rng(5)
    n, churned = sbg.simulate({"alpha": 0.9, "beta": 4.5}, rng.integers(1, 30, 2_000), rng=rng)
    model = ShiftedBetaGeoFitter().fit(n, churned)
    margin = np.where(churned == 1, 0.0, rng.choice([3.0, 6.0, 10.0], len(n)))

    def bounds(keep: np.ndarray) -> ClvIntervals:
        return residual_value_intervals(model, n[keep], margin[keep], discount_rate=0.01,
                                        horizon=12, level=0.9)

    whole = bounds(np.ones(len(n), dtype=bool))
    group = (margin > 5).astype(np.intp)
    segs = whole.segments(group, 2)
    for k in range(2):
        part = bounds(group == k)
        assert (segs.estimate[k], segs.lower[k], segs.upper[k]) == pytest.approx(
            (part.total.estimate[0], part.total.lower[0], part.total.upper[0]), rel=1e-9)


def test_the_formula_equity_counts_active_customers_who_bought_on_more_than_one_day(
        make_project: Callable[..., Path]) -> None:
    """The purchases of tests/test_report_equity.py, as of 2024-05-01 with W = 60 days: a, c,
    d and e bought since Mar 2; d on one day only (its refund is not a purchase), b lapsed."""
    project = make_project(equity.CONFIG, tx=equity.TX)
    tx = load_transactions(load_config(project))
    assert tx.customer_ids[equity_customers(tx, 60)].tolist() == ["a", "c", "e"]
    assert tx.customer_ids[equity_customers(tx, 59)].tolist() == ["a", "c", "e"]
    assert tx.customer_ids[equity_customers(tx, 31)].tolist() == ["a", "e"]
    # what the last month's equity sums: m x r / (1 + d - r) over exactly those
    f = monthly_figures(tx, EquitySettings(30, equity.D, 2, 60))
    r = f["retention_rate"].iloc[-1]
    m = {"a": 100 / 3, "c": 33 / 2, "e": 55 / 2}  # margin so far / active periods
    assert f["customer_equity"].iloc[-1] == pytest.approx(sum(m.values()) * r / (1 + equity.D - r))
