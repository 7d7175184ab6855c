"""The Dask client: a scheduler's address, or a local cluster of two worker processes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.errors import Problem, UsageError

LOCAL_WORKERS = 2
LOCAL_MEMORY = "8GiB"  # per worker: Dask spills to disk above 60 % and pauses the worker at 80 %


ENGINES = ("local", "dask")


def check_engine(engine: str, *, scheduler: str | None = None, partitions: int | None = None,
                 scratch: Path | None = None) -> None:
    """The options, before the project is read (usage: exit 2)."""
    if engine not in ENGINES:
        raise UsageError(Problem(f"found {engine!r}, expected one of " + ", ".join(ENGINES),
                                 key="--engine"))
    if engine != "dask" and (scheduler, partitions, scratch) != (None, None, None):
        raise UsageError(Problem(
            "--scheduler, --partitions and --scratch are options of the Dask engine",
            key="--engine",
            hint="add --engine dask"))
    if partitions is not None and partitions < 1:
        raise UsageError(Problem(f"found {partitions}, expected a number of partitions >= 1",
                                 key="--partitions"))
    if engine == "dask":
        require_dask()


def require_dask() -> None:
    """Said before any work when the optional dependency is missing (usage: exit 2)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UsageError(Problem(
            "--engine dask needs Dask's distributed package, which is not installed",
            key="--engine", hint="pip install 'cvm-engine[dask]' (or pip install distributed)")
        ) from None


@contextmanager
def client_for(scheduler: str | None, *, workers: int = LOCAL_WORKERS,
               memory_limit: str = LOCAL_MEMORY) -> Iterator[Any]:
    """A ``distributed.Client`` on ``scheduler`` (host:port or tcp://host:port), or on a
    ``LocalCluster`` of ``workers`` single-threaded processes, closed on the way out."""
    require_dask()
    import distributed  # untyped: its calls go through Any

    dd: Any = distributed
    if scheduler:
        try:
            client = dd.Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise UsageError(Problem(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}", key="--scheduler",
                hint="give the address the scheduler prints (tcp://host:8786), or leave "
                "--scheduler out for a local cluster")) from None
        try:
            yield client
        finally:
            client.close()
        return
    with dd.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      memory_limit=memory_limit, dashboard_address=None) as cluster, \
            dd.Client(cluster) as client:
        yield client


def worker_count(client: Any) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))
