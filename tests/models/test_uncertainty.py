"""CLV intervals: coverage on data simulated from known parameters, agreement with a
parametric bootstrap, and the pieces (covariance, spend gradient) against independent forms.

"True value" in the coverage tests: the model CLV of each simulated customer given their
simulated history, computed at the TRUE parameters (the expectation the interval bounds);
summed, the true customer equity. Each seed draws a new population, fits, and asks whether
the 90% interval from the fitted model covers that figure. With S seeds the number of hits is
Binomial(S, 0.9): 100 seeds give 90 +/- 3, so 80-97 allows for more than 3 standard
deviations below and more than 2 above.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from engine.value.models import (
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ShiftedBetaGeoFitter,
    bgnbd,
    gamma_gamma,
    mbgnbd,
    sbg,
)
from engine.value.models.uncertainty import (
    clv_intervals,
    residual_value_intervals,
    spend_log_gradient,
)

from .test_math import arrays

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # CDNOW (FHL 2005)
GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
CLV = {"horizon": 12, "discount_rate_per_period": 0.01, "periods_per_step": 30 / 7}


def _at(model: object, params: dict[str, float]) -> object:
    model.params_ = dict(params)  # type: ignore[attr-defined]
    return model


@pytest.mark.parametrize(("fitter", "simulate"), [(ModifiedBetaGeoFitter, mbgnbd.simulate),
                                                  (BetaGeoFitter, bgnbd.simulate)])
def test_total_equity_interval_covers_the_true_value_about_90_percent(
        fitter: type, simulate: object) -> None:
    """100 populations of 1,500 customers (T whole weeks 1..78, purchase times continuous,
    CDNOW parameters); per seed: fit purchase and spend models, 90% interval for the total,
    true total at the true parameters. Also: the per-customer intervals cover their customer's
    true CLV about 90% of the time, averaged over customers and seeds."""
    seeds, hits, per_customer = 100, 0, []
    truth_p, truth_s = _at(fitter(), BG), _at(GammaGammaFitter(), GG)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            x, tx, t = simulate(BG, rng.integers(1, 79, 1500).astype(float),  # type: ignore[operator]
                                rng=rng, time_unit_days=None)
            m = gamma_gamma.simulate(GG, x, rng=rng)
            purchases = fitter().fit(x, tx, t)
            spend = GammaGammaFitter().fit(x, m)
            ci = clv_intervals(purchases, spend, x, tx, t, m, margin_rate=0.3, **CLV)
            true = truth_s.clv(truth_p, x, tx, t, m, margin_rate=0.3, **CLV)  # type: ignore[attr-defined]
            hits += int(ci.total.lower[0] <= true.sum() <= ci.total.upper[0])
            per_customer.append(np.mean((ci.customers.lower <= true)
                                        & (true <= ci.customers.upper)))
    assert 80 <= hits <= 97, hits
    assert 0.8 <= float(np.mean(per_customer)) <= 0.97


def test_sbg_residual_value_interval_coverage() -> None:
    """The same for subscriptions: 200 populations of 1,000 contracts observed for 1-10 periods,
    90% interval of the total residual value of the active ones (margin 10 per period)."""
    true_params = {"alpha": 0.704, "beta": 1.182}
    truth = _at(ShiftedBetaGeoFitter(), true_params)
    hits = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        n, c = sbg.simulate(true_params, rng.integers(1, 11, 1000), rng=rng)
        model = ShiftedBetaGeoFitter().fit(n, c)
        active = n[c == 0]
        ci = residual_value_intervals(model, active, 10.0, discount_rate=0.1)
        true = 10.0 * truth.derl(active, discount_rate=0.1).sum()  # type: ignore[attr-defined]
        hits += int(ci.total.lower[0] <= true <= ci.total.upper[0])
    assert 166 <= hits <= 192, hits  # 180 +/- 4.2


def test_delta_method_agrees_with_a_parametric_bootstrap(sample: pd.DataFrame) -> None:
    """On the CDNOW sample: 1,000 draws of the log-parameters from N(log theta-hat, S) give a
    5-95% range of customer equity within 5% of the delta-method bounds, and per-customer
    standard errors within 15% (the two differ only by the curvature of CLV in theta)."""
    x, tx, t = arrays(sample)
    m = sample["monetary_value_cal"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        mbg = ModifiedBetaGeoFitter().fit(x, tx, t)
        gg = GammaGammaFitter().fit(x, m)
    ci = clv_intervals(mbg, gg, x, tx, t, m, **CLV)
    rng = np.random.default_rng(1)
    draws: list[np.ndarray] = []
    for model in (mbg, gg):
        theta = np.array(list(model.params_.values()))
        log_cov = model.covariance_ / np.outer(theta, theta)
        draws.append(np.exp(rng.multivariate_normal(np.log(theta), log_cov, 1000)))
    keep = x > 0
    boot = np.empty((1000, int(keep.sum())))
    totals = np.empty(1000)
    for i in range(1000):
        p = _at(ModifiedBetaGeoFitter(), dict(zip(mbg.param_names, draws[0][i], strict=True)))
        s = _at(GammaGammaFitter(), dict(zip(gg.param_names, draws[1][i], strict=True)))
        clv = s.clv(p, x, tx, t, m, **CLV)  # type: ignore[attr-defined]
        totals[i], boot[i] = clv.sum(), clv[keep]
    lo, hi = np.percentile(totals, [5, 95])
    assert ci.total.lower[0] == pytest.approx(lo, rel=0.05)
    assert ci.total.upper[0] == pytest.approx(hi, rel=0.05)
    ratio = ci.customers.std_error[keep] / boot.std(axis=0)
    assert np.percentile(ratio, 5) > 0.85 and np.percentile(ratio, 95) < 1.15


def test_covariance_is_the_inverse_hessian(sample: pd.DataFrame) -> None:
    """``covariance_`` against the inverse of a numerical Hessian of the summed per-customer
    log-likelihood on the natural scale; its diagonal gives the standard errors."""
    x, tx, t = arrays(sample)
    bg = BetaGeoFitter().fit(x, tx, t)
    theta = np.array(list(bg.params_.values()))

    def total(v: np.ndarray) -> float:
        return float(bgnbd.log_likelihood(dict(zip(bg.param_names, v, strict=True)),
                                          x, tx, t).sum())

    k, h = len(theta), 1e-4 * theta
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            hess[i, j] = (total(theta + ei + ej) - total(theta + ei - ej)
                          - total(theta - ei + ej) + total(theta - ei - ej)) / (4 * h[i] * h[j])
    np.testing.assert_allclose(bg.covariance_, np.linalg.inv(-hess), rtol=2e-3)
    np.testing.assert_allclose(np.sqrt(np.diag(bg.covariance_)),
                               list(bg.standard_errors_.values()), rtol=1e-12)


def test_spend_gradient_against_central_differences() -> None:
    gg = _at(GammaGammaFitter(), GG)
    x = np.array([0.0, 1.0, 3.0, 20.0])
    m = np.array([0.0, 12.0, 40.0, 5.0])
    spend, grad = spend_log_gradient(gg, x, m)  # type: ignore[arg-type]
    np.testing.assert_allclose(spend, gg.expected_average_spend(x, m), rtol=1e-12)  # type: ignore[attr-defined]
    for j, name in enumerate(("p", "q", "gamma")):
        up = _at(GammaGammaFitter(), {**GG, name: GG[name] * np.exp(1e-6)})
        down = _at(GammaGammaFitter(), {**GG, name: GG[name] * np.exp(-1e-6)})
        numeric = (up.expected_average_spend(x, m)  # type: ignore[attr-defined]
                   - down.expected_average_spend(x, m)) / 2e-6  # type: ignore[attr-defined]
        np.testing.assert_allclose(grad[:, j], numeric, rtol=1e-6)


def test_intervals_bracket_the_estimate_and_need_a_fit(sample: pd.DataFrame) -> None:
    x, tx, t = arrays(sample)
    m = sample["monetary_value_cal"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        bg, gg = BetaGeoFitter().fit(x, tx, t), GammaGammaFitter().fit(x, m)
    rate = np.where(x > 2, 0.3, 0.0)  # per-customer margin rates; zero value stays zero
    ci = clv_intervals(bg, gg, x, tx, t, m, margin_rate=rate, level=0.8, **CLV)
    np.testing.assert_allclose(ci.customers.estimate, gg.clv(bg, x, tx, t, m, margin_rate=1.0,
                                                            **CLV) * rate)
    assert np.all(ci.customers.lower <= ci.customers.estimate)
    assert np.all(ci.customers.estimate <= ci.customers.upper)
    assert np.all(ci.customers.lower[rate == 0] == 0) and np.all(ci.customers.upper[rate == 0] == 0)
    wider = clv_intervals(bg, gg, x, tx, t, m, margin_rate=rate, level=0.95, **CLV)
    assert wider.total.lower[0] < ci.total.lower[0] < ci.total_estimate < ci.total.upper[0]
    with pytest.raises(ValueError, match=r"^BetaGeoFitter has no parameter covariance: fit it "
                                         r"first$"):
        clv_intervals(_at(BetaGeoFitter(), BG), gg, x, tx, t, m, **CLV)
