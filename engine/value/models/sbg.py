"""Shifted-beta-geometric (sBG) model of contract renewal (Fader & Hardie 2007, "How to project
customer retention", Journal of Interactive Marketing 21(1); "FH07").

For subscriptions and contracts, where a customer's leaving is observed. At the end of each
contract period an active customer decides whether to renew; each customer has a fixed churn
probability theta per decision, and theta ~ Beta(alpha, beta) across customers. The sorting of
a heterogeneous cohort makes retention rise with tenure, which a single retention rate misses
(Fader & Hardie 2010, "Customer-Base Valuation in a Contractual Setting: The Perils of Ignoring
Heterogeneity", Marketing Science 29(1); "FH10", where alpha and beta are written gamma, delta).

Data: per customer, ``renewals`` n (renewal decisions passed, whole number >= 0) and
``churned`` (left at decision n + 1) or not (still active: right-censored). A lifetime T counts
contract periods, so churned customers have T = n + 1 and active ones T > n:

    S(t)     = P(T > t)     = B(alpha, beta + t) / B(alpha, beta)                  (FH07 eq. 2)
    P(T = t) = S(t - 1) alpha / (alpha + beta + t - 1)                             (FH07 eq. 1)
    r(t)     = S(t) / S(t-1) = (beta + t - 1) / (alpha + beta + t - 1)            (FH07 eq. 8)

A cohort table (1,000 customers, 631 left after year 1, ...) is the same data with weights
(``fit_cohort``). Value: a customer who has made n renewals and is at their next renewal
decision, paying ``margin`` per period at the start of each period (the next payment, if they
renew, undiscounted), is worth margin x DERL, with (FH10 eq. 6, n renewals = their "n - 1")

    DERL(d | n) = (beta + n) / (alpha + beta + n) 2F1(1, beta + n + 1; alpha + beta + n + 1;
                  1 / (1 + d))
                = sum_{k>=1} S(n + k) / S(n) / (1 + d)^(k-1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, hyp2f1

from engine.value.models._common import (
    BaseFitter,
    FloatArray,
    as_array,
    broadcast,
    check_finite,
    check_weights,
    dot,
    reject,
)
from engine.value.models._penalized import fit_penalized


def check_contracts(renewals: object, churned: object) -> tuple[FloatArray, FloatArray]:
    """Validate and broadcast (renewals, churned): renewals whole >= 0, churned 0/1 or bool."""
    n, c = broadcast(renewals=as_array("renewals", renewals),
                     churned=as_array("churned", churned))
    check_finite("renewals", n)
    reject(n < 0, "renewals is negative", lambda i: f"renewals={n[i]}")
    reject(n != np.floor(n), "renewals is not a whole number of renewal decisions",
           lambda i: f"renewals={n[i]}")
    reject((c != 0) & (c != 1), "churned is not 0/1 (false/true)",
           lambda i: f"churned={c[i]}")
    return n, c


def _check_renewals(renewals: object) -> FloatArray:
    n = as_array("renewals", renewals)
    check_finite("renewals", n)
    reject((n < 0) | (n != np.floor(n)), "renewals is not a whole number >= 0",
           lambda i: f"renewals={n[i]}")
    return n


def _check_discount(rate: float, alpha: float | None) -> float:
    """``alpha`` given: the sum runs to infinity, which converges undiscounted only if alpha > 1
    (the mean of 1/theta is then finite)."""
    if not (np.isfinite(rate) and rate >= 0):
        raise ValueError(f"discount_rate must be a finite number >= 0, got {rate!r}")
    if rate == 0 and alpha is not None and alpha <= 1:
        raise ValueError(f"alpha = {alpha:.4g} <= 1: without discounting the expected "
                         "residual lifetime is infinite; give a discount_rate > 0")
    return float(rate)


@dataclass(frozen=True)
class _Data:
    """Sufficient statistics: total weight at each renewal count, and the churned part of it."""

    at: FloatArray  # at[n] = weight of customers with n renewals (churned or not)
    churned: FloatArray  # churned[n] = weight of those who left at decision n + 1
    total: float

    @classmethod
    def build(cls, n: FloatArray, c: FloatArray, w: FloatArray) -> _Data:
        idx = n.astype(np.intp)
        size = int(np.max(idx)) + 1
        return cls(np.bincount(idx, weights=w, minlength=size).astype(np.float64),
                   np.bincount(idx, weights=w * c, minlength=size).astype(np.float64),
                   float(w.sum()))


def _ll_and_grad(theta: FloatArray, d: _Data) -> tuple[float, FloatArray]:
    """Total weighted log-likelihood and its gradient in (alpha, beta).

    ln S(n) = sum_{i<n} -ln(1 + alpha/(beta+i)) as running sums (exact whatever the size of
    alpha and beta), and each churned customer adds ln(alpha / (alpha + beta + n)).
    """
    a, b = theta
    i = np.arange(len(d.at), dtype=np.float64)
    bi, abi = b + i, a + b + i
    # weight of customers with more than i renewals: each passed decision i + 1
    beyond = np.cumsum(d.at[::-1])[::-1] - d.at
    ll = -dot(beyond, np.log1p(a / bi))
    g_a = -dot(beyond, 1.0 / abi)
    g_b = dot(beyond, a / (bi * abi))
    n_churned = float(d.churned.sum())
    ll += n_churned * np.log(a) - dot(d.churned, np.log(abi))
    g_a += n_churned / a - dot(d.churned, 1.0 / abi)
    g_b -= dot(d.churned, 1.0 / abi)
    return float(ll), np.array([g_a, g_b])


def log_likelihood(params: dict[str, float], renewals: object, churned: object) -> FloatArray:
    """Per-customer sBG log-likelihood: ln S(n), plus ln(alpha/(alpha+beta+n)) if churned."""
    a, b = params["alpha"], params["beta"]
    n, c = check_contracts(renewals, churned)
    ls = betaln(a, b + n) - betaln(a, b)
    return np.asarray(ls + c * (np.log(a) - np.log(a + b + n)), dtype=np.float64)


def cohort_to_contracts(survivors: Sequence[float]) -> tuple[FloatArray, FloatArray,
                                                             FloatArray]:
    """(renewals, churned, weights) rows of one cohort's survivor counts s_0, s_1, ..., s_T.

    s_{t-1} - s_t customers left at decision t (t - 1 renewals); s_T are still active with T
    renewals.
    """
    s = as_array("survivors", survivors)
    check_finite("survivors", s)
    if len(s) < 2 or s[0] <= 0:
        raise ValueError("survivors needs the cohort size s_0 > 0 and at least one later count")
    reject((s < 0) | (s != np.floor(s)), "survivors is not a whole number >= 0",
           lambda i: f"survivors[{i}]={s[i]}")
    reject(np.diff(s, prepend=s[0]) > 0, "survivors increases",
           lambda i: f"survivors[{i}]={s[i]} > survivors[{i - 1}]={s[i - 1]}; a cohort "
           "only shrinks")
    periods = len(s) - 1
    renewals = np.arange(periods + 1, dtype=np.float64)
    churned = np.r_[np.ones(periods), 0.0]
    weights = np.r_[s[:-1] - s[1:], s[-1]]
    return renewals, churned, weights


class ShiftedBetaGeoFitter(BaseFitter):
    """sBG model of contract renewal fitted by maximum likelihood (analytic gradient).

    ``penalizer`` adds ``penalizer * (alpha**2 + beta**2)`` to the mean negative
    log-likelihood, as in the other fitters (lifetimes' ``penalizer_coef``).
    """

    param_names = ("alpha", "beta")

    def fit(self, renewals: object, churned: object, *, weights: object | None = None,
            initial_params: dict[str, float] | None = None) -> ShiftedBetaGeoFitter:
        """Fit on per-customer contract data (see the module docstring for the inputs).

        Raises ``ValueError`` for invalid inputs or data that cannot identify the model (no
        churn at all, or no customer past the first renewal decision), and
        ``ConvergenceError`` if the fit fails.
        """
        n, c = check_contracts(renewals, churned)
        w = np.ones_like(n) if weights is None else check_weights(weights, len(n))
        name = type(self).__name__
        if not np.any((c == 1) & (w > 0)):
            raise ValueError(f"{name}: no customer churned: the churn rate cannot be estimated")
        if not np.any((n >= 1) & (w > 0)):
            raise ValueError(f"{name}: no customer is past the first renewal decision: how "
                             "churn varies between customers cannot be estimated")
        data = _Data.build(n, c, w)
        if initial_params is None:
            # moments start: the first decision's churn share is alpha / (alpha + beta)
            first = float(data.churned[0] / data.at.sum()) if data.churned[0] > 0 else 0.5
            initial_params = {"alpha": 1.0, "beta": max((1 - first) / max(first, 1e-3), 1e-2)}
        z0 = np.log([initial_params[k] for k in self.param_names])
        result, ll = fit_penalized(name, self.param_names,
                                   lambda theta: _ll_and_grad(theta, data), data.total,
                                   self.penalizer, z0)
        self._store(result, ll, round(data.total))
        return self

    def fit_cohort(self, survivors: Sequence[float] | Sequence[Sequence[float]]
                   ) -> ShiftedBetaGeoFitter:
        """Fit on survivor counts of one cohort (s_0, s_1, ..., s_T: FH07's data), or of several
        cohorts observed for different numbers of periods (a list of such sequences)."""
        cohorts = (list(survivors) if len(survivors) and np.ndim(survivors[0]) == 1
                   else [survivors])
        parts = [cohort_to_contracts(s) for s in cohorts]  # type: ignore[arg-type]
        n, c, w = (np.concatenate([p[k] for p in parts]) for k in range(3))
        return self.fit(n, c, weights=w)

    def survival(self, t: object) -> FloatArray:
        """S(t) = P(a new customer is still active after t renewal decisions)."""
        a, b = self._param_array()
        tt = _check_renewals(t)
        return np.asarray(np.exp(betaln(a, b + tt) - betaln(a, b)), dtype=np.float64)

    def retention(self, t: object) -> FloatArray:
        """r(t) = S(t) / S(t-1) = (beta + t - 1) / (alpha + beta + t - 1), for t >= 1: the share
        of the cohort active after t - 1 decisions that renews at decision t."""
        a, b = self._param_array()
        tt = _check_renewals(t)
        reject(tt < 1, "t is below 1 (retention starts at the first decision)",
               lambda i: f"t={tt[i]}")
        return np.asarray((b + tt - 1) / (a + b + tt - 1), dtype=np.float64)

    def churn_probability(self, renewals: object) -> FloatArray:
        """P(churn at the next decision | active after n renewals) = alpha / (alpha + beta + n):
        the posterior mean of theta, which falls as a customer proves loyal."""
        a, b = self._param_array()
        n = _check_renewals(renewals)
        return np.asarray(a / (a + b + n), dtype=np.float64)

    def derl(self, renewals: object, *, discount_rate: float,
             horizon: int | None = None) -> FloatArray:
        """Discounted expected residual lifetime (in payments) of an active customer with n
        renewals at their next decision: sum_{k=1..K} S(n+k)/S(n) / (1+d)^(k-1), K = horizon
        (number of future payments counted) or infinity (FH10 eq. 6, through 2F1).

        ``discount_rate`` d is per contract period. Evaluated once per distinct n.
        """
        a, b = self._param_array()
        n = _check_renewals(renewals)
        d = _check_discount(discount_rate, a if horizon is None else None)
        un, inv = np.unique(n, return_inverse=True)
        if horizon is None:
            z = 1.0 / (1.0 + d)
            out = (b + un) / (a + b + un) * hyp2f1(1.0, b + un + 1, a + b + un + 1, z)
        else:
            if int(horizon) != horizon or horizon < 0:
                raise ValueError(f"horizon must be a whole number >= 0, got {horizon!r}")
            out = np.zeros_like(un)
            ratio = np.ones_like(un)
            for k in range(1, int(horizon) + 1):  # a few dozen steps, vectorised over n
                ratio = ratio * (b + un + k - 1) / (a + b + un + k - 1)
                out += ratio * (1.0 + d) ** -(k - 1)
        return np.asarray(out[inv.reshape(-1)], dtype=np.float64)

    def residual_value(self, renewals: object, margin: object, *, discount_rate: float,
                       horizon: int | None = None) -> FloatArray:
        """margin x DERL: expected discounted margin still to come from an active customer
        (``margin`` per period, one value or one per customer)."""
        n = _check_renewals(renewals)
        m, dl = broadcast(margin=as_array("margin", margin),
                          derl=self.derl(n, discount_rate=discount_rate, horizon=horizon))
        check_finite("margin", m)
        return np.asarray(m * dl, dtype=np.float64)

    def discounted_expected_lifetime(self, *, discount_rate: float) -> float:
        """DEL of a new customer in payments, the first one included and undiscounted:
        sum_{t>=0} S(t) / (1+d)^t = 2F1(1, beta; alpha + beta; 1/(1+d)) (FH10 eq. 4)."""
        a, b = self._param_array()
        d = _check_discount(discount_rate, a)
        return float(hyp2f1(1.0, b, a + b, 1.0 / (1.0 + d)))

    def log_likelihood(self, renewals: object, churned: object) -> FloatArray:
        """Per-customer log-likelihood at the fitted parameters."""
        self._check_fitted()
        return log_likelihood(self.params_, renewals, churned)


def simulate(params: dict[str, float], periods: object, *, rng: np.random.Generator
             ) -> tuple[FloatArray, FloatArray]:
    """Draw (renewals, churned) for customers observed through ``periods`` renewal decisions
    each: theta ~ Beta(alpha, beta), lifetime T ~ Geometric(theta) in periods."""
    horizon = as_array("periods", periods)
    lifetime = rng.geometric(rng.beta(params["alpha"], params["beta"], len(horizon)))
    churned = lifetime <= horizon
    renewals = np.where(churned, lifetime - 1, horizon)
    return renewals.astype(np.float64), churned.astype(np.float64)
