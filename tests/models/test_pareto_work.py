"""How much work the Pareto/NBD likelihood does: its costly part, the Gauss hypergeometric
function, runs once per distinct (x, u) pair (u = t_x or T), not once per customer or per
distinct (x, t_x, T) row; and that changes no figure."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engine.value.models import ParetoNBDFitter, bgnbd, pareto_nbd_ll
from engine.value.models._common import unique_rows

from .reference import ref_pareto_ll


def draw(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    big_t = rng.integers(7, 547, n) / 7.0  # whole days, in weeks
    return bgnbd.simulate({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, big_t, rng=rng,
                          time_unit_days=7.0)


@pytest.fixture()
def sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many (x, u) rows each evaluation of the hypergeometric terms of A0 is given (value
    only, for the predictions; value and gradient, for the fit)."""
    seen: list[int] = []
    for name in ("_log_a0_term", "_a0_term_and_grad"):
        real = getattr(pareto_nbd_ll, name)

        def counting(u: np.ndarray, *args: Any, _real: Any = real) -> Any:
            seen.append(len(u))
            return _real(u, *args)

        monkeypatch.setattr(pareto_nbd_ll, name, counting)
    return seen


def test_hypergeometric_terms_run_once_per_distinct_pair(sizes: list[int]) -> None:
    x, tx, t = draw(20000)
    (xu, txu, tu), _, _ = unique_rows(x, tx, t)
    (pairs, _), _, _ = unique_rows(np.concatenate([xu, xu]), np.concatenate([txu, tu]))
    assert len(pairs) < 0.6 * len(xu)  # 4,490 pairs of 8,189 rows: what makes it worth it
    ParetoNBDFitter().fit(x, tx, t)
    assert sizes and max(sizes) <= len(pairs)
    sizes.clear()
    ParetoNBDFitter(penalizer=0.0).fit(x, tx, t, weights=np.ones_like(x))
    assert max(sizes) <= len(pairs)


def test_predictions_evaluate_each_pair_once(sizes: list[int]) -> None:
    x, tx, t = draw(20000)
    pn = ParetoNBDFitter()
    pn.params_ = {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}
    alive = pn.p_alive(x, tx, t)
    (pairs, _), _, _ = unique_rows(np.concatenate([x, x]), np.concatenate([tx, t]))
    assert max(sizes) <= len(pairs) < len(x) / 4  # 4,490 pairs of 20,000 customers
    rows = np.random.default_rng(1).choice(len(x), 200, replace=False)
    r, alpha, s, beta = pn.params_.values()
    log_lik = pn.log_likelihood(x[rows], tx[rows], t[rows])
    np.testing.assert_allclose(
        log_lik, [ref_pareto_ll(r, alpha, s, beta, x[i], tx[i], t[i]) for i in rows], rtol=1e-9)
    assert np.all((alive > 0) & (alive <= 1))


def test_a_fit_evaluates_the_likelihood_a_few_dozen_times(sizes: list[int]) -> None:
    """With the analytic gradient, one evaluation per step of the optimiser (and five for the
    Hessian); numerical gradients took five to nine per step, 160 to 190 in all."""
    x, tx, t = draw(20000)
    ParetoNBDFitter().fit(x, tx, t)
    assert len(sizes) <= 60


@pytest.mark.parametrize("theta", [(0.55, 10.58, 0.61, 11.67), (0.5, 8.0, 0.7, 14.0),
                                   (0.6, 11.0, 0.5, 11.0), (2.0, 3.0, 0.3, 0.2)])
def test_gradient_against_central_differences(theta: tuple[float, ...]) -> None:
    """Both branches of A0 (alpha >= beta and alpha < beta) and z beyond the series (the last
    case: z = (alpha - beta) / (alpha + u) reaches 0.93, where scipy's hyp2f1 and central
    differences give the derivatives in b and c)."""
    x, tx, t = draw(3000)
    (xu, txu, tu), _, w = unique_rows(x, tx, t)
    rows = pareto_nbd_ll.Rows(xu, txu, tu)
    w_x = np.asarray(np.bincount(rows.x_at, w), dtype=np.float64)
    params = np.array(theta)
    value, grad = pareto_nbd_ll.ll_and_grad(params, rows, w, w_x)

    def total(p: np.ndarray) -> float:
        lead, term1, term2 = pareto_nbd_ll.parts(p, rows)
        return float(np.sum(w * (lead + np.logaddexp(term1, term2))))

    assert value == pytest.approx(total(params), rel=1e-12)
    numeric = [(total(params * (1 + h)) - total(params * (1 - h))) / (2 * h[i] * params[i])
               for i, h in enumerate(1e-6 * np.eye(4))]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-3)
