"""BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, Marketing Science 24(2)).

While active, a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); after
each purchase they become inactive with probability p ~ Beta(a, b). Equation numbers below
are those of the paper ("FHL") and of Fader & Hardie's note "Computing P(alive) using the
BG/NBD model" (2008).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import digamma, expit, gammaln

from engine.value.models._beta_geo import BetaGeoFamily, _running
from engine.value.models._beta_geo import simulate as _simulate
from engine.value.models._common import (
    FloatArray,
    IntArray,
    check_rfm,
    check_some_repeat,
    compress,
    dot,
    fit_mle,
)


@dataclass(frozen=True)
class _Data:
    """Compressed rows, split by x == 0 (only T matters) and x > 0.

    For the x > 0 rows, x, t_x and T are also coded against their distinct values, so logs
    are taken once per distinct value (a few hundred with daily data) and gathered.
    """

    ux: FloatArray  # distinct frequencies, as indices, and total weight of each
    ux_index: IntArray
    wx: FloatArray
    t0: FloatArray  # T and weights of the x == 0 rows
    w0: FloatArray
    x1: FloatArray  # the x > 0 rows
    tx1: FloatArray
    t1: FloatArray
    w1: FloatArray
    codes: tuple[IntArray, IntArray, IntArray]  # x1, tx1, t1 coded against uniq
    uniq: tuple[FloatArray, FloatArray, FloatArray]
    total: float

    @classmethod
    def build(cls, x: FloatArray, tx: FloatArray, t: FloatArray, w: FloatArray) -> _Data:
        cx, ux = pd.factorize(x)
        pos = x > 0
        x1, tx1, t1 = x[pos], tx[pos], t[pos]
        fac = [pd.factorize(v) for v in (x1, tx1, t1)]
        wx = np.bincount(cx, weights=w, minlength=len(ux)).astype(np.float64)
        ux = np.asarray(ux, dtype=np.float64)
        return cls(ux, ux.astype(np.intp), wx, t[~pos], w[~pos], x1, tx1, t1, w[pos],
                   (fac[0][0], fac[1][0], fac[2][0]),
                   (np.asarray(fac[0][1], np.float64), np.asarray(fac[1][1], np.float64),
                    np.asarray(fac[2][1], np.float64)),
                   float(w.sum()))


def _ll_and_grad(theta: FloatArray, d: _Data) -> tuple[float, FloatArray]:
    """Total weighted log-likelihood (FHL eq. 6) and its gradient in (r, alpha, a, b).

    ln L = A1 + A2 + ln(exp(A3) + [x>0] exp(A4)) with (note 004, eq. 2-5)
    A1 = lnG(r+x) - lnG(r) + r ln(alpha),   A2 = lnB(a, b+x) - lnB(a, b),
    A3 = -(r+x) ln(alpha+T),                A4 = ln(a) - ln(b+x-1) - (r+x) ln(alpha+t_x).
    """
    r, alpha, a, b = theta
    ux, wx = d.ux, d.wx
    # terms that depend on x only: evaluated once per distinct frequency
    ll = dot(wx, gammaln(r + ux)) + d.total * (r * np.log(alpha) - gammaln(r))
    g_r = dot(wx, digamma(r + ux)) + d.total * (np.log(alpha) - digamma(r))
    g_alpha = d.total * r / alpha
    # A2 = sum_{j<x} -ln(1 + a/(b+j)) for whole x, as running sums: exact even when a and b
    # are huge, where lnG or lnB differences cancel catastrophically
    j = np.arange(int(ux.max()) if len(ux) else 0, dtype=np.float64)
    bj, abj = b + j, a + b + j
    ix = d.ux_index
    ll += dot(wx, _running(-np.log1p(a / bj))[ix])
    g_a = dot(wx, _running(-1.0 / abj)[ix])
    g_b = dot(wx, _running(a / (bj * abj))[ix])
    # x == 0: only A3 = -r ln(alpha + T)
    lat0 = np.log(alpha + d.t0)
    ll -= r * dot(d.w0, lat0)
    g_r -= dot(d.w0, lat0)
    g_alpha -= r * dot(d.w0, 1.0 / (alpha + d.t0))
    # x > 0: ln(exp(A3) + exp(A4)) = A3 + softplus(A4 - A3); s = share of the A4 term
    (cx, ctx, ct), (ux1, utx1, ut1) = d.codes, d.uniq
    rx = r + d.x1
    lat = np.log(alpha + ut1)[ct]
    latx = np.log(alpha + utx1)[ctx]
    lb = np.log(b + ux1 - 1.0)
    diff = np.log(a) - lb[cx] - rx * (latx - lat)
    e = np.exp(-np.abs(diff))
    softplus = np.maximum(diff, 0.0) + np.log1p(e)
    s = np.where(diff >= 0, 1.0, e) / (1.0 + e)  # expit(diff), stable
    w1 = d.w1
    ll += dot(w1, softplus - rx * lat)
    g_r -= dot(w1, lat + s * (latx - lat))
    g_alpha -= dot(w1, rx * ((1 - s) / (alpha + d.t1) + s / (alpha + d.tx1)))
    ws = w1 * s
    g_a += float(ws.sum()) / a
    g_b -= dot(ws, np.exp(-lb)[cx])
    return ll, np.array([g_r, g_alpha, g_a, g_b])


def log_likelihood(params: dict[str, float], frequency: object, recency: object,
                   T: object) -> FloatArray:
    """Per-customer BG/NBD log-likelihood (FHL eq. 6), vectorised."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    x, tx, t = check_rfm(frequency, recency, T)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    j = np.arange(int(x.max()) if len(x) else 0, dtype=np.float64)
    a2 = _running(-np.log1p(a / (b + j)))[x.astype(np.intp)]  # lnB(a, b+x) - lnB(a, b)
    a3 = -(r + x) * np.log(alpha + t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(x > 0, np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + tx),
                      -np.inf)
    return np.asarray(a1 + a2 + np.logaddexp(a3, a4), dtype=np.float64)


class BetaGeoFitter(BetaGeoFamily):
    """BG/NBD model fitted by maximum likelihood (Fader, Hardie & Lee 2005).

    ``penalizer`` adds ``penalizer * sum(params**2)`` to the mean negative log-likelihood
    (the lifetimes convention); 0 gives plain maximum likelihood. The gradient is analytic.
    Inputs per customer: ``frequency`` = number of repeat purchase days, ``recency`` = time
    from the first to the last purchase, ``T`` = time from the first purchase to the end of
    observation, recency and T in one time unit (see ``engine.value.models.rfm.summary``).
    """

    def fit(self, frequency: object, recency: object, T: object, *,
            weights: object | None = None,
            initial_params: dict[str, float] | None = None) -> BetaGeoFitter:
        """Fit by maximum likelihood; identical rows are compressed unless weights are given.

        Raises ``ValueError`` for invalid inputs and ``ConvergenceError`` if the fit fails.
        """
        x, tx, t = check_rfm(frequency, recency, T)
        check_some_repeat(type(self).__name__, x)
        (xu, txu, tu), w = compress([x, tx, t], weights)
        data = _Data.build(xu, txu, tu, w)
        pen = self.penalizer

        def objective(z: FloatArray) -> tuple[float, FloatArray]:
            theta = np.exp(z)
            ll, grad = _ll_and_grad(theta, data)
            value = -ll / data.total + pen * dot(theta, theta)
            return value, (-grad / data.total + 2 * pen * theta) * theta

        start = initial_params or {"r": 1.0, "alpha": max(float(np.mean(t)), 1e-3) / 10,
                                   "a": 1.0, "b": 1.0}
        z0 = np.log([start[k] for k in self.param_names])
        result = fit_mle(type(self).__name__, self.param_names, objective, z0,
                         analytic_gradient=True, total_weight=data.total)
        self._store(result, _ll_and_grad(result.params, data)[0], round(data.total))
        return self

    def log_likelihood(self, frequency: object, recency: object, T: object) -> FloatArray:
        """Per-customer log-likelihood at the fitted parameters."""
        self._check_fitted()
        return log_likelihood(self.params_, frequency, recency, T)

    def p_alive(self, frequency: object, recency: object, T: object) -> FloatArray:
        """P(active at T | x, t_x, T) (note "Computing P(alive) using the BG/NBD model", eq. 2).

        1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).
        """
        r, alpha, a, b = self._param_array()
        x, tx, t = check_rfm(frequency, recency, T)
        with np.errstate(divide="ignore"):
            odds = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * (
                np.log(alpha + t) - np.log(alpha + tx))
        return np.where(x > 0, expit(-odds), 1.0)


def simulate(params: dict[str, float], T: object, *, rng: np.random.Generator,
             time_unit_days: float | None = 7.0) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Draw (frequency, recency, T) from the BG/NBD generative process (FHL section 3); see
    ``engine.value.models._beta_geo.simulate``."""
    return _simulate(params, T, rng=rng, time_unit_days=time_unit_days)
