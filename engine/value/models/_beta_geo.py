"""Predictions shared by the BG/NBD and MBG/NBD models, and helpers of the transaction models.

Both models have a purchase rate lambda ~ Gamma(r, alpha) and a drop-out probability
p ~ Beta(a, b) per purchase occasion; they differ in the occasions at which a customer can drop
out. In BG/NBD a customer may leave after each *repeat* purchase (x occasions for x repeat
purchases); in MBG/NBD also right after the first purchase (x + 1 occasions). So, given that a
customer is alive after x repeat purchases, p ~ Beta(a, b + k) with k = x + shift - 1 and
shift = 0 (BG/NBD) or 1 (MBG/NBD), and the expected number of purchases in the next t time
units is (FHL 2005 eq. 10; Batislam, Denizel & Filiztekin 2007 eq. 13)

    E[Y(t) | x, t_x, T] = P(alive) (a + b' + x - 1) / (a - 1)
                          [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b'+x; a+b'+x-1; z)]

with b' = b + shift and z = t / (alpha+T+t). Only ``p_alive`` and the per-customer
log-likelihood are model specific; the fit is shared (``FitData``, ``ll_and_grad``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln, hyp2f1

from engine.value.models._common import (
    BaseFitter,
    FloatArray,
    IntArray,
    as_array,
    check_rfm,
    check_some_repeat,
    compress,
    dot,
    unique_rows,
)
from engine.value.models._penalized import fit_penalized

_Fitter = TypeVar("_Fitter", bound="BetaGeoFamily")


class BetaGeoFamily(BaseFitter):
    """Predictions of the BG/NBD family from ``p_alive`` and the shift of b (see module)."""

    param_names = ("r", "alpha", "a", "b")
    b_shift = 0.0  # 1.0 in MBG/NBD: one more drop-out occasion, at the first purchase

    def fit(self: _Fitter, frequency: object, recency: object, T: object, *,
            weights: object | None = None,
            initial_params: dict[str, float] | None = None) -> _Fitter:
        """Fit by maximum likelihood (analytic gradient); identical rows are compressed unless
        weights are given. ``penalizer`` adds ``penalizer * sum(params**2)`` to the mean
        negative log-likelihood (the lifetimes convention); 0 gives plain maximum likelihood.

        Raises ``ValueError`` for invalid inputs and ``ConvergenceError`` if the fit fails.
        """
        x, tx, t = check_rfm(frequency, recency, T)
        check_some_repeat(type(self).__name__, x)
        (xu, txu, tu), w = compress([x, tx, t], weights)
        data = FitData.build(xu, txu, tu, w, shift=int(self.b_shift))
        start = initial_params or {"r": 1.0, "alpha": max(float(np.mean(t)), 1e-3) / 10,
                                   "a": 1.0, "b": 1.0}
        z0 = np.log([start[k] for k in self.param_names])
        result, ll = fit_penalized(type(self).__name__, self.param_names,
                                   lambda theta: ll_and_grad(theta, data), data.total,
                                   self.penalizer, z0)
        self._store(result, ll, round(data.total))
        return self

    def log_likelihood(self, frequency: object, recency: object, T: object) -> FloatArray:
        """Per-customer log-likelihood at the fitted parameters."""
        self._check_fitted()
        return self.per_customer(self.params_, frequency, recency, T)

    @staticmethod
    def per_customer(params: dict[str, float], frequency: object, recency: object,
                     T: object) -> FloatArray:
        """The model's per-customer log-likelihood at ``params``."""
        raise NotImplementedError

    def p_alive(self, frequency: object, recency: object, T: object) -> FloatArray:
        raise NotImplementedError

    def _tail(self, t: FloatArray, x: FloatArray, big_t: FloatArray) -> FloatArray:
        """G = ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b'+x; a+b'+x-1; t/(alpha+T+t)).

        Computed through Euler's transformation as ((alpha+T)/(alpha+T+t))^(a-1)
        2F1(a+b'-1-r, a-1; a+b'+x-1; z): the series then has small parameters whatever x.
        """
        r, alpha, a, b = self._param_array()
        a, b = _away_from_one(a), b + self.b_shift
        base = alpha + big_t
        z = t / (base + t)
        return np.asarray((base / (base + t)) ** (a - 1)
                          * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z), dtype=np.float64)

    def _scale(self, x: FloatArray) -> FloatArray:
        """(a + b' + x - 1) / (a - 1) = E[1/p | alive after x repeat purchases]."""
        a = _away_from_one(self.params_["a"])
        b = self.params_["b"] + self.b_shift
        return np.asarray((a + b + x - 1) / (a - 1), dtype=np.float64)

    def expected_purchases(self, t: object, frequency: object, recency: object,
                           T: object) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next t time units.

        The 2F1 term is evaluated once per distinct (x, T), or (t, x, T) when t is given per
        customer (a holdout's length, the same for almost everyone).
        """
        self._check_fitted()
        x, tx, big_t = check_rfm(frequency, recency, T)
        tt = _check_t(t, len(x))
        if len(tt) == 1 and len(x) > 1:
            (ux, ut), inv, _ = unique_rows(x, big_t)
            tail = self._tail(tt, ux, ut)[inv]
        elif len(x) > 1:
            (ut_, ux, ut), inv, _ = unique_rows(tt, x, big_t)
            tail = self._tail(ut_, ux, ut)[inv]
        else:
            tail = self._tail(tt, x, big_t)
        return np.asarray(self._scale(x) * (1 - tail) * self.p_alive(x, tx, big_t),
                          dtype=np.float64)

    def expected_purchases_new(self, t: object) -> FloatArray:
        """E[X(t)] for a customer just acquired at time 0: E[Y(t) | x = t_x = T = 0]."""
        self._check_fitted()
        tt = _check_t(t, None)
        zero = np.zeros_like(tt)
        return np.asarray(self._scale(zero) * (1 - self._tail(tt, zero, zero))
                          * self.p_alive(zero, zero, zero), dtype=np.float64)

    def discounted_expected_purchases(
            self, frequency: object, recency: object, T: object, *, horizon: int,
            discount_rate_per_period: float, periods_per_step: float = 1.0,
            given_alive: bool = False, pairs: Pairs | None = None) -> FloatArray:
        """sum_k (E[Y(k D)] - E[Y((k-1) D)]) / (1+d)^k for k = 1..horizon, D = periods_per_step.

        Purchases expected during step k are discounted by k whole steps (end of step), as
        lifetimes' ``customer_lifetime_value`` does. The hypergeometric part depends on
        (x, T) only, so it is evaluated once per distinct (x, T) pair. ``given_alive``: the
        same given that the customer is alive at T (the factor P(alive) left out, not divided
        back: for a heavy buyer lapsed long ago P(alive) underflows to 0). ``pairs``: those
        distinct pairs and each row's place among them (``xt_pairs``), when the caller has them
        (the delta method asks for the same rows at nine parameter values).
        """
        self._check_fitted()
        x, tx, big_t = check_rfm(frequency, recency, T)
        steps, disc = _steps(horizon, discount_rate_per_period, periods_per_step)
        (ux, ut), inv = pairs or xt_pairs(x, big_t)
        prev = np.ones_like(ux)
        acc = np.zeros_like(ux)
        for tk, dk in zip(steps, disc, strict=True):
            cur = self._tail(np.full_like(ux, tk), ux, ut)
            acc += dk * (prev - cur)
            prev = cur
        if_alive = self._scale(x) * acc[inv]
        if given_alive:
            return np.asarray(if_alive, dtype=np.float64)
        return np.asarray(if_alive * self.p_alive(x, tx, big_t), dtype=np.float64)


Pairs = tuple[tuple[FloatArray, FloatArray], IntArray]


def xt_pairs(x: FloatArray, big_t: FloatArray) -> Pairs:
    """The distinct (x, T) of the rows, and each row's index among them."""
    (ux, ut), inv, _ = unique_rows(x, big_t)
    return (ux, ut), inv


@dataclass(frozen=True)
class FitData:
    """Compressed rows for the fit. ``shift`` as in the module: the rows with x == 0 are kept
    apart in BG/NBD (shift 0: only T matters for them) and with the others in MBG/NBD.

    The x-only terms are taken once per distinct frequency; for the other rows x, t_x and T
    are also coded against their distinct values, so logs are taken once per distinct value
    (a few hundred with daily data) and gathered.
    """

    shift: int
    ux: FloatArray  # distinct frequencies, their total weights, and their places in the
    wx: FloatArray  # running sums of A2 (x + shift)
    ux_index: IntArray
    t0: FloatArray  # T and weights of the rows kept apart (x == 0 in BG/NBD)
    w0: FloatArray
    x1: FloatArray  # the other rows
    tx1: FloatArray
    t1: FloatArray
    w1: FloatArray
    codes: tuple[IntArray, IntArray, IntArray]  # x1, tx1, t1 coded against uniq
    uniq: tuple[FloatArray, FloatArray, FloatArray]
    total: float

    @classmethod
    def build(cls, x: FloatArray, tx: FloatArray, t: FloatArray, w: FloatArray, *,
              shift: int) -> FitData:
        cx, ux = pd.factorize(x)
        wx = np.bincount(cx, weights=w, minlength=len(ux)).astype(np.float64)
        ux = np.asarray(ux, dtype=np.float64)
        pos = x > 0 if shift == 0 else np.ones(len(x), dtype=bool)
        x1, tx1, t1 = x[pos], tx[pos], t[pos]
        fac = [pd.factorize(v) for v in (x1, tx1, t1)]
        return cls(shift, ux, wx, ux.astype(np.intp) + shift, t[~pos], w[~pos],
                   x1, tx1, t1, w[pos], (fac[0][0], fac[1][0], fac[2][0]),
                   (np.asarray(fac[0][1], np.float64), np.asarray(fac[1][1], np.float64),
                    np.asarray(fac[2][1], np.float64)),
                   float(w.sum()))


def ll_and_grad(theta: FloatArray, d: FitData) -> tuple[float, FloatArray]:
    """Total weighted log-likelihood and its gradient in (r, alpha, a, b).

    ln L = A1 + A2 + A3 + ln(exp(0) + exp(A4 - A3)) (FHL eq. 6, Fader & Hardie's note 004
    eq. 2-5; Batislam et al. 2007 eq. 8, lifetimes' terms) with k = x + shift - 1 and
    A1 = lnG(r+x) - lnG(r) + r ln(alpha),   A2 = lnB(a, b+x+shift) - lnB(a, b),
    A3 = -(r+x) ln(alpha+T),                A4 = ln(a) - ln(b+k) - (r+x) ln(alpha+t_x),
    the A4 term only where x > 0 in BG/NBD (a customer who never bought again cannot have
    left), for every customer in MBG/NBD.
    """
    r, alpha, a, b = theta
    ux, wx = d.ux, d.wx
    # terms that depend on x only: evaluated once per distinct frequency
    ll = dot(wx, gammaln(r + ux)) + d.total * (r * np.log(alpha) - gammaln(r))
    g_r = dot(wx, digamma(r + ux)) + d.total * (np.log(alpha) - digamma(r))
    g_alpha = d.total * r / alpha
    # A2 = sum_{j<x+shift} -ln(1 + a/(b+j)) for whole x, as running sums: exact even when a
    # and b are huge, where lnG or lnB differences cancel catastrophically
    j = np.arange(int(np.max(ux)) + d.shift if len(ux) else 0, dtype=np.float64)
    bj, abj = b + j, a + b + j
    ix = d.ux_index
    ll += dot(wx, _running(-np.log1p(a / bj))[ix])
    g_a = dot(wx, _running(-1.0 / abj)[ix])
    g_b = dot(wx, _running(a / (bj * abj))[ix])
    # rows without the A4 term: only A3 = -r ln(alpha + T)
    lat0 = np.log(alpha + d.t0)
    ll -= r * dot(d.w0, lat0)
    g_r -= dot(d.w0, lat0)
    g_alpha -= r * dot(d.w0, 1.0 / (alpha + d.t0))
    # the others: ln(exp(A3) + exp(A4)) = A3 + softplus(A4 - A3); s = share of the A4 term
    (cx, ctx, ct), (ux1, utx1, ut1) = d.codes, d.uniq
    rx = r + d.x1
    lat = np.log(alpha + ut1)[ct]
    latx = np.log(alpha + utx1)[ctx]
    lb = np.log(b + ux1 + float(d.shift - 1))
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


def simulate(params: dict[str, float], T: object, *, rng: np.random.Generator,
             time_unit_days: float | None = 7.0, drop_at_first: bool = False
             ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Draw (frequency, recency, T) from the BG/NBD (or, with ``drop_at_first``, MBG/NBD)
    generative process.

    lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b); from a first purchase at time 0 the
    customer buys at Poisson rate lambda and drops out with probability p after each
    purchase (MBG/NBD: also right after the first one); observation stops at T. With
    ``time_unit_days`` set, purchase times are recorded as whole days since the first purchase
    and same-day purchases count once, as in daily transaction data (this is what makes rows
    repeat and compress).
    """
    big_t = as_array("T", T)
    n = len(big_t)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    clock = np.zeros(n)
    x = np.zeros(n)
    last = np.zeros(n)  # time of the last recorded purchase (days if time_unit_days)
    scale = time_unit_days or 1.0
    idx = np.arange(n)
    if drop_at_first:
        idx = idx[rng.random(n) >= p]
    while idx.size:
        with np.errstate(divide="ignore"):
            clock[idx] += rng.exponential(1.0 / lam[idx])
        idx = idx[clock[idx] <= big_t[idx]]
        when = clock[idx] * scale
        if time_unit_days:
            when = np.floor(when)
        new = when > last[idx]
        x[idx[new]] += 1
        last[idx[new]] = when[new]
        idx = idx[rng.random(idx.size) >= p[idx]]
    return x, last / scale, big_t.copy()


def _running(v: FloatArray) -> FloatArray:
    """[0, v0, v0+v1, ...]: entry k is the sum of the first k terms."""
    return np.concatenate(([0.0], np.cumsum(v)))


def _away_from_one(a: float) -> float:
    """The expectations have a removable 0/0 at a == 1: step just beside it."""
    return a if abs(a - 1) > 1e-7 else 1 + 1e-7


def _check_t(t: object, n: int | None) -> FloatArray:
    """Prediction horizons: finite, >= 0, one value or one per customer (any number if n None)."""
    tt = as_array("t", t)
    if not np.all(np.isfinite(tt)) or np.any(tt < 0):
        raise ValueError(f"t must be finite and >= 0, got {t!r}")
    if n is not None and len(tt) not in (1, n):
        raise ValueError(f"t has {len(tt)} values for {n} customers")
    return tt


def _steps(horizon: int, rate: float, step: float) -> tuple[FloatArray, FloatArray]:
    """Step end times k*step and discount factors (1+rate)^-k, k = 1..horizon."""
    if int(horizon) != horizon or horizon < 0:
        raise ValueError(f"horizon must be a whole number of steps >= 0, got {horizon!r}")
    if not (np.isfinite(rate) and rate > -1):
        raise ValueError(f"discount_rate_per_period must be > -1, got {rate!r}")
    if not (np.isfinite(step) and step > 0):
        raise ValueError(f"periods_per_step must be > 0, got {step!r}")
    k = np.arange(1, int(horizon) + 1, dtype=np.float64)
    return k * step, (1.0 + rate) ** -k
