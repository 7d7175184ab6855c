"""BG/NBD and MBG/NBD predictions evaluate the hypergeometric term once per distinct
(t, x, T): a holdout's length is given per customer but is the same for almost everyone
(``models.use: auto`` predicts 50,000 customers' holdout twice)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.special import hyp2f1

from engine.value.models import ModifiedBetaGeoFitter, _beta_geo, mbgnbd
from engine.value.models._common import unique_rows


def test_expected_purchases_with_one_horizon_per_customer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    big_t = rng.integers(1, 53, 1_500).astype(np.float64)  # whole weeks
    x, tx, t = mbgnbd.simulate({"r": 0.5, "alpha": 6.9, "a": 0.95, "b": 2.1}, big_t, rng=rng)
    model = ModifiedBetaGeoFitter().fit(x, tx, t)
    horizon = np.where(np.arange(len(x)) % 100 == 0, 26.0, 39.0)
    one_by_one = np.array([model.expected_purchases(h, xi, ti, Ti)[0]
                           for h, xi, ti, Ti in zip(horizon, x, tx, t, strict=True)])
    evaluated: list[int] = []

    def counting(*args: Any) -> Any:
        evaluated.append(int(np.broadcast(*args).size))
        return hyp2f1(*args)

    monkeypatch.setattr(_beta_geo, "hyp2f1", counting)
    together = model.expected_purchases(horizon, x, tx, t)
    assert evaluated == [len(unique_rows(horizon, x, t)[0][0])] and evaluated[0] < len(x) / 2
    assert np.array_equal(together, one_by_one)
