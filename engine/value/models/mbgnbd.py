"""MBG/NBD model of repeat purchasing (Batislam, Denizel & Filiztekin 2007, International
Journal of Research in Marketing 24(3)).

BG/NBD with one more chance to leave: while active, a customer buys as a Poisson process with
rate lambda ~ Gamma(r, alpha); right after the first purchase *and* after each repeat purchase
they become inactive with probability p ~ Beta(a, b). In BG/NBD a customer who never bought
again is certainly alive (P(alive) = 1 however long ago they came); here they may have left at
once, so a one-time buyer last seen long ago has a low P(alive). lifetimes'
``ModifiedBetaGeoFitter`` implements the same likelihood and expressions.
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
    """Compressed rows, with x, t_x and T coded against their distinct values (logs are then
    taken once per distinct value and gathered)."""

    ux: FloatArray  # distinct frequencies and the total weight of each
    wx: FloatArray
    x: FloatArray  # the rows
    t: FloatArray
    tx: FloatArray
    w: FloatArray
    codes: tuple[IntArray, IntArray, IntArray]  # x, tx, t coded against uniq
    uniq: tuple[FloatArray, FloatArray]  # distinct tx and T
    total: float

    @classmethod
    def build(cls, x: FloatArray, tx: FloatArray, t: FloatArray, w: FloatArray) -> _Data:
        cx, ux = pd.factorize(x)
        ctx, utx = pd.factorize(tx)
        ct, ut = pd.factorize(t)
        wx = np.bincount(cx, weights=w, minlength=len(ux)).astype(np.float64)
        return cls(np.asarray(ux, np.float64), wx, x, t, tx, w, (cx, ctx, ct),
                   (np.asarray(utx, np.float64), np.asarray(ut, np.float64)), float(w.sum()))


def _ll_and_grad(theta: FloatArray, d: _Data) -> tuple[float, FloatArray]:
    """Total weighted log-likelihood and its gradient in (r, alpha, a, b).

    ln L = A1 + A2 + A3 + ln(1 + exp(A4)) (Batislam et al. 2007 eq. 8; lifetimes' terms) with
    A1 = lnG(r+x) - lnG(r) + r ln(alpha),   A2 = lnB(a, b+x+1) - lnB(a, b),
    A3 = -(r+x) ln(alpha+T),                A4 = ln(a) - ln(b+x) + (r+x) ln((alpha+T)/(alpha+t_x)),
    for every customer, one-time buyers included (x = t_x = 0).
    """
    r, alpha, a, b = theta
    ux, wx = d.ux, d.wx
    cx, ctx, ct = d.codes
    utx, ut = d.uniq
    # terms that depend on x only: evaluated once per distinct frequency
    ll = dot(wx, gammaln(r + ux)) + d.total * (r * np.log(alpha) - gammaln(r))
    g_r = dot(wx, digamma(r + ux)) + d.total * (np.log(alpha) - digamma(r))
    g_alpha = d.total * r / alpha
    # A2 = sum_{j<=x} -ln(1 + a/(b+j)), as running sums: exact even when a and b are huge
    j = np.arange(int(ux.max()) + 1 if len(ux) else 0, dtype=np.float64)
    bj, abj = b + j, a + b + j
    ix = ux.astype(np.intp) + 1
    ll += dot(wx, _running(-np.log1p(a / bj))[ix])
    g_a = dot(wx, _running(-1.0 / abj)[ix])
    g_b = dot(wx, _running(a / (bj * abj))[ix])
    # A3 + softplus(A4); s = expit(A4) = 1 - P(alive)
    rx = r + d.x
    lat = np.log(alpha + ut)[ct]
    latx = np.log(alpha + utx)[ctx]
    lb = np.log(b + ux)
    diff = np.log(a) - lb[cx] + rx * (lat - latx)
    e = np.exp(-np.abs(diff))
    softplus = np.maximum(diff, 0.0) + np.log1p(e)
    s = np.where(diff >= 0, 1.0, e) / (1.0 + e)
    w = d.w
    ll += dot(w, softplus - rx * lat)
    g_r -= dot(w, lat + s * (latx - lat))
    g_alpha -= dot(w, rx * ((1 - s) / (alpha + d.t) + s / (alpha + d.tx)))
    ws = w * s
    g_a += float(ws.sum()) / a
    g_b -= dot(ws, np.exp(-lb)[cx])
    return ll, np.array([g_r, g_alpha, g_a, g_b])


def log_likelihood(params: dict[str, float], frequency: object, recency: object,
                   T: object) -> FloatArray:
    """Per-customer MBG/NBD log-likelihood, vectorised."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    x, tx, t = check_rfm(frequency, recency, T)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    j = np.arange(int(x.max()) + 1 if len(x) else 0, dtype=np.float64)
    a2 = _running(-np.log1p(a / (b + j)))[x.astype(np.intp) + 1]
    a3 = -(r + x) * np.log(alpha + t)
    a4 = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + t) - np.log(alpha + tx))
    return np.asarray(a1 + a2 + a3 + np.logaddexp(0.0, a4), dtype=np.float64)


class ModifiedBetaGeoFitter(BetaGeoFamily):
    """MBG/NBD model fitted by maximum likelihood (Batislam, Denizel & Filiztekin 2007).

    Same inputs, penalizer and analytic gradient as ``BetaGeoFitter``; identical
    (frequency, recency, T) rows are fitted once.
    """

    b_shift = 1.0

    def fit(self, frequency: object, recency: object, T: object, *,
            weights: object | None = None,
            initial_params: dict[str, float] | None = None) -> ModifiedBetaGeoFitter:
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
        """P(active at T | x, t_x, T) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)).

        Also for one-time buyers (x = t_x = 0): 1 / (1 + a/b ((alpha+T)/alpha)^r), which falls
        as T grows.
        """
        r, alpha, a, b = self._param_array()
        x, tx, t = check_rfm(frequency, recency, T)
        odds = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + t) - np.log(alpha + tx))
        return np.asarray(expit(-odds), dtype=np.float64)


def simulate(params: dict[str, float], T: object, *, rng: np.random.Generator,
             time_unit_days: float | None = 7.0) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Draw (frequency, recency, T) from the MBG/NBD generative process; see
    ``engine.value.models._beta_geo.simulate``."""
    return _simulate(params, T, rng=rng, time_unit_days=time_unit_days, drop_at_first=True)
