"""How the fitters run their optimiser: one BLAS thread, and each point evaluated once.

scipy's L-BFGS-B (C since scipy 1.15) makes small BLAS calls at every step. They wake
OpenBLAS's thread pool, whose threads then spin on the other cores while the likelihood's numpy
work runs between those calls: on 2 cores a million-customer BG/NBD fit took twice the CPU time
(and longer on a loaded machine), for bit-identical parameters. The optimiser's vectors have a
handful of entries, so one thread loses nothing; the limit is lifted when the fit returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


# BLAS's thread count is the process's, and two fits run at once in `cvm run` (the spend
# model on a second thread). threadpoolctl saves the count on entry and restores it on exit;
# nested across threads that could leave it at one, and OpenBLAS does not reliably take a
# count set from a thread other than the one that lowered it (seen: restored from the second
# thread, it stayed at one). So only the main thread limits it, and restores it itself; a fit
# on another thread runs with the count as it finds it.
@contextmanager
def one_blas_thread() -> Iterator[None]:
    """On the main thread, a context in which every loaded BLAS library (numpy's and scipy's
    OpenBLAS) uses one thread; elsewhere, nothing. threadpoolctl is imported here so that
    importing the models does not load it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def once_per_point(ll_and_grad: Callable[[FloatArray], tuple[float, FloatArray]]
                   ) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """``ll_and_grad`` evaluated once per distinct parameter vector (bit for bit).

    A fit asks for some points again: the start (checked, then the optimiser's first step)
    and the optimum (the optimiser's last point, the centre of the Hessian's differences and
    the log-likelihood stored). The answers are the same numbers, so they are kept; a fit
    evaluates at most a few thousand points of a few numbers each.
    """
    seen: dict[bytes, tuple[float, FloatArray]] = {}

    def cached(theta: FloatArray) -> tuple[float, FloatArray]:
        key = np.asarray(theta, dtype=np.float64).tobytes()
        if key not in seen:
            value, grad = ll_and_grad(theta)
            seen[key] = (value, np.array(grad, dtype=np.float64))
        value, grad = seen[key]
        return value, grad.copy()

    return cached
