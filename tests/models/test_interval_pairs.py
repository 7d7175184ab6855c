"""The delta method's nine predictions of the BG/NBD family share one search for the distinct
(x, T) pairs of the rows (at a million customers each search cost about 40 ms of CPU)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engine.value.models import (
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    _beta_geo,
    gamma_gamma,
    mbgnbd,
)
from engine.value.models._common import unique_rows
from engine.value.models.uncertainty import clv_intervals


def test_clv_intervals_find_the_pairs_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    big_t = rng.integers(7, 547, 1_500) / 7.0
    x, tx, t = mbgnbd.simulate({"r": 0.5, "alpha": 6.9, "a": 0.95, "b": 2.1}, big_t, rng=rng)
    m = gamma_gamma.simulate({"p": 6.3, "q": 3.6, "gamma": 15.0}, x, rng=rng)
    purchases = ModifiedBetaGeoFitter().fit(x, tx, t)
    spend = GammaGammaFitter().fit(x[x > 0], m[x > 0])
    expected = purchases.discounted_expected_purchases(
        x, tx, t, horizon=12, discount_rate_per_period=0.01, periods_per_step=30 / 7)
    calls: list[int] = []

    def counting(*columns: Any) -> Any:
        calls.append(len(columns))
        return unique_rows(*columns)

    monkeypatch.setattr(_beta_geo, "unique_rows", counting)
    bounds = clv_intervals(purchases, spend, x, tx, t, m, horizon=12,
                           discount_rate_per_period=0.01, periods_per_step=30 / 7)
    assert calls == [2]
    spend_each = spend.expected_average_spend(x, m)
    assert np.array_equal(bounds.customers.estimate, spend_each * expected)
