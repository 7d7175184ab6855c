"""Gradients, standard errors, compression, predictions and simulation recovery."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.special import gammaln, hyp2f1

from engine.value.models import (
    BetaGeoFitter,
    GammaGammaFitter,
    ParetoNBDFitter,
    _beta_geo,
    bgnbd,
    gamma_gamma,
    mbgnbd,
)
from engine.value.models._common import unique_rows

from .reference import ref_pareto_ll

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
PN = {"r": 0.5533, "alpha": 10.58, "s": 0.6062, "beta": 11.67}


def arrays(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (frame["frequency_cal"].to_numpy(), frame["recency_cal"].to_numpy(),
            frame["T_cal"].to_numpy())


def central_gradient(f: object, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    out = np.empty_like(theta)
    for i in range(len(theta)):
        e = np.zeros_like(theta)
        e[i] = h * theta[i]
        out[i] = (f(theta + e) - f(theta - e)) / (2 * e[i])  # type: ignore[operator]
    return out


@pytest.mark.parametrize("model", [bgnbd, mbgnbd])  # the shared fit, with shift 0 and 1
@pytest.mark.parametrize("theta", [[0.243, 4.414, 0.793, 2.426], [0.5248, 6.183, 0.8914, 1.614],
                                   [1.7, 0.3, 3.1, 0.6], [0.05, 40.0, 0.2, 12.0]])
def test_beta_geo_analytic_gradient(sample: pd.DataFrame, model: Any, theta: list[float]
                                    ) -> None:
    x, tx, t = arrays(sample)
    shift = 1 if model is mbgnbd else 0
    data = _beta_geo.FitData.build(x, tx, t, np.ones_like(x), shift=shift)
    th = np.array(theta)
    ll, grad = _beta_geo.ll_and_grad(th, data)
    numeric = central_gradient(lambda v: _beta_geo.ll_and_grad(v, data)[0], th)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-4)
    assert ll == pytest.approx(float(model.log_likelihood(dict(zip(BG, th, strict=True)),
                                                          x, tx, t).sum()), rel=1e-12)


@pytest.mark.parametrize("theta", [[6.25, 3.74, 15.44], [0.8, 1.5, 3.0], [20.0, 9.0, 90.0]])
def test_gamma_gamma_analytic_gradient(sample: pd.DataFrame, theta: list[float]) -> None:
    k = sample["frequency_cal"] > 0
    x = sample.loc[k, "frequency_cal"].to_numpy()
    m = sample.loc[k, "monetary_value_cal"].to_numpy()
    data = gamma_gamma._Data.build(x, m, np.ones_like(x))
    th = np.array(theta)
    _, grad = gamma_gamma._ll_and_grad(th, data)
    numeric = central_gradient(lambda v: gamma_gamma._ll_and_grad(v, data)[0], th)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-4)


def test_standard_errors_match_an_independent_hessian(sample: pd.DataFrame) -> None:
    """Inverse of the Hessian of the total LL on the natural scale, by second differences of
    the per-customer likelihood (no gradient involved)."""
    x, tx, t = arrays(sample)
    bg = BetaGeoFitter().fit(x, tx, t)
    th = np.array(list(bg.params_.values()))

    def total(v: np.ndarray) -> float:
        return float(bgnbd.log_likelihood(dict(zip(BG, v, strict=True)), x, tx, t).sum())

    k = len(th)
    hess = np.empty((k, k))
    h = 1e-4 * th
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            hess[i, j] = (total(th + ei + ej) - total(th + ei - ej) - total(th - ei + ej)
                          + total(th - ei - ej)) / (4 * h[i] * h[j])
    se = np.sqrt(np.diag(np.linalg.inv(-hess)))
    np.testing.assert_allclose(list(bg.standard_errors_.values()), se, rtol=2e-3)
    frame = bg.summary()
    assert list(frame.columns) == ["estimate", "std_error", "lower_95", "upper_95"]


def test_compression_and_weights_give_the_same_fit(sample: pd.DataFrame) -> None:
    x, tx, t = arrays(sample)
    auto = BetaGeoFitter().fit(x, tx, t)
    plain = BetaGeoFitter().fit(x, tx, t, weights=np.ones_like(x))
    (ux, utx, ut), _, counts = unique_rows(x, tx, t)
    assert len(counts) < len(x) and counts.sum() == len(x)
    grouped = BetaGeoFitter().fit(ux, utx, ut, weights=counts)
    for other in (plain, grouped):
        for name in BG:
            assert other.params_[name] == pytest.approx(auto.params_[name], rel=1e-5)
        assert other.log_likelihood_ == pytest.approx(auto.log_likelihood_, rel=1e-10)
    assert grouped.n_customers_ == auto.n_customers_ == len(x)


def test_unique_rows_agrees_with_numpy() -> None:
    rng = np.random.default_rng(3)
    cols = [rng.integers(0, 4, 500).astype(float), rng.integers(0, 3, 500) / 7.0,
            rng.integers(0, 5, 500) / 7.0]
    (u0, u1, u2), inverse, counts = unique_rows(*cols)
    stacked = np.stack(cols, axis=1)
    np.testing.assert_array_equal(np.stack([u0, u1, u2], axis=1)[inverse], stacked)
    assert len(counts) == len(np.unique(stacked, axis=0))
    np.testing.assert_array_equal(np.bincount(inverse), counts)


def test_bgnbd_predictions_against_paper_formulas() -> None:
    """FHL eq. 9 and 10 with the paper's 2F1 arguments (no Euler transformation)."""
    bg = BetaGeoFitter()
    bg.params_ = dict(BG)
    r, alpha, a, b = BG.values()
    for t in (0.5, 10.0, 39.0, 78.0):
        z = t / (alpha + t)
        eq9 = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))
        assert float(bg.expected_purchases_new(t)[0]) == pytest.approx(eq9, rel=1e-10)
        for x, tx, big_t in [(0, 0.0, 38.0), (2, 30.43, 38.86), (7, 29.43, 38.86),
                             (25, 37.0, 38.0)]:
            zz = t / (alpha + big_t + t)
            num = (a + b + x - 1) / (a - 1) * (
                1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x)
                * hyp2f1(r + x, b + x, a + b + x - 1, zz))
            den = 1 + (x > 0) * a / (b + x - 1) * ((alpha + big_t) / (alpha + tx)) ** (r + x)
            got = float(bg.expected_purchases(t, x, tx, big_t)[0])
            assert got == pytest.approx(num / den, rel=1e-9)
            assert float(bg.p_alive(x, tx, big_t)[0]) == pytest.approx(1 / den, rel=1e-12)


def test_pareto_predictions_against_definitions() -> None:
    pn = ParetoNBDFitter()
    pn.params_ = dict(PN)
    r, alpha, s, beta = PN.values()
    # E[X(t)] = E[lambda] E[(1 - exp(-mu t)) / mu], mu ~ Gamma(s, rate beta)
    for t in (1.0, 39.0):
        inner, _ = integrate.quad(lambda mu, t=t: -math.expm1(-mu * t) / mu
                                  * stats.gamma.pdf(mu, s, scale=1 / beta), 0, np.inf)
        assert float(pn.expected_purchases_new(t)[0]) == pytest.approx(r / alpha * inner,
                                                                      rel=1e-7)
    # P(alive) = (alive-at-T term of the likelihood) / likelihood
    for x, tx, big_t in [(0, 0.0, 30.0), (3, 20.0, 38.0), (26, 30.86, 31.0), (1, 38.0, 38.0)]:
        log_alive = (math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha)
                     + s * math.log(beta) - (r + x) * math.log(alpha + big_t)
                     - s * math.log(beta + big_t))
        expected = math.exp(log_alive - ref_pareto_ll(r, alpha, s, beta, x, tx, big_t))
        assert float(pn.p_alive(x, tx, big_t)[0]) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("model_cls", [BetaGeoFitter, ParetoNBDFitter])
def test_discounting_and_clv(model_cls: type) -> None:
    model = model_cls()
    model.params_ = dict(BG if model_cls is BetaGeoFitter else PN)
    x = np.array([0.0, 1.0, 4.0, 12.0])
    tx = np.array([0.0, 5.0, 30.0, 38.0])
    t = np.array([20.0, 38.0, 38.0, 39.0])
    step, horizon = 30 / 7, 12
    flat = model.discounted_expected_purchases(x, tx, t, horizon=horizon,
                                               discount_rate_per_period=0.0,
                                               periods_per_step=step)
    np.testing.assert_allclose(flat, model.expected_purchases(horizon * step, x, tx, t),
                               rtol=1e-10)
    gg = GammaGammaFitter()
    gg.params_ = dict(GG)
    m = np.array([0.0, 20.0, 35.0, 60.0])
    clv = gg.clv(model, x, tx, t, m, horizon=horizon, discount_rate_per_period=0.01,
                 periods_per_step=step, margin_rate=0.3)
    # lifetimes' scheme, written out: purchases of step k discounted by (1 + d)^k
    manual = np.zeros(4)
    for k in range(1, horizon + 1):
        bought = (model.expected_purchases(k * step, x, tx, t)
                  - model.expected_purchases((k - 1) * step, x, tx, t))
        manual += bought / 1.01**k
    np.testing.assert_allclose(clv, 0.3 * gg.expected_average_spend(x, m) * manual, rtol=1e-10)
    assert np.all(clv > 0)
    lower = gg.clv(model, x, tx, t, m, horizon=horizon, discount_rate_per_period=0.05,
                   periods_per_step=step)
    assert np.all(lower < clv / 0.3)


def test_fits_recover_simulated_parameters() -> None:
    rng = np.random.default_rng(11)
    big_t = rng.integers(7, 547, 40_000) / 7.0
    x, tx, t = bgnbd.simulate(BG, big_t, rng=rng, time_unit_days=None)
    bg = BetaGeoFitter().fit(x, tx, t)
    for name, value in BG.items():
        assert abs(bg.params_[name] - value) < 4 * bg.standard_errors_[name], name
    m = gamma_gamma.simulate(GG, x, rng=rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        gg = GammaGammaFitter().fit(x, m)
    for name, value in GG.items():
        assert abs(gg.params_[name] - value) < 4 * gg.standard_errors_[name], name


def test_penalizer_shrinks_parameters(sample: pd.DataFrame) -> None:
    x, tx, t = arrays(sample)
    plain = BetaGeoFitter().fit(x, tx, t)
    shrunk = BetaGeoFitter(penalizer=0.1).fit(x, tx, t)
    assert (sum(v**2 for v in shrunk.params_.values())
            < sum(v**2 for v in plain.params_.values()))
    assert shrunk.log_likelihood_ < plain.log_likelihood_


def test_gamma_gamma_density_integrates_to_one() -> None:
    """exp(note 025 eq. 3) is a density in mbar for each x (checks the log-likelihood terms)."""
    p, q, g = GG.values()
    for x in (1.0, 3.0, 10.0):
        def dens(m: float, x: float = x) -> float:
            return math.exp(float(gammaln(p * x + q) - gammaln(p * x) - gammaln(q))
                            + q * math.log(g) + (p * x - 1) * math.log(m) + p * x * math.log(x)
                            - (p * x + q) * math.log(g + m * x))
        total, _ = integrate.quad(dens, 0, np.inf, limit=200)
        assert total == pytest.approx(1.0, rel=1e-7)


def test_time_unit_only_rescales_alpha(sample: pd.DataFrame) -> None:
    """Fitting in days instead of weeks multiplies alpha by 7 and changes nothing else."""
    x, tx, t = arrays(sample)
    weeks = BetaGeoFitter().fit(x, tx, t)
    days = BetaGeoFitter().fit(x, 7 * tx, 7 * t)
    assert days.params_["alpha"] == pytest.approx(7 * weeks.params_["alpha"], rel=1e-5)
    for name in ("r", "a", "b"):
        assert days.params_[name] == pytest.approx(weeks.params_[name], rel=1e-5)
    np.testing.assert_allclose(days.p_alive(x, 7 * tx, 7 * t), weeks.p_alive(x, tx, t),
                               rtol=1e-5)
    assert days.log_likelihood_ == pytest.approx(weeks.log_likelihood_ - np.log(7) * x.sum(),
                                                 rel=1e-9)
