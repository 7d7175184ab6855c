"""A fit evaluates the likelihood at a point once: the start (checked, then the optimiser's first
step), the optimum (the optimiser's last point, the Hessian's centre and the log-likelihood
stored) are taken from the first evaluation. Each evaluation of Pareto/NBD at a million
customers costs about 30 ms of CPU."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from engine.value.models import (
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
    _beta_geo,
    gamma_gamma,
    pareto_nbd,
    sbg,
)
from tests.models.conftest import synthetic_draw


def _recording(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[bytes]:
    points: list[bytes] = []
    inner: Callable[..., Any] = getattr(module, name)

    def ll(theta: np.ndarray, *args: Any) -> Any:
        points.append(np.asarray(theta, dtype=np.float64).tobytes())
        return inner(theta, *args)

    monkeypatch.setattr(module, name, ll)
    return points


def _draw() -> tuple[np.ndarray, ...]:
    return synthetic_draw(5)


@pytest.mark.parametrize(("fitter", "module", "name"), [
    (BetaGeoFitter, _beta_geo, "ll_and_grad"),
    (ModifiedBetaGeoFitter, _beta_geo, "ll_and_grad"),
    (ParetoNBDFitter, pareto_nbd, "ll_and_grad"),
])
def test_purchase_models_evaluate_each_point_once(
        fitter: type, module: Any, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    points = _recording(monkeypatch, module, name)
    x, tx, t, _ = _draw()
    fitter().fit(x, tx, t)
    assert len(points) > 10 and len(set(points)) == len(points)


def test_spend_and_contract_models_evaluate_each_point_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    x, _, _, m = _draw()
    spend = _recording(monkeypatch, gamma_gamma, "_ll_and_grad")
    GammaGammaFitter().fit(x[x > 0], m[x > 0])
    contracts = _recording(monkeypatch, sbg, "_ll_and_grad")
    renewals, churned = sbg.simulate({"alpha": 0.7, "beta": 1.2}, np.full(500, 8.0),
                                     rng=np.random.default_rng(1))
    sbg.ShiftedBetaGeoFitter().fit(renewals, churned)
    for points in (spend, contracts):
        assert len(points) > 5 and len(set(points)) == len(points)
