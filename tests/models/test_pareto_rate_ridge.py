"""Pareto/NBD on data whose purchase rates hardly vary between customers: the likelihood keeps
rising as r and alpha grow together (the mean rate r/alpha staying put), so there is no finite
estimate. The fit says so, with the mean purchase rate, as soon as its search is on that ridge
(it used to climb it for half a minute, each step dearer: 2F1 near z = 1, and end on a NaN)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine.value.models import ParetoNBDFitter
from engine.value.models._common import ConvergenceError


def test_pareto_nbd_without_heterogeneous_purchase_rates_says_so() -> None:
    rng = np.random.default_rng(11)
    n = 3000
    t = rng.integers(7, 730, n) / 7.0
    rate = 0.05  # purchases per week, the same for every customer
    alive_for = np.minimum(rng.exponential(rng.gamma(0.5, 100.0, n)), t)
    x = rng.poisson(rate * alive_for).astype(float)
    tx = np.where(x > 0, alive_for * rng.random(n) ** (1 / np.maximum(x, 1)), 0.0)
    with pytest.raises(ConvergenceError) as info:
        ParetoNBDFitter().fit(x, tx, t)
    found = re.fullmatch(
        r"ParetoNBDFitter: the likelihood still rises as r and alpha grow together \(r = \S+ "
        r"> 20, the largest the search allows\), with a mean purchase rate r/alpha = (\S+) "
        r"per time unit: purchase rates hardly vary between customers in these data, and the "
        r"Pareto/NBD has no finite estimate \(its limit, r -> infinity, gives every customer "
        r"that one rate\)\.", info.value.reason)
    assert found and float(found.group(1)) == pytest.approx(rate, rel=0.2)
