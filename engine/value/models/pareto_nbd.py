"""Pareto/NBD model of repeat purchasing (Schmittlein, Morrison & Colombo 1987).

While active, a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); their
lifetime is exponential with rate mu ~ Gamma(s, beta). Formulas follow Fader & Hardie's notes
"A Note on Deriving the Pareto/NBD Model and Related Expressions" (2005, "note 008") and
"Deriving the Pareto/NBD likelihood"; the parameter values on CDNOW are those of Fader,
Hardie & Lee (2005, Marketing Science 24(2)).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize
from scipy.special import expit

from engine.value.models._beta_geo import _check_t, _steps
from engine.value.models._common import (
    ADVICE,
    LOG_BOUND,
    OPTIMIZER_OPTIONS,
    BaseFitter,
    ConvergenceError,
    FloatArray,
    ObjectiveWithGrad,
    check_range,
    check_rfm,
    check_some_repeat,
    compress,
    dot,
    fit_mle,
    iterations,
)
from engine.value.models._threads import once_per_point, one_blas_thread
from engine.value.models.pareto_nbd_ll import Rows, ll_and_grad, parts


def log_likelihood(params: dict[str, float], frequency: object, recency: object,
                   T: object) -> FloatArray:
    """Per-customer Pareto/NBD log-likelihood (note 008, eq. 17-19), vectorised."""
    x, tx, t = check_rfm(frequency, recency, T)
    lead, term1, term2 = parts(np.array([params[k] for k in ParetoNBDFitter.param_names]),
                                Rows(x, tx, t))
    return np.asarray(lead + np.logaddexp(term1, term2), dtype=np.float64)


class ParetoNBDFitter(BaseFitter):
    """Pareto/NBD model fitted by maximum likelihood.

    The log-likelihood needs the Gauss hypergeometric function 2F1 (``pareto_nbd_ll``: summed
    as a series once per distinct (x, u) pair, u = t_x or T, with its derivatives), so the
    gradient is analytic but for the derivatives of 2F1 in its parameters, which the series
    gives too; the standard errors come from the Hessian by differences of that gradient.
    ``penalizer`` adds ``penalizer * sum(params**2)`` to the mean negative log-likelihood.
    """

    param_names = ("r", "alpha", "s", "beta")

    def fit(self, frequency: object, recency: object, T: object, *,
            weights: object | None = None,
            initial_params: dict[str, float] | None = None) -> ParetoNBDFitter:
        """Fit by maximum likelihood; identical rows are compressed unless weights are given."""
        x, tx, t = check_rfm(frequency, recency, T)
        check_some_repeat(type(self).__name__, x)
        (xu, txu, tu), w = compress([x, tx, t], weights)
        rows = Rows(xu, txu, tu)
        total = float(w.sum())
        pen = self.penalizer
        w_x = np.asarray(np.bincount(rows.x_at, w), dtype=np.float64)

        at = once_per_point(lambda theta: ll_and_grad(theta, rows, w, w_x))

        def objective(z: FloatArray) -> tuple[float, FloatArray]:
            theta = np.exp(z)
            ll, grad = at(theta)
            return (-ll / total + pen * dot(theta, theta),
                    -grad * theta / total + 2 * pen * theta * theta)

        scale = max(float(np.mean(t)), 1e-3) / 4
        start = initial_params or {"r": 1.0, "alpha": scale, "s": 1.0, "beta": scale}
        z0 = _search(type(self).__name__, objective,
                     np.log([start[k] for k in self.param_names]))
        result = fit_mle(type(self).__name__, self.param_names, objective, z0,
                         analytic_gradient=True, total_weight=total)
        self._store(result, at(result.params)[0], round(total))
        return self

    def log_likelihood(self, frequency: object, recency: object, T: object) -> FloatArray:
        """Per-customer log-likelihood at the fitted parameters."""
        self._check_fitted()
        return log_likelihood(self.params_, frequency, recency, T)

    def p_alive(self, frequency: object, recency: object, T: object) -> FloatArray:
        """P(alive at T | x, t_x, T) = 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0)."""
        theta = self._param_array()
        x, tx, t = check_rfm(frequency, recency, T)
        _, term1, term2 = parts(theta, Rows(x, tx, t))
        return np.asarray(expit(term1 - term2), dtype=np.float64)

    def expected_purchases(self, t: object, frequency: object, recency: object,
                           T: object) -> FloatArray:
        """E[Y(t) | x, t_x, T] (note 008, eq. 22): P(alive) (r+x)(beta+T) / ((alpha+T)(s-1))
        [1 - ((beta+T)/(beta+T+t))^(s-1)], with its limit at s = 1."""
        r, alpha, s, beta = self._param_array()
        x, tx, big_t = check_rfm(frequency, recency, T)
        tt = _check_t(t, len(x))
        growth = _lifetime_integral(tt, beta + big_t, s)
        out = (r + x) / (alpha + big_t) * growth * self.p_alive(x, tx, big_t)
        return np.asarray(out, dtype=np.float64)

    def expected_purchases_new(self, t: object) -> FloatArray:
        """E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)] (note 008, eq. 21)."""
        r, alpha, s, beta = self._param_array()
        tt = _check_t(t, None)
        return np.asarray(r / alpha * _lifetime_integral(tt, np.full_like(tt, beta), s),
                          dtype=np.float64)

    def discounted_expected_purchases(
            self, frequency: object, recency: object, T: object, *, horizon: int,
            discount_rate_per_period: float, periods_per_step: float = 1.0,
            given_alive: bool = False) -> FloatArray:
        """sum_k (E[Y(k D)] - E[Y((k-1) D)]) / (1+d)^k for k = 1..horizon, D = periods_per_step.

        Purchases expected during step k are discounted by k whole steps (end of step).
        ``given_alive``: the same given that the customer is alive at T (the factor P(alive)
        left out, not divided back: it underflows to 0 for a heavy buyer lapsed long ago).
        """
        r, alpha, s, beta = self._param_array()
        x, tx, big_t = check_rfm(frequency, recency, T)
        steps, disc = _steps(horizon, discount_rate_per_period, periods_per_step)
        bt = beta + big_t
        acc = np.zeros_like(big_t)
        prev = np.zeros_like(big_t)
        for tk, dk in zip(steps, disc, strict=True):
            cur = _lifetime_integral(np.full_like(bt, tk), bt, s)
            acc += dk * (cur - prev)
            prev = cur
        out = (r + x) / (alpha + big_t) * acc
        if not given_alive:
            out = out * self.p_alive(x, tx, big_t)
        return np.asarray(out, dtype=np.float64)


def _lifetime_integral(t: FloatArray, b: FloatArray, s: float) -> FloatArray:
    """b/(s-1) [1 - (b/(b+t))^(s-1)] = E[min(lifetime, t)] given mu ~ Gamma(s, b); b ln(1+t/b)
    at s = 1."""
    log_ratio = np.log1p(t / b)
    if abs(s - 1) < 1e-10:
        return np.asarray(b * log_ratio, dtype=np.float64)
    return np.asarray(b * -np.expm1(-(s - 1) * log_ratio) / (s - 1), dtype=np.float64)


S_MAX = 20.0  # upper bound of s in the search: drop-out rates then vary by 1/sqrt(s) < 23%
R_MAX = 20.0  # the same for r: purchase rates then vary by 1/sqrt(r) < 23%


def _search(model: str, objective: ObjectiveWithGrad, z0: FloatArray) -> FloatArray:
    """Approach the maximum in coordinates (ln r, ln alpha, ln s, ln(s/beta)), with s <= S_MAX.

    When drop-out rates hardly vary between customers, the likelihood keeps rising as s and
    beta grow together (the mean drop-out rate s/beta staying put): there is no finite
    estimate, and each step up that ridge costs more (the hypergeometric series grows with s).
    In these coordinates the ridge is one axis, which the bound cuts short; reaching it is
    reported. The same happens as r and alpha grow together when purchase rates hardly vary
    (each step dearer still: 2F1 is then evaluated near z = 1): a step of the search that
    takes r past R_MAX stops it, and that is reported too. Elsewhere the answer is a good
    start for ``fit_mle`` in the usual coordinates.
    """
    to_log_params = np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0, 1.0, -1.0]])

    def fun(u: FloatArray) -> tuple[float, FloatArray]:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            value, grad = objective(to_log_params @ u)  # far out, a NaN it steps back from
        return value, to_log_params.T @ grad

    u0 = np.linalg.solve(to_log_params, z0)
    top = float(np.log(S_MAX))
    bounds = [(-LOG_BOUND, LOG_BOUND)] * 4
    bounds[2] = (-LOG_BOUND, top)
    with one_blas_thread():
        res = optimize.minimize(fun, np.minimum(u0, [LOG_BOUND, LOG_BOUND, top, LOG_BOUND]),
                                jac=True, method="L-BFGS-B", bounds=bounds,
                                options=OPTIMIZER_OPTIONS, callback=_rate_ridge(model))
    if res.x[2] >= top - 1e-6:
        raise ConvergenceError(
            f"{model}: the likelihood still rises at s = {S_MAX:g} (the upper bound of the "
            f"search), with a mean drop-out rate s/beta = {np.exp(res.x[3]):.4g} per time "
            "unit: drop-out rates hardly vary between customers in these data, and the "
            "Pareto/NBD has no finite estimate (its limit, s -> infinity, gives every "
            "customer that one rate).", "BG/NBD or MBG/NBD describe such data.")
    z = np.asarray(to_log_params @ res.x, dtype=np.float64)
    check_range(model, ParetoNBDFitter.param_names, np.exp(z))
    return z


def _rate_ridge(model: str) -> Callable[[FloatArray], None]:
    """The search's callback (each step it takes, not each point it tries): the progress
    bar, and a ConvergenceError once a step has r > R_MAX."""
    tick = iterations("Pareto/NBD")

    def step(u: FloatArray) -> None:
        tick(u)
        r, alpha = float(np.exp(u[0])), float(np.exp(u[1]))
        if r > R_MAX:
            raise ConvergenceError(
                f"{model}: the likelihood still rises as r and alpha grow together (r = "
                f"{r:.4g} > {R_MAX:g}, the largest the search allows), with a mean purchase "
                f"rate r/alpha = {r / alpha:.4g} per time unit: purchase rates hardly vary "
                "between customers in these data, and the Pareto/NBD has no finite estimate "
                "(its limit, r -> infinity, gives every customer that one rate).", ADVICE)

    return step
