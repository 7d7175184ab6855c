"""One BLAS thread while an optimiser runs.

scipy's L-BFGS-B (C since scipy 1.15) makes small BLAS calls at every step. They wake
OpenBLAS's thread pool, whose threads then spin on the other cores while the likelihood's numpy
work runs between those calls: on 2 cores a million-customer BG/NBD fit took twice the CPU time
(and longer on a loaded machine), for bit-identical parameters. The optimiser's vectors have a
handful of entries, so one thread loses nothing; the limit is lifted when the fit returns.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any


def one_blas_thread() -> AbstractContextManager[Any]:
    """A context in which every loaded BLAS library (numpy's and scipy's OpenBLAS) uses one
    thread; imported here so that importing the models does not load threadpoolctl."""
    from threadpoolctl import threadpool_limits

    limit: AbstractContextManager[Any] = threadpool_limits(limits=1, user_api="blas")
    return limit
