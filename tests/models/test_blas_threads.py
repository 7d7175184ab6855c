"""The fitters run their optimiser with BLAS limited to one thread.

scipy's L-BFGS-B makes tiny BLAS calls at every step; with OpenBLAS's thread pool awake, its
spinning threads take a core from the likelihood's numpy work between those calls (on 2 cores a
million-customer BG/NBD fit took twice the CPU time, for the same parameters).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import threadpoolctl
from scipy import optimize

from engine.value.models import (
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)
from engine.value.models.sbg import ShiftedBetaGeoFitter
from engine.value.models.sbg import simulate as simulate_contracts
from tests.models.conftest import synthetic_draw


def _blas_threads() -> list[int]:
    return [int(i["num_threads"]) for i in threadpoolctl.threadpool_info()
            if i["user_api"] == "blas"]


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The BLAS thread counts in force at each call of scipy.optimize.minimize."""
    calls: list[list[int]] = []
    minimize = optimize.minimize

    def recording(*args: Any, **kwargs: Any) -> Any:
        calls.append(_blas_threads())
        return minimize(*args, **kwargs)

    monkeypatch.setattr(optimize, "minimize", recording)
    return calls


def _draw() -> tuple[np.ndarray, ...]:
    return synthetic_draw(3)


@pytest.mark.parametrize("fitter", [BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter])
def test_purchase_model_fits_use_one_blas_thread(fitter: type, seen: list[list[int]]) -> None:
    x, tx, t, _ = _draw()
    fitter().fit(x, tx, t)
    assert seen and all(threads and set(threads) == {1} for threads in seen), seen


def test_spend_and_contract_fits_use_one_blas_thread(seen: list[list[int]]) -> None:
    x, _, _, m = _draw()
    GammaGammaFitter().fit(x[x > 0], m[x > 0])
    renewals, churned = simulate_contracts({"alpha": 0.7, "beta": 1.2},
                                           np.full(500, 8.0), rng=np.random.default_rng(1))
    ShiftedBetaGeoFitter().fit(renewals, churned)
    assert len(seen) == 2 and all(set(threads) == {1} for threads in seen), seen


def test_the_limit_is_lifted_after_the_fit() -> None:
    before = _blas_threads()
    x, tx, t, _ = _draw()
    BetaGeoFitter().fit(x, tx, t)
    assert _blas_threads() == before
