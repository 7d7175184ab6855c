"""MBG/NBD: CDNOW figures from lifetimes, an independent scalar reference, the analytic
gradient, predictions against their definitions, and recovery of simulated parameters."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.special import hyp2f1

from engine.value.models import BetaGeoFitter, ModifiedBetaGeoFitter, _beta_geo, mbgnbd
from engine.value.models._common import unique_rows

from .reference import ref_mbgnbd_ll, ref_mbgnbd_terms
from .test_math import arrays

MBG = {"r": 0.5248, "alpha": 6.183, "a": 0.8914, "b": 1.614}


def _fitted(params: dict[str, float]) -> ModifiedBetaGeoFitter:
    model = ModifiedBetaGeoFitter()
    model.params_ = dict(params)
    return model


def test_mbgnbd_matches_lifetimes_on_cdnow_sample(sample: pd.DataFrame) -> None:
    """Reference figures from lifetimes 0.11.3 (``ModifiedBetaGeoFitter``, numpy 2.4,
    scipy 1.17, pandas 3.1), obtained in a separate virtual environment with::

        s = lifetimes.utils.summary_data_from_transaction_data(
            cal, "customer_id", "date", "dollars", observation_period_end="1997-09-30",
            freq="D")  # cal = CDNOW_sample.txt rows up to 1997-09-30
        s["recency"] /= 7; s["T"] /= 7
        m = ModifiedBetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
        m.summary; m.conditional_probability_alive(x, t_x, T)
        m.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T)
        m.expected_number_of_purchases_up_to_time([1, 39, 78])
        -len(s) * ModifiedBetaGeoFitter._negative_log_likelihood(
            np.log(m.params_), s["frequency"], s["recency"], s["T"], np.ones(len(s)), 0)

    which gave r 0.524843 (se 0.083268), alpha 6.183082 (se 0.695620), a 0.891360
    (se 0.154790), b 1.614003 (se 0.537495), log-likelihood -9582.1357 (BG/NBD: -9582.43).
    """
    model = ModifiedBetaGeoFitter().fit(*arrays(sample))
    lifetimes = {"r": 0.524843, "alpha": 6.183082, "a": 0.891360, "b": 1.614003}
    lifetimes_se = {"r": 0.083268, "alpha": 0.695620, "a": 0.154790, "b": 0.537495}
    for name, value in lifetimes.items():
        assert model.params_[name] == pytest.approx(value, rel=1e-5), name
        assert model.standard_errors_[name] == pytest.approx(lifetimes_se[name], rel=1e-3)
    assert model.log_likelihood_ == pytest.approx(-9582.1357, abs=1e-4)
    assert model.n_customers_ == 2357 and model.converged_
    rows = [(0, 0.0, 38.86), (0, 0.0, 10.0), (2, 30.43, 38.86), (7, 29.43, 38.86),
            (1, 1.71, 38.86)]
    p_alive = [0.38971519, 0.52217231, 0.7061257, 0.62263863, 0.1708201]
    in_39_weeks = [0.15395428, 0.48251723, 1.26266922, 3.16679908, 0.18878993]
    for (x, tx, t), p, e in zip(rows, p_alive, in_39_weeks, strict=True):
        assert float(model.p_alive(x, tx, t)[0]) == pytest.approx(p, rel=1e-5)
        assert float(model.expected_purchases(39, x, tx, t)[0]) == pytest.approx(e, rel=1e-5)
    np.testing.assert_allclose(model.expected_purchases_new([1.0, 39.0, 78.0]),
                               [0.05306033, 1.18227985, 1.80363052], rtol=1e-5)
    # the one-time buyers BG/NBD calls certainly alive
    bg = BetaGeoFitter().fit(*arrays(sample))
    assert float(bg.p_alive(0, 0.0, 38.86)[0]) == 1.0


@pytest.mark.parametrize("params", [MBG, {"r": 1.3, "alpha": 0.7, "a": 2.2, "b": 0.4},
                                    {"r": 0.05, "alpha": 30.0, "a": 0.3, "b": 9.0}])
def test_mbgnbd_log_likelihood_against_reference(sample: pd.DataFrame,
                                                 params: dict[str, float]) -> None:
    x, tx, t = arrays(sample)
    rows = np.random.default_rng(4).choice(len(x), 300, replace=False)
    rows = np.r_[rows, np.argmax(x), np.flatnonzero(x == 0)[:5]]
    ref = [ref_mbgnbd_ll(*params.values(), x[i], tx[i], t[i]) for i in rows]
    got = _fitted(params).log_likelihood(x[rows], tx[rows], t[rows])
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    data = _beta_geo.FitData.build(x, tx, t, np.ones_like(x), shift=1)
    total = _beta_geo.ll_and_grad(np.array(list(params.values())), data)[0]
    assert total == pytest.approx(float(mbgnbd.log_likelihood(params, x, tx, t).sum()),
                                  rel=1e-12)


def test_mbgnbd_predictions_against_definitions() -> None:
    """P(alive) = the alive term of the likelihood over the likelihood; expectations by
    numerical integration over p (the purchase rate integrated in closed form):
    E[X(t)] = E[(1-p)/p (1 - (alpha/(alpha+p t))^r)], p ~ Beta(a, b), and given alive
    E[Y(t)] = E[1/p (1 - ((alpha+T)/(alpha+T+p t))^(r+x))], p ~ Beta(a, b+x+1)."""
    model = _fitted(MBG)
    r, alpha, a, b = MBG.values()
    for t in (1.0, 39.0, 78.0):
        new, _ = integrate.quad(lambda p, t=t: (1 - p) / p * -math.expm1(
            r * math.log(alpha / (alpha + p * t))) * stats.beta.pdf(p, a, b), 0, 1, limit=200)
        assert float(model.expected_purchases_new(t)[0]) == pytest.approx(new, rel=1e-7)
        for x, tx, big_t in [(0, 0.0, 38.0), (0, 0.0, 150.0), (2, 30.43, 38.86),
                             (7, 29.43, 38.86), (25, 37.0, 38.0)]:
            alive, left = ref_mbgnbd_terms(r, alpha, a, b, x, tx, big_t)
            p_alive = alive / (alive + left)
            assert float(model.p_alive(x, tx, big_t)[0]) == pytest.approx(p_alive, rel=1e-10)
            if_alive, _ = integrate.quad(
                lambda p, x=x, big_t=big_t, t=t: -math.expm1(
                    (r + x) * math.log((alpha + big_t) / (alpha + big_t + p * t)))
                / p * stats.beta.pdf(p, a, b + x + 1), 0, 1, limit=200)
            got = float(model.expected_purchases(t, x, tx, big_t)[0])
            assert got == pytest.approx(p_alive * if_alive, rel=1e-7)
            # and lifetimes' closed form, with its own 2F1 arguments (no Euler transform)
            z = t / (alpha + big_t + t)
            closed = (a + b + x) / (a - 1) * (1 - hyp2f1(r + x, b + x + 1, a + b + x, z)
                                              * ((alpha + big_t) / (alpha + big_t + t)) ** (r + x))
            assert got == pytest.approx(closed * p_alive, rel=1e-9)


def test_mbgnbd_discounting_adds_up_the_steps() -> None:
    model = _fitted(MBG)
    x = np.array([0.0, 0.0, 4.0, 12.0])
    tx = np.array([0.0, 0.0, 30.0, 38.0])
    t = np.array([5.0, 150.0, 38.0, 39.0])
    step, horizon = 30 / 7, 12
    flat = model.discounted_expected_purchases(x, tx, t, horizon=horizon,
                                               discount_rate_per_period=0.0,
                                               periods_per_step=step)
    np.testing.assert_allclose(flat, model.expected_purchases(horizon * step, x, tx, t),
                               rtol=1e-10)
    discounted = model.discounted_expected_purchases(x, tx, t, horizon=horizon,
                                                     discount_rate_per_period=0.02,
                                                     periods_per_step=step)
    manual = sum((model.expected_purchases(k * step, x, tx, t)
                  - model.expected_purchases((k - 1) * step, x, tx, t)) / 1.02**k
                 for k in range(1, horizon + 1))
    np.testing.assert_allclose(discounted, manual, rtol=1e-10)


def test_one_time_buyers_can_leave() -> None:
    """BG/NBD: P(alive) = 1 for every one-time buyer; MBG/NBD: it falls with the time since
    their only purchase."""
    model = _fitted(MBG)
    weeks = np.array([1.0, 13.0, 52.0, 104.0, 156.0])
    p = model.p_alive(np.zeros(5), np.zeros(5), weeks)
    assert np.all(np.diff(p) < 0) and p[0] < 1
    r, alpha, a, b = MBG.values()
    np.testing.assert_allclose(p, 1 / (1 + a / b * ((alpha + weeks) / alpha) ** r), rtol=1e-12)
    assert p[-1] < 0.3


def test_mbgnbd_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(12)
    truth = {"r": 0.8, "alpha": 5.0, "a": 0.6, "b": 2.5}
    big_t = rng.integers(7, 547, 40_000) / 7.0
    x, tx, t = mbgnbd.simulate(truth, big_t, rng=rng, time_unit_days=None)
    model = ModifiedBetaGeoFitter().fit(x, tx, t)
    for name, value in truth.items():
        assert abs(model.params_[name] - value) < 4 * model.standard_errors_[name], name


def test_mbgnbd_compression_and_weights_give_the_same_fit(sample: pd.DataFrame) -> None:
    x, tx, t = arrays(sample)
    auto = ModifiedBetaGeoFitter().fit(x, tx, t)
    plain = ModifiedBetaGeoFitter().fit(x, tx, t, weights=np.ones_like(x))
    (ux, utx, ut), _, counts = unique_rows(x, tx, t)
    grouped = ModifiedBetaGeoFitter().fit(ux, utx, ut, weights=counts)
    for other in (plain, grouped):
        for name in MBG:
            assert other.params_[name] == pytest.approx(auto.params_[name], rel=1e-5)
        assert other.log_likelihood_ == pytest.approx(auto.log_likelihood_, rel=1e-10)
    assert grouped.n_customers_ == auto.n_customers_ == len(x)
