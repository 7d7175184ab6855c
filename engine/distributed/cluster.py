"""The Dask client: a scheduler's address, or a local cluster of two worker processes."""

from __future__ import annotations

import contextlib
import logging
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.errors import InputError, Problem, UsageError
from engine.notices import is_quiet

LOCAL_WORKERS = 2
LOCAL_MEMORY = "8GiB"  # per worker: Dask spills to disk above 60 % and pauses the worker at 80 %
LOCAL_HTTP = "127.0.0.1:0"  # the local scheduler's HTTP server: any free port, loopback only
CONNECT_TIMEOUT = "distributed.comm.timeouts.connect"  # Dask's setting: how long --scheduler waits


ENGINES = ("local", "dask")
# host:port, optionally after tcp:// or tls:// (what a scheduler prints); an IPv6 host in []
_ADDRESS = re.compile(r"^(?:(?:tcp|tls)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5})$")


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
                                 key="--partitions", hint="leave --partitions out to have it "
                                 "made from the size of the data"))
    if scheduler is not None:
        check_scheduler(scheduler)
    if engine == "dask":
        require_dask()


def check_scheduler(address: str) -> str:
    """A scheduler's address as Dask's client takes it, checked before any work: anything else
    made the client raise ValueError deep inside (an internal error, exit 4)."""
    found = _ADDRESS.match(address.strip())
    if found is None or not 0 < int(found.group(2)) < 65536:
        raise UsageError(Problem(
            f"found {address!r}, expected tcp://HOST:PORT (the address the scheduler prints)",
            key="--scheduler", hint="leave --scheduler out for a local cluster of two workers"))
    return address.strip()  # as checked: ' tcp://...' was Dask's "unknown address scheme"


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
def quiet_logs(quiet: bool) -> Iterator[int]:
    """Dask's loggers in this process (the nannies, the client, the local scheduler) at ERROR
    under --quiet, else at WARNING (a worker killed or out of memory is worth seeing); yields
    the level for the workers' processes (LocalCluster's ``silence_logs``)."""
    level = logging.ERROR if quiet else logging.WARNING
    names = ["distributed", *(n for n in logging.root.manager.loggerDict
                              if n.startswith("distributed."))]
    loggers = [logging.getLogger(n) for n in names]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        if quiet or lg.level < level:  # without --quiet only what is chattier than a warning
            lg.setLevel(level)
    try:
        yield level
    finally:
        for lg, old in zip(loggers, before, strict=True):
            lg.setLevel(old)


@contextmanager
def client_for(scheduler: str | None, *, workers: int = LOCAL_WORKERS,
               memory_limit: str = LOCAL_MEMORY, quiet: bool | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` on ``scheduler`` (host:port or tcp://host:port), or on a
    ``LocalCluster`` of ``workers`` single-threaded processes, closed on the way out."""
    require_dask()
    import dask
    import distributed  # untyped: its calls go through Any

    dd: Any = distributed
    if quiet is None:  # the command's --quiet (engine.cli.handled)
        quiet = is_quiet()
    if scheduler:
        scheduler = check_scheduler(scheduler)
        with quiet_logs(quiet):
            wait = dask.config.get(CONNECT_TIMEOUT)
            try:
                client = dd.Client(scheduler, timeout=wait)
            except (OSError, TimeoutError):  # a well-formed address naming nothing: input, 1
                raise InputError(Problem(
                    f"found {scheduler!r}, no Dask scheduler answered there within {wait}",
                    key="--scheduler", hint="start the scheduler or give the address it prints; "
                    f"the wait is Dask's {CONNECT_TIMEOUT} (DASK_DISTRIBUTED__COMM__TIMEOUTS__"
                    "CONNECT); or leave --scheduler out for a local cluster")) from None
            try:
                yield client
            finally:
                client.close()
        return
    # no dashboard; the scheduler's HTTP server (health, metrics) still starts, by default on
    # port 8787: on a free port of this machine's loopback instead, so that a dashboard already
    # there (another cluster's) is no "Port 8787 is already in use" warning on stderr
    with quiet_logs(quiet) as level, contextlib.ExitStack() as stack:
        with _interrupts_held():  # closed by the stack, whatever comes after the start
            cluster = stack.enter_context(dd.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                memory_limit=memory_limit, dashboard_address=None,
                scheduler_kwargs={"dashboard_address": LOCAL_HTTP}, silence_logs=level))
        client = stack.enter_context(dd.Client(cluster))
        try:
            yield client
        except BaseException:
            logging.getLogger("asyncio").addFilter(_DASK_TASK_NEVER_RETRIEVED)  # once only
            raise
        finally:
            # the workers' logs off while the cluster closes, after a success too: a worker's
            # heartbeat to a scheduler that closed first is logged with a traceback
            with contextlib.suppress(Exception):
                client.run(_hush)


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ctrl-C ignored while the local cluster's processes start, so that they ignore it (an
    ignored signal stays ignored in a child process): a terminal's Ctrl-C reaches the whole
    process group, and each worker printed a traceback before the command said "interrupted".
    The command alone takes it, and closes the cluster. A Ctrl-C during the start (a second
    or two) is not taken: press it again."""
    held = threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGINT, signal.SIG_IGN) if held else None
    try:
        yield
    finally:
        if held:
            signal.signal(signal.SIGINT, before)


class _DaskTaskNeverRetrieved(logging.Filter):
    """asyncio's "Task exception was never retrieved" for a task of Dask's (the client's
    gather stopped by Ctrl-C), logged whenever the task is collected, after the command said
    what went wrong: not the user's problem. Every other record of asyncio's passes (a program
    using the engine as a library keeps its own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not (text.startswith("Task exception was never retrieved")
                    and "distributed" in text)


_DASK_TASK_NEVER_RETRIEVED = _DaskTaskNeverRetrieved()


def _hush() -> None:
    """In a worker process: Dask's logs off (its cluster is being closed)."""
    logging.getLogger("distributed").setLevel(logging.CRITICAL + 1)


def worker_count(client: Any) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))
