"""How much work the Pareto/NBD likelihood does: its costly part, the Gauss hypergeometric
function, runs once per distinct (x, u) pair (u = t_x or T), not once per customer or per
distinct (x, t_x, T) row; and that changes no figure."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.special import hyp2f1

from engine.value.models import ParetoNBDFitter, bgnbd, pareto_nbd
from engine.value.models._common import unique_rows

from .reference import ref_pareto_ll


def draw(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    big_t = rng.integers(7, 547, n) / 7.0  # whole days, in weeks
    return bgnbd.simulate({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, big_t, rng=rng,
                          time_unit_days=7.0)


@pytest.fixture()
def sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every array handed to hyp2f1 by the Pareto/NBD module."""
    seen: list[int] = []

    def counting(*args: Any) -> Any:
        seen.append(max(np.size(a) for a in args))
        return hyp2f1(*args)

    monkeypatch.setattr(pareto_nbd, "hyp2f1", counting)  # the name the module calls
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
