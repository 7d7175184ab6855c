"""The Pareto/NBD series for 2F1 stops at once on a value that is not a number: an optimiser
that steps where the likelihood is NaN (a project of almost only one-time buyers) used to make
every evaluation sum 100,000 terms of NaN, so `cvm score` took minutes before giving up."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
import pytest

from engine.value.models import pareto_nbd_ll


@pytest.fixture()
def terms(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many terms of the series each call summed (the loop's range, counted)."""
    counted: list[int] = []

    def counting(*args: Any) -> Any:
        for k in builtins.range(*args):
            counted.append(k)
            yield k

    monkeypatch.setattr(pareto_nbd_ll, "range", counting, raising=False)
    return counted


def test_a_nan_stops_the_series_at_once(terms: list[int]) -> None:
    b = np.array([1.5, np.nan])
    c = np.array([3.0, 4.0])
    z = np.array([0.5, 0.3])
    lh, *_ = pareto_nbd_ll._log_h_and_grad(b, c, z)
    assert len(terms) < 100
    assert np.isnan(lh[1])


def test_finite_values_still_sum_to_the_closed_form(terms: list[int]) -> None:
    from scipy.special import hyp2f1

    b, c, z = np.array([1.5, 30.0]), np.array([3.0, 31.0]), np.array([0.5, 0.9])
    lh, *_ = pareto_nbd_ll._log_h_and_grad(b, c, z)
    assert np.allclose(lh, np.log(hyp2f1(1.0, b, c, z)), rtol=1e-13)
    assert 0 < len(terms) < 1000
