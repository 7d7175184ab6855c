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

with b' = b + shift and z = t / (alpha+T+t). Only ``p_alive`` is model specific.
"""

from __future__ import annotations

import numpy as np
from scipy.special import hyp2f1

from engine.value.models._common import (
    BaseFitter,
    FloatArray,
    as_array,
    check_rfm,
    unique_rows,
)


class BetaGeoFamily(BaseFitter):
    """Predictions of the BG/NBD family from ``p_alive`` and the shift of b (see module)."""

    param_names = ("r", "alpha", "a", "b")
    b_shift = 0.0  # 1.0 in MBG/NBD: one more drop-out occasion, at the first purchase

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

        With one horizon t for everybody, the 2F1 term is evaluated once per distinct (x, T).
        """
        self._check_fitted()
        x, tx, big_t = check_rfm(frequency, recency, T)
        tt = _check_t(t, len(x))
        if len(tt) == 1 and len(x) > 1:
            (ux, ut), inv, _ = unique_rows(x, big_t)
            tail = self._tail(tt, ux, ut)[inv]
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
            given_alive: bool = False) -> FloatArray:
        """sum_k (E[Y(k D)] - E[Y((k-1) D)]) / (1+d)^k for k = 1..horizon, D = periods_per_step.

        Purchases expected during step k are discounted by k whole steps (end of step), as
        lifetimes' ``customer_lifetime_value`` does. The hypergeometric part depends on
        (x, T) only, so it is evaluated once per distinct (x, T) pair. ``given_alive``: the
        same given that the customer is alive at T (the factor P(alive) left out, not divided
        back: for a heavy buyer lapsed long ago P(alive) underflows to 0).
        """
        self._check_fitted()
        x, tx, big_t = check_rfm(frequency, recency, T)
        steps, disc = _steps(horizon, discount_rate_per_period, periods_per_step)
        (ux, ut), inv, _ = unique_rows(x, big_t)
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
