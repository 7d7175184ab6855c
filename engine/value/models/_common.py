"""Shared machinery of the probabilistic CLV models.

* input checks that name how many rows are bad and the first one (``ValueError``);
* compression of identical rows into unique rows with counts (``unique_rows``), which is what
  makes a million customers fast: the likelihood is evaluated once per distinct row;
* the maximum-likelihood wrapper (``fit_mle``): L-BFGS-B on log-parameters, with loud
  convergence checks (``ConvergenceError``) and standard errors from the inverse Hessian of the
  negative log-likelihood, reported on the natural parameter scale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from engine.value.models._threads import one_blas_thread
from engine.value.models.unidentified import ridge, unidentified

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
# (log-parameters) -> (mean negative log-likelihood, its gradient w.r.t. the log-parameters)
ObjectiveWithGrad = Callable[[FloatArray], tuple[float, FloatArray]]
Objective = Callable[[FloatArray], float]

PARAM_MIN = 1e-8
PARAM_MAX = 1e6
LOG_BOUND = float(np.log(1e9))  # the optimiser's box; PARAM_MIN/MAX flag absurd values


class NotFittedError(RuntimeError):
    """A model was used before ``fit()``."""


class ConvergenceError(RuntimeError):
    """Maximum likelihood failed: the message says what happened and what to try.

    ``reason`` is the message without the advice (which names the Python API's settings), for
    callers that give their own hint.
    """

    def __init__(self, reason: str, advice: str = "") -> None:
        super().__init__(f"{reason} {advice}" if advice else reason)
        self.reason = reason


ADVICE = (
    "Try: more data (a few hundred customers with repeat purchases at least), a small "
    "penalizer (e.g. penalizer=0.001), and check the time units (frequency counts repeat "
    "purchase days; recency and T must share one unit, weeks are usual, and recency <= T)."
)
# L-BFGS-B's own tests; a stop for another reason is judged by NEWTON_TOLERANCE (fit_mle)
OPTIMIZER_OPTIONS = {"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8}
def iterations(model: str) -> Callable[[Any], None]:
    """An optimizer callback that reports its iterations to a terminal's progress bar (no
    effect on the fit; nothing happens without a terminal)."""
    from engine.terminal import tick
    from engine.value.models.messages import title_of  # the bar names the model, not a class

    count, top, label = [0], int(OPTIMIZER_OPTIONS["maxiter"]), f"fit {title_of(model)}: iterations"

    def step(_: Any) -> None:
        count[0] += 1
        tick(label, count[0], top)

    return step


NEWTON_TOLERANCE = 0.01  # largest remaining Newton step accepted, in standard errors


def dot(a: FloatArray, b: FloatArray) -> float:
    """sum(a * b) without BLAS: on large vectors ``a @ b`` wakes OpenBLAS's thread pool, whose
    spinning threads then slow every small step of the optimiser (2x on a 2-core machine)."""
    return float(np.einsum("i,i->", a, b))


def as_array(name: str, values: object) -> FloatArray:
    """A 1-D float64 copy of ``values``; scalars become length-1 arrays."""
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _first(mask: npt.NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


def reject(mask: npt.NDArray[np.bool_], what: str, show: Callable[[int], str]) -> None:
    """Raise ``ValueError`` if any row is flagged: '<what> in N rows (first at index i: ...)'."""
    n_bad = int(np.count_nonzero(mask))
    if n_bad:
        i = _first(mask)
        raise ValueError(f"{what} in {n_bad} row{'s' if n_bad > 1 else ''} "
                         f"(first at index {i}: {show(i)})")


def check_finite(name: str, arr: FloatArray) -> None:
    reject(~np.isfinite(arr), f"{name} is NaN or infinite", lambda i: f"{name}={arr[i]}")


def check_nonnegative(name: str, arr: FloatArray) -> None:
    reject(arr < 0, f"{name} is negative", lambda i: f"{name}={arr[i]}")


def broadcast(**arrays: FloatArray) -> list[FloatArray]:
    """Broadcast length-1 arrays against the others; all lengths must agree otherwise."""
    lengths = {k: len(v) for k, v in arrays.items()}
    n = max(lengths.values())
    if any(m not in (1, n) for m in lengths.values()):
        raise ValueError(f"inputs have different lengths: {lengths}")
    return [np.broadcast_to(v, (n,)) if len(v) == 1 and n != 1 else v for v in arrays.values()]


def check_rfm(frequency: object, recency: object, T: object) -> tuple[FloatArray, ...]:
    """Validate and broadcast the (frequency, recency, T) summary of each customer.

    Rejected with ``ValueError``: NaN or infinite values, negative values, fractional
    frequency, recency > T, and frequency == 0 with recency > 0 (recency is the time between
    the first and the last purchase, so it is 0 without repeat purchases).
    """
    x, tx, t = broadcast(frequency=as_array("frequency", frequency),
                         recency=as_array("recency", recency), T=as_array("T", T))
    for name, arr in (("frequency", x), ("recency", tx), ("T", t)):
        check_finite(name, arr)
        check_nonnegative(name, arr)
    reject(x != np.floor(x), "frequency is not a whole number of repeat purchases",
           lambda i: f"frequency={x[i]}")
    reject(tx > t, "recency > T", lambda i: f"recency={tx[i]}, T={t[i]}; both are measured "
           "from the first purchase, in the same time unit")
    reject((x == 0) & (tx > 0), "frequency == 0 with recency > 0",
           lambda i: f"recency={tx[i]}; recency is the time from the first to the last purchase")
    return x, tx, t


def check_some_repeat(model: str, frequency: FloatArray) -> None:
    """The transaction models need at least one repeat purchase to say anything."""
    if not np.any(frequency > 0):
        raise ValueError(f"{model}: no customer has a repeat purchase (all frequency == 0): "
                         "the model cannot be fitted")


def check_weights(weights: object, n: int) -> FloatArray:
    w = as_array("weights", weights)
    if len(w) != n:
        raise ValueError(f"weights has {len(w)} values for {n} customers")
    check_finite("weights", w)
    reject(w < 0, "weights is negative", lambda i: f"weights={w[i]}")
    if not np.any(w > 0):
        raise ValueError("weights are all zero: nothing to fit")
    return w


def unique_rows(*columns: FloatArray) -> tuple[list[FloatArray], IntArray, FloatArray]:
    """Distinct rows of the stacked columns: (unique columns, inverse index, counts).

    Hash-based (``pandas.factorize`` pairwise on codes), so it runs in O(n) and does not sort:
    about 40 ms for a million rows of three columns, against a second for
    ``np.unique(axis=0)``.
    """
    codes, _ = pd.factorize(columns[0])
    for col in columns[1:]:
        c2, u2 = pd.factorize(col)
        codes, _ = pd.factorize(codes.astype(np.int64) * len(u2) + c2)
    inverse = np.asarray(codes, dtype=np.intp)
    n_unique = int(inverse.max()) + 1 if len(inverse) else 0
    # factorize numbers values in order of first appearance: a row starts a new group
    # exactly when its code exceeds every code before it
    is_new = np.ones(len(inverse), dtype=bool)
    is_new[1:] = inverse[1:] > np.maximum.accumulate(inverse)[:-1]
    first = np.flatnonzero(is_new)
    counts = np.bincount(inverse, minlength=n_unique).astype(np.float64)
    return [np.ascontiguousarray(c[first]) for c in columns], inverse, counts


def compress(columns: Sequence[FloatArray], weights: object | None
             ) -> tuple[list[FloatArray], FloatArray]:
    """Rows and weights for the likelihood: unique rows with counts unless weights are given."""
    if weights is None:
        uniq, _, counts = unique_rows(*columns)
        return uniq, counts
    w = check_weights(weights, len(columns[0]))
    keep = w > 0
    return [np.ascontiguousarray(c[keep]) for c in columns], w[keep]


@dataclass(frozen=True)
class MLEResult:
    params: FloatArray  # natural scale
    standard_errors: FloatArray  # natural scale
    objective: float  # minimised (mean, penalised) negative log-likelihood
    n_iterations: int
    converged: bool
    covariance: FloatArray  # natural scale, parameters in order (for CLV intervals)


def _check_value(model: str, value: float, where: str) -> None:
    if not np.isfinite(value):
        raise ConvergenceError(f"{model}: the log-likelihood is not finite {where}.", ADVICE)


def fit_mle(model: str, names: Sequence[str], objective: ObjectiveWithGrad | Objective,
            x0: FloatArray, *, analytic_gradient: bool, total_weight: float) -> MLEResult:
    """Minimise ``objective`` over log-parameters and check the answer.

    ``objective`` returns the weighted mean negative log-likelihood (plus any penalty) and,
    if ``analytic_gradient``, its gradient with respect to the log-parameters; otherwise the
    gradient is taken by central differences. Standard errors come from the inverse Hessian H
    of the total objective (``total_weight`` times the mean) on the log scale, carried to the
    natural scale by the delta method (se(theta) = theta * se(log theta)).

    Convergence is judged relative to the statistical precision, not by an absolute gradient:
    the fit is accepted when L-BFGS-B reports convergence, or, when it stopped for another
    reason (typically an abnormal line search: in floating point the objective cannot be
    lowered any more), when the Newton step H^-1 g from where it stopped would move no
    log-parameter by more than ``NEWTON_TOLERANCE`` (1%) of its standard error. Whatever the
    number of customers and the units of the data, the remaining error is then negligible
    next to the uncertainty of the estimate.

    Raises ``ConvergenceError`` if the fit is not accepted, if the log-likelihood is not
    finite, if a parameter ends outside [1e-8, 1e6], or if H is not positive definite (a flat
    direction: the data do not identify the parameters).
    """
    if analytic_gradient:
        fun: Callable[[FloatArray], Any] = objective
    else:
        fun = with_numeric_gradient(objective)  # type: ignore[arg-type]
    value0 = fun(x0)[0]
    _check_value(model, float(value0), "at the starting values")
    with one_blas_thread():
        res = optimize.minimize(fun, x0, jac=True, method="L-BFGS-B",
                                bounds=[(-LOG_BOUND, LOG_BOUND)] * len(x0),
                                options=OPTIMIZER_OPTIONS, callback=iterations(model))
    value, grad = fun(res.x)
    _check_value(model, float(value), "at the optimum")
    params = np.exp(res.x)
    check_range(model, names, params)
    hess = (_hessian_from_gradient(fun, res.x) if analytic_gradient
            else _hessian_from_values(objective, res.x)) * total_weight  # type: ignore[arg-type]
    cov = _log_scale_covariance(hess)
    se = np.sqrt(np.diag(cov))
    if not res.success:
        worst = newton_step_in_se(hess, np.asarray(grad) * total_weight, se)
        if not worst <= NEWTON_TOLERANCE:
            gmax = float(np.max(np.abs(grad)))
            remaining = (f"a Newton step would still move the estimate by {worst:.2g} "
                         "standard errors" if np.isfinite(worst) else
                         "the log-likelihood is not concave there")
            raise ConvergenceError(
                f"{model}: the optimiser did not converge after {res.nit} iterations "
                f"({res.message}; largest gradient component {gmax:.2g}; {remaining}).",
                ADVICE)
    if not np.all(np.isfinite(se)):
        shown = ", ".join(f"{k}={v:.4g}" for k, v in zip(names, params, strict=True))
        raise ConvergenceError(
            f"{model}: the log-likelihood is flat in some direction at {shown} (its Hessian "
            "is not positive definite): these data do not identify the parameters.", ADVICE)
    return MLEResult(params, params * se, float(value), int(res.nit), True,
                     cov * np.outer(params, params))


def check_range(model: str, names: Sequence[str], params: FloatArray) -> None:
    """Parameters outside [PARAM_MIN, PARAM_MAX] mean the data do not identify the model."""
    for name, value_ in zip(names, params, strict=True):
        if not PARAM_MIN <= value_ <= PARAM_MAX:
            raise ConvergenceError(*ridge(model, dict(zip(names, params, strict=True)),
                                          PARAM_MAX) or (
                f"{model}: parameter {name} = {value_:.4g} is outside [{PARAM_MIN:g}, "
                f"{PARAM_MAX:g}]: the data do not identify the model "
                f"({unidentified(model)}).", ADVICE))


def newton_step_in_se(hess: FloatArray, grad: FloatArray, se: FloatArray) -> float:
    """max_i |(H^-1 g)_i| / se_i: how far, in standard errors, the optimum still is (to a
    quadratic approximation); infinite where H is not positive definite."""
    if not np.all(np.isfinite(se)):
        return float("inf")
    step = np.linalg.solve(hess, grad)
    return float(np.max(np.abs(step) / se))


def with_numeric_gradient(objective: Objective, *, forward: bool = False
                          ) -> ObjectiveWithGrad:
    """The objective with its gradient by central differences (or, with ``forward``, by
    forward differences: half the evaluations, an error of order h, good enough to search)."""
    def fun(z: FloatArray) -> tuple[float, FloatArray]:
        value = objective(z)
        grad = np.empty_like(z)
        h = 1e-6
        for i in range(len(z)):
            e = np.zeros_like(z)
            e[i] = h
            grad[i] = ((objective(z + e) - value) / h if forward
                       else (objective(z + e) - objective(z - e)) / (2 * h))
        return value, grad
    return fun


def _hessian_from_gradient(fun: Callable[[FloatArray], Any], z: FloatArray) -> FloatArray:
    """Forward differences of the analytic gradient (k + 1 evaluations), symmetrised."""
    k = len(z)
    hess = np.empty((k, k))
    h = 1e-6
    g0 = fun(z)[1]
    for i in range(k):
        e = np.zeros(k)
        e[i] = h
        hess[i] = (fun(z + e)[1] - g0) / h
    return np.asarray(0.5 * (hess + hess.T), dtype=np.float64)


def _hessian_from_values(objective: Objective, z: FloatArray) -> FloatArray:
    k = len(z)
    hess = np.empty((k, k))
    h = 1e-4
    f0 = objective(z)
    for i in range(k):
        for j in range(i, k):
            ei = np.zeros(k)
            ei[i] = h
            ej = np.zeros(k)
            ej[j] = h
            if i == j:
                hess[i, i] = (objective(z + ei) - 2 * f0 + objective(z - ei)) / h**2
            else:
                hess[i, j] = hess[j, i] = (
                    objective(z + ei + ej) - objective(z + ei - ej)
                    - objective(z - ei + ej) + objective(z - ei - ej)) / (4 * h * h)
    return hess


def _log_scale_covariance(hess: FloatArray) -> FloatArray:
    """H^-1, the covariance of the log-parameters; NaN where H is not positive definite."""
    try:
        np.linalg.cholesky(hess)
        return np.asarray(np.linalg.inv(hess), dtype=np.float64)
    except np.linalg.LinAlgError:
        return np.full(hess.shape, np.nan)


def _log_scale_se(hess: FloatArray) -> FloatArray:
    """sqrt(diag(H^-1)) on the log scale; NaN where H is not positive definite."""
    return np.asarray(np.sqrt(np.diag(_log_scale_covariance(hess))), dtype=np.float64)


class BaseFitter:
    """State and checks shared by the fitters (lifetimes style: learned state ends in ``_``)."""

    param_names: tuple[str, ...] = ()

    def __init__(self, penalizer: float = 0.0) -> None:
        if not (np.isfinite(penalizer) and penalizer >= 0):
            raise ValueError(f"penalizer must be a finite number >= 0, got {penalizer!r}")
        self.penalizer = float(penalizer)
        self.params_: dict[str, float] = {}
        self.standard_errors_: dict[str, float] = {}
        # covariance of the estimates (natural scale, rows and columns in param_names order):
        # the inverse Hessian of the negative log-likelihood, carried from the log scale
        self.covariance_: FloatArray = np.empty((0, 0))
        self.log_likelihood_: float = float("nan")
        self.n_customers_: int = 0
        self.converged_: bool = False

    def _check_fitted(self) -> None:
        if not self.params_:
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit() first")

    def _param_array(self) -> FloatArray:
        self._check_fitted()
        return np.array([self.params_[k] for k in self.param_names], dtype=np.float64)

    def _store(self, result: MLEResult, log_likelihood: float, n_customers: int) -> None:
        self.params_ = {k: float(v) for k, v in zip(self.param_names, result.params, strict=True)}
        self.standard_errors_ = {k: float(v) for k, v in
                                 zip(self.param_names, result.standard_errors, strict=True)}
        self.covariance_ = result.covariance
        self.log_likelihood_ = float(log_likelihood)
        self.n_customers_ = int(n_customers)
        self.converged_ = result.converged

    def summary(self) -> pd.DataFrame:
        """Parameters with standard errors and 95% Wald intervals (natural scale)."""
        self._check_fitted()
        est = pd.Series(self.params_)
        se = pd.Series(self.standard_errors_)
        return pd.DataFrame({"estimate": est, "std_error": se,
                             "lower_95": est - 1.96 * se, "upper_95": est + 1.96 * se})

    def __repr__(self) -> str:
        if not self.params_:
            return f"{type(self).__name__}(penalizer={self.penalizer}) [not fitted]"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({shown}; n={self.n_customers_})"
