"""The penalised maximum-likelihood fit shared by the fitters with an analytic gradient in
their natural parameters (BG/NBD, MBG/NBD, sBG)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from engine.value.models._common import FloatArray, MLEResult, dot, fit_mle
from engine.value.models._threads import once_per_point

# natural parameters -> (total weighted log-likelihood, its gradient in those parameters)
LogLikelihood = Callable[[FloatArray], tuple[float, FloatArray]]


def fit_penalized(model: str, names: Sequence[str], ll_and_grad: LogLikelihood, total: float,
                  penalizer: float, z0: FloatArray) -> tuple[MLEResult, float]:
    """``fit_mle`` on the log-parameters of the mean negative log-likelihood plus
    ``penalizer * sum(params**2)`` (the lifetimes convention); the result and the total
    log-likelihood at the estimate."""

    ll_and_grad = once_per_point(ll_and_grad)

    def objective(z: FloatArray) -> tuple[float, FloatArray]:
        theta = np.exp(z)
        ll, grad = ll_and_grad(theta)
        value = -ll / total + penalizer * dot(theta, theta)
        return value, (-grad / total + 2 * penalizer * theta) * theta

    result = fit_mle(model, names, objective, z0, analytic_gradient=True, total_weight=total)
    return result, ll_and_grad(result.params)[0]
