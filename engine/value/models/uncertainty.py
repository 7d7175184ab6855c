"""Intervals for model CLV from the uncertainty of the fitted parameters (delta method).

What is bounded: the model's expected CLV of each customer given their history,
CLV_i(theta) = margin_i x E[Z | x, mbar; theta_spend] x DEP_i(theta_purchase) (DEP: discounted
expected purchases over the horizon), and total customer equity sum_i CLV_i(theta), as they
would be at the true parameters. The estimates theta-hat differ from theta by sampling error,
whose covariance is the inverse Hessian of the negative log-likelihood (``covariance_``). It is
NOT a prediction interval for what a customer will actually spend (that also carries the
Poisson and Gamma noise of the future, and is far wider).

Method: the delta method on the log-parameters, which is the scale on which the fitters
estimate, on which theta-hat is close to normal, and on which the covariance is computed. For
any CLV-like quantity V(theta), se(V) = sqrt(g' S g) with g = dV/d(log theta) (central
differences of the purchase model's predictions, analytic for the spend model) and S the
covariance of the log-parameters. The purchase and spend likelihoods are separate factors of
the joint likelihood (spend given x), so the two estimates are asymptotically independent and
S is block diagonal. The interval is V exp(+/- z se(V) / V): log-normal, so it stays positive
and is skewed like the estimator.

Why not a parametric bootstrap (draws of theta from N(theta-hat, S), CLV recomputed per draw):
it would evaluate the purchase model a few hundred times instead of nine, for an answer that
differs only by the nonlinearity of CLV in theta, which is small next to the sampling error (the
test compares both); the delta method is also deterministic, with no seed. The purchase-model
part depends on (x, t_x, T) only and is computed once per distinct row (about 0.3 s for a
million customers); the spend part is closed form per customer.

Integration: the value table gets ``clv_model_lower`` / ``clv_model_upper`` (and the report the
total's interval) from ``clv_intervals``, at ``models.interval_level`` (default 0.9).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtri

from engine.value.models._beta_geo import BetaGeoFamily, xt_pairs
from engine.value.models._common import (
    BaseFitter,
    FloatArray,
    as_array,
    broadcast,
    check_rfm,
    unique_rows,
)
from engine.value.models.gamma_gamma import GammaGammaFitter, check_monetary

STEP = 1e-5  # central-difference step on the log-parameters


@dataclass(frozen=True)
class Interval:
    """Point estimates, delta-method standard errors and log-normal interval bounds."""

    estimate: FloatArray
    std_error: FloatArray
    lower: FloatArray
    upper: FloatArray
    level: float


@dataclass(frozen=True)
class GradientBlock:
    """One independent block of parameters: customer i's CLV moves with its log-parameters by
    weight[i] x grad[row[i]] (row None: grad has one row per customer); cov is the block's
    covariance of the log-parameters."""

    weight: FloatArray
    row: np.ndarray | None
    grad: FloatArray
    cov: FloatArray


@dataclass(frozen=True)
class ClvIntervals:
    """Per-customer CLV intervals and the interval for their total (customer equity)."""

    customers: Interval
    total: Interval  # arrays of length 1
    # what the total's interval was made from: any segment's sum is bounded the same way
    blocks: tuple[GradientBlock, ...] = ()

    @property
    def total_estimate(self) -> float:
        return float(self.total.estimate[0])

    def segments(self, group: np.ndarray, count: int) -> Interval:
        """The interval of each segment's total CLV (``group``: a segment number 0..count-1
        per customer, in the customers' order), by the delta method like the total: the
        gradient of the segment's sum is the sum of its customers' gradients, so the
        customers' shared parameter errors are counted once, not added bound by bound."""
        group = np.asarray(group, dtype=np.intp)
        clv = self.customers.estimate
        estimate = np.bincount(group, weights=clv, minlength=count).astype(np.float64)
        var = np.zeros(count)
        for b in self.blocks:
            g = np.column_stack([np.bincount(group, weights=b.weight * (
                b.grad[:, j] if b.row is None else b.grad[b.row, j]), minlength=count)
                for j in range(b.grad.shape[1])])
            var += np.einsum("ij,jk,ik->i", g, b.cov, g)
        return interval(estimate, var, self.total.level)


def log_covariance(model: BaseFitter) -> FloatArray:
    """Covariance of the log-parameters: cov(theta) / (theta theta')."""
    theta = np.array([model.params_[k] for k in model.param_names])
    cov = np.asarray(model.covariance_, dtype=np.float64)
    if cov.shape != (len(theta), len(theta)) or not np.all(np.isfinite(cov)):
        raise ValueError(f"{type(model).__name__} has no parameter covariance: fit it first")
    return np.asarray(cov / np.outer(theta, theta), dtype=np.float64)


def log_gradient(model: BaseFitter, predict: Callable[[Any], FloatArray]
                 ) -> tuple[FloatArray, FloatArray]:
    """(predict(model), d predict / d log theta): central differences, one column per
    parameter, each from a copy of the model with that parameter moved by exp(+/- STEP)."""
    value = predict(model)
    grad = np.empty((len(value), len(model.param_names)))
    for j, name in enumerate(model.param_names):
        moved = []
        for sign in (1.0, -1.0):
            other = copy.copy(model)
            other.params_ = {**model.params_, name: model.params_[name] * np.exp(sign * STEP)}
            moved.append(predict(other))
        grad[:, j] = (moved[0] - moved[1]) / (2 * STEP)
    return value, grad


def interval(estimate: FloatArray, variance: FloatArray, level: float) -> Interval:
    """Log-normal interval estimate x exp(+/- z se / |estimate|), on the estimate's side of
    zero (a negative estimate, a customer expected to cost margin, keeps its sign); zero
    estimates stay zero."""
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    # the normal quantile: scipy.stats.norm.ppf is this very function (and its import builds
    # every distribution's docstring: a second of start-up)
    z = float(ndtri(0.5 + level / 2))
    se = np.sqrt(np.maximum(variance, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.where(estimate != 0, np.exp(z * se / np.abs(estimate)), 1.0)
    gain = estimate >= 0
    return Interval(estimate, se, np.where(gain, estimate / spread, estimate * spread),
                    np.where(gain, estimate * spread, estimate / spread), level)


def spend_log_gradient(spend_model: GammaGammaFitter, frequency: FloatArray,
                       monetary_value: FloatArray) -> tuple[FloatArray, FloatArray]:
    """E[Z | x, mbar] = (gamma + x mbar) p / (p x + q - 1) and its derivatives with respect to
    (log p, log q, log gamma), in closed form."""
    p, q, g = (spend_model.params_[k] for k in ("p", "q", "gamma"))
    x, m = frequency, np.where(frequency > 0, monetary_value, 0.0)
    num, den = g + x * m, p * x + q - 1
    spend = num * p / den
    grad = np.column_stack([p * num * (q - 1) / den**2, -q * num * p / den**2, g * p / den])
    return spend, grad


def clv_intervals(transaction_model: Any, spend_model: GammaGammaFitter, frequency: object,
                  recency: object, T: object, monetary_value: object, *, horizon: int,
                  discount_rate_per_period: float, periods_per_step: float = 1.0,
                  margin_rate: object = 1.0, level: float = 0.9) -> ClvIntervals:
    """Delta-method intervals for each customer's CLV (as ``GammaGammaFitter.clv`` computes it,
    with ``margin_rate`` one value or one per customer) and for their total.

    ``transaction_model``: a fitted BG/NBD, MBG/NBD or Pareto/NBD fitter (anything with
    ``param_names``, ``params_``, ``covariance_`` and ``discounted_expected_purchases``).
    """
    x, tx, big_t = check_rfm(frequency, recency, T)
    x, m = check_monetary(x, monetary_value)
    rate, _ = broadcast(margin_rate=as_array("margin_rate", margin_rate), x=x)
    # a negative rate is a customer whose refunds outweigh their purchases' margin: their
    # future purchases are a loss, as in the formulas (the interval is linear in the rate)
    if not np.all(np.isfinite(rate)):
        raise ValueError("margin_rate must be finite")
    (ux, utx, ut), inv, _ = unique_rows(x, tx, big_t)
    # the BG/NBD family's distinct (x, T), found once for the nine predictions
    given = ({"pairs": xt_pairs(ux, ut)} if isinstance(transaction_model, BetaGeoFamily)
             else {})

    def dep(model: Any) -> FloatArray:
        return np.asarray(model.discounted_expected_purchases(
            ux, utx, ut, horizon=horizon, discount_rate_per_period=discount_rate_per_period,
            periods_per_step=periods_per_step, **given), dtype=np.float64)

    purchases_u, d_purchases_u = log_gradient(transaction_model, dep)
    cov_p, cov_s = log_covariance(transaction_model), log_covariance(spend_model)
    spend, d_spend = spend_log_gradient(spend_model, x, m)
    purchases = purchases_u[inv]
    clv = rate * spend * purchases
    # purchase-parameter part: the quadratic form once per distinct (x, t_x, T)
    quad_u = np.einsum("ij,jk,ik->i", d_purchases_u, cov_p, d_purchases_u)
    # einsum, not @: on long vectors @ wakes OpenBLAS's thread pool, whose spinning threads
    # then slow every later small step (see _common.dot)
    d_total_s = np.einsum("i,ij->j", rate * purchases, d_spend)
    var = (rate * spend) ** 2 * quad_u[inv] + (rate * purchases) ** 2 * np.einsum(
        "ij,jk,ik->i", d_spend, cov_s, d_spend)
    d_total_p = np.einsum("i,ij->j", np.bincount(inv, weights=rate * spend, minlength=len(ux)),
                          d_purchases_u)
    var_total = _quadratic(d_total_p, cov_p) + _quadratic(d_total_s, cov_s)
    return ClvIntervals(interval(clv, var, level),
                        interval(np.array([clv.sum()]), np.array([var_total]), level),
                        (GradientBlock(rate * spend, inv, d_purchases_u, cov_p),
                         GradientBlock(rate * purchases, None, d_spend, cov_s)))


def residual_value_intervals(model: Any, renewals: object, margin: object, *,
                             discount_rate: float, horizon: int | None = None,
                             level: float = 0.9) -> ClvIntervals:
    """The same for subscriptions: margin x DERL of active customers from a fitted
    ``ShiftedBetaGeoFitter``, per customer and in total (DERL is computed per distinct n)."""
    n = as_array("renewals", renewals)
    m, _ = broadcast(margin=as_array("margin", margin), n=n)
    un, inv = np.unique(n, return_inverse=True)
    inv = inv.reshape(-1)

    def derl(fitted: Any) -> FloatArray:
        return np.asarray(fitted.derl(un, discount_rate=discount_rate, horizon=horizon),
                          dtype=np.float64)

    value_u, grad_u = log_gradient(model, derl)
    cov = log_covariance(model)
    quad_u = np.einsum("ij,jk,ik->i", grad_u, cov, grad_u)
    d_total = np.einsum("i,ij->j", np.bincount(inv, weights=m, minlength=len(un)), grad_u)
    value = m * value_u[inv]
    return ClvIntervals(interval(value, m**2 * quad_u[inv], level),
                        interval(np.array([value.sum()]), np.array([_quadratic(d_total, cov)]),
                                 level), (GradientBlock(m, inv, grad_u, cov),))


def _quadratic(g: FloatArray, cov: FloatArray) -> float:
    return float(np.einsum("i,ij,j->", g, cov, g))
