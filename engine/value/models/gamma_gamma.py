"""Gamma-Gamma model of spend per transaction, and CLV.

A customer's transaction values are Gamma(p, nu) with nu ~ Gamma(q, gamma) across customers,
independent of the transaction process (Fader, Hardie & Lee 2005, "RFM and CLV: Using
iso-value curves for customer base analysis", JMR 42(4); Fader & Hardie, "The Gamma-Gamma
Model of Monetary Value", 2013, whose equation numbers are cited as "note 025").
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from scipy.special import digamma, gammaln

from engine.value.models._common import (
    BaseFitter,
    FloatArray,
    as_array,
    broadcast,
    check_finite,
    check_weights,
    dot,
    fit_mle,
    reject,
)
from engine.value.models._threads import once_per_point


class TransactionModel(Protocol):
    """What ``clv`` needs from a fitted BG/NBD or Pareto/NBD model."""

    def discounted_expected_purchases(
            self, frequency: object, recency: object, T: object, *, horizon: int,
            discount_rate_per_period: float, periods_per_step: float = 1.0) -> FloatArray: ...


def check_monetary(frequency: object, monetary_value: object) -> tuple[FloatArray, FloatArray]:
    """Validate (frequency, mean repeat-transaction value) pairs.

    Rejected with ``ValueError``: NaN/infinite or negative or fractional frequency, NaN or
    infinite monetary value, and monetary value <= 0 where frequency > 0. Where frequency is
    0 the monetary value is unused (0 by the lifetimes convention) and may be anything finite.
    """
    x, m = broadcast(frequency=as_array("frequency", frequency),
                     monetary_value=as_array("monetary_value", monetary_value))
    check_finite("frequency", x)
    reject(x < 0, "frequency is negative", lambda i: f"frequency={x[i]}")
    reject(x != np.floor(x), "frequency is not a whole number of repeat purchases",
           lambda i: f"frequency={x[i]}")
    check_finite("monetary_value", m)
    reject((x > 0) & (m <= 0), "monetary_value <= 0 with frequency > 0",
           lambda i: f"monetary_value={m[i]}; the Gamma-Gamma model needs positive spend")
    return x, m


@dataclass(frozen=True)
class _Data:
    """Sufficient pieces of the Gamma-Gamma likelihood: only ln(gamma + x mbar) is per row."""

    ux: FloatArray  # distinct frequencies
    wx: FloatArray  # total weight per distinct frequency
    x: FloatArray
    xm: FloatArray  # x * mbar
    w: FloatArray
    wxw: FloatArray  # w * x
    s_xlm: float  # sum w x ln(mbar)
    s_lm: float  # sum w ln(mbar)
    s_xlx: float  # sum w x ln(x)
    total: float

    @classmethod
    def build(cls, x: FloatArray, m: FloatArray, w: FloatArray) -> _Data:
        ux, inv = np.unique(x, return_inverse=True)
        lm = np.log(m)
        wx = np.bincount(inv, weights=w, minlength=len(ux)).astype(np.float64)
        return cls(ux, wx, x, x * m, w, w * x, dot(w, x * lm), dot(w, lm),
                   dot(w, x * np.log(x)), float(w.sum()))


def _ll_and_grad(theta: FloatArray, d: _Data) -> tuple[float, FloatArray]:
    """Total weighted log-likelihood (note 025, eq. 3) and its gradient in (p, q, gamma).

    ln f(mbar | x) = lnG(px+q) - lnG(px) - lnG(q) + q ln(gamma) + (px-1) ln(mbar)
                     + px ln(x) - (px+q) ln(gamma + x mbar).
    Terms in x alone are evaluated once per distinct x; sums of data are precomputed.
    """
    p, q, g = theta
    pu = p * d.ux
    lgm = np.log(g + d.xm)
    inv = 1.0 / (g + d.xm)
    s_lgm, s_xlgm = dot(d.w, lgm), dot(d.wxw, lgm)
    ll = (dot(d.wx, (gammaln(pu + q) - gammaln(pu))) + p * (d.s_xlm + d.s_xlx) - d.s_lm
          - p * s_xlgm - q * s_lgm + d.total * (q * np.log(g) - gammaln(q)))
    psi = digamma(pu + q)
    g_p = dot(d.wx, (d.ux * (psi - digamma(pu)))) + d.s_xlm + d.s_xlx - s_xlgm
    g_q = dot(d.wx, psi) - s_lgm + d.total * (np.log(g) - digamma(q))
    g_g = d.total * q / g - p * dot(d.wxw, inv) - q * dot(d.w, inv)
    return ll, np.array([g_p, g_q, g_g])


class GammaGammaFitter(BaseFitter):
    """Gamma-Gamma spend model fitted by maximum likelihood, with an analytic gradient.

    ``penalizer`` adds ``penalizer * sum(params**2)`` to the mean negative log-likelihood.
    """

    param_names = ("p", "q", "gamma")

    def __init__(self, penalizer: float = 0.0) -> None:
        super().__init__(penalizer)
        self.n_excluded_: int = 0

    def fit(self, frequency: object, monetary_value: object,
            weights: object | None = None) -> GammaGammaFitter:
        """Fit on customers' repeat-purchase counts and mean repeat-transaction values.

        Customers with frequency == 0 carry no spend information: they are EXCLUDED with a
        ``UserWarning`` giving their number, which is kept in ``n_excluded_``. The data are
        continuous, so no compression is attempted; the terms that depend on x only are cheap.
        """
        x, m = check_monetary(frequency, monetary_value)
        w = np.ones_like(x) if weights is None else check_weights(weights, len(x))
        keep = (x > 0) & (w > 0)
        self.n_excluded_ = int(np.count_nonzero(x == 0))
        if self.n_excluded_:
            warnings.warn(f"GammaGammaFitter: {self.n_excluded_} customers with frequency == 0 "
                          "excluded from the fit (no repeat transaction value)",
                          UserWarning, stacklevel=2)
        x, m, w = x[keep], m[keep], w[keep]
        if len(x) < 2:  # the class first, as every fitter's message starts (models.messages)
            raise ValueError(
                f"{type(self).__name__}: " + ("no customer has a repeat purchase (all frequency "
                                               "== 0): the Gamma-Gamma spend model cannot be "
                                               "fitted" if len(x) == 0 else
                                               "only 1 customer has a repeat purchase: the "
                                               "Gamma-Gamma spend model needs 2 or more"))
        # fitted on spend in units of its mean, so that neither the optimiser's steps nor the
        # parameter range check depend on the currency (gamma is in currency units)
        unit = float(np.average(m, weights=w))
        data = _Data.build(x, m / unit, w)
        total = data.total
        pen = self.penalizer
        to_natural = np.array([1.0, 1.0, unit])

        at = once_per_point(lambda theta: _ll_and_grad(theta, data))

        def objective(z: FloatArray) -> tuple[float, FloatArray]:
            theta = np.exp(z)
            ll, grad = at(theta)
            natural = theta * to_natural  # the penalty is on the natural parameters
            value = -ll / total + pen * dot(natural, natural)
            return value, -grad / total * theta + 2 * pen * natural * natural

        # method of moments-ish start: q = 2, gamma so that the mean spend p*gamma/(q-1) fits
        result = fit_mle(type(self).__name__, self.param_names, objective,
                         np.log([1.0, 2.0, 1.0]), analytic_gradient=True, total_weight=total)
        ll = at(result.params)[0] - total * np.log(unit)  # density of m
        result = replace(result, params=result.params * to_natural,
                         standard_errors=result.standard_errors * to_natural,
                         covariance=result.covariance * np.outer(to_natural, to_natural))
        self._store(result, ll, round(total))
        return self

    def log_likelihood(self, frequency: object, monetary_value: object) -> FloatArray:
        """Per-customer log-likelihood (note 025, eq. 3); NaN where frequency == 0."""
        p, q, g = self._param_array()
        x, m = check_monetary(frequency, monetary_value)
        out = np.full_like(x, np.nan)
        k = x > 0
        xk, mk = x[k], m[k]
        out[k] = (gammaln(p * xk + q) - gammaln(p * xk) - gammaln(q) + q * np.log(g)
                  + (p * xk - 1) * np.log(mk) + p * xk * np.log(xk)
                  - (p * xk + q) * np.log(g + xk * mk))
        return out

    def population_mean_spend(self) -> float:
        """E[Z] = p gamma / (q - 1); needs q > 1 (a finite mean)."""
        p, q, g = self._param_array()
        if q <= 1:
            raise ValueError(f"q = {q:.4g} <= 1: the Gamma-Gamma mean spend is infinite")
        return float(p * g / (q - 1))

    def expected_average_spend(self, frequency: object, monetary_value: object) -> FloatArray:
        """E[Z | x, mbar] = (gamma + x mbar) p / (p x + q - 1) (note 025, eq. 5).

        A weighted mean of the population mean p gamma/(q-1) and the customer's own mean
        mbar; for frequency == 0 it is the population mean. Needs q > 1.
        """
        p, q, g = self._param_array()
        self.population_mean_spend()
        x, m = check_monetary(frequency, monetary_value)
        m = np.where(x > 0, m, 0.0)
        return np.asarray((g + x * m) * p / (p * x + q - 1), dtype=np.float64)

    def clv(self, transaction_model: TransactionModel, frequency: object, recency: object,
            T: object, monetary_value: object, *, horizon: int,
            discount_rate_per_period: float, periods_per_step: float = 1.0,
            margin_rate: float = 1.0) -> FloatArray:
        """Expected discounted margin over ``horizon`` steps of ``periods_per_step`` time units.

        CLV = margin_rate * E[Z | x, mbar] * sum_{k=1..horizon} (E[Y(kD)] - E[Y((k-1)D)])
        / (1 + d)^k, with D = ``periods_per_step`` (in the transaction model's time unit) and
        d = ``discount_rate_per_period`` (per step). Purchases expected during step k are
        discounted by k whole steps, as in lifetimes' ``customer_lifetime_value`` (which uses
        monthly steps: periods_per_step = 30/7 for a model fitted in weeks). Spend and
        purchases are independent in both models (FHL 2005 JMR), so their expectations
        multiply.
        """
        if not (np.isfinite(margin_rate) and margin_rate >= 0):
            raise ValueError(f"margin_rate must be a finite number >= 0, got {margin_rate!r}")
        spend = self.expected_average_spend(frequency, monetary_value)
        purchases = transaction_model.discounted_expected_purchases(
            frequency, recency, T, horizon=horizon,
            discount_rate_per_period=discount_rate_per_period,
            periods_per_step=periods_per_step)
        return np.asarray(margin_rate * spend * purchases, dtype=np.float64)


def simulate(params: dict[str, float], frequency: object, *,
             rng: np.random.Generator) -> FloatArray:
    """Draw each customer's mean repeat-transaction value from the Gamma-Gamma process.

    nu ~ Gamma(q, rate gamma) per customer; the x transaction values are Gamma(p, rate nu),
    so their sum is Gamma(p x, rate nu). Customers with frequency 0 get 0.
    """
    x = as_array("frequency", frequency)
    nu = rng.gamma(params["q"], 1.0 / params["gamma"], len(x))
    out = np.zeros_like(x)
    k = x > 0
    out[k] = rng.gamma(params["p"] * x[k], 1.0 / nu[k]) / x[k]
    return out
