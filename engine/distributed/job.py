"""``cvm run --engine dask``: the run folder of ``engine.run.job``, scored on a Dask cluster."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.distributed.cluster import client_for
from engine.distributed.score import score_dask
from engine.errors import Problem, UsageError
from engine.history import open_history
from engine.project.database_source import DatabaseSource
from engine.project.project import Project
from engine.run.formats import check_format
from engine.run.job import RunResult
from engine.run.job import run as run_job
from engine.run.pipeline import Progress
from engine.value.score import Scored


def check_supported(project: Project, *, history: bool) -> None:
    """What the Dask engine does not run yet is refused before any work (usage: exit 2), never
    computed differently."""
    problems = []
    if history:
        problems.append(Problem(
            "the Dask engine neither reads nor records the history yet", key="--engine dask",
            hint="add --no-history (value-change attributes take their first-run values)"))
    if project.config.subscriptions is not None:
        problems.append(Problem(
            "the Dask engine does not value subscriptions (contracts) yet",
            file=project.config.display(project.config.file), key="subscriptions",
            hint="run this project without --engine dask"))
    if isinstance(project.config.data.transactions, DatabaseSource):
        problems.append(Problem(
            "the Dask engine reads files (a file or a folder of files), not a database",
            file=project.config.display(project.config.file), key="data.transactions",
            hint="run this project without --engine dask"))
    if problems:
        raise UsageError(problems)


def scored_on_dask(project: Project, *, scheduler: str | None = None,
                   partitions: int | None = None, scratch: Path | None = None,
                   progress: Progress | None = None) -> Scored:
    """``engine.value.score.score`` on a Dask cluster (``cvm score --engine dask``)."""
    check_supported(project, history=False)
    with client_for(scheduler) as client:
        return score_dask(project, client, partitions=partitions, scratch=scratch,
                          progress=progress)


def plan_scoring(*, scheduler: str | None = None, partitions: int | None = None,
                 scratch: Path | None = None
                 ) -> Callable[[Project, Progress | None], Scored]:
    """``cvm plan --engine dask``: each side's value table scored on a Dask cluster. The plan
    reads the history as ``cvm run`` does; learning from it reads the rows of earlier runs,
    so a side that would learn is refused (before its scoring)."""
    def scoring(project: Project, progress: Progress | None) -> Scored:
        if project.channels.learning.enabled:
            store = open_history(project.config, create=False)
            if store is not None:
                store.close()
                raise UsageError(Problem(
                    "the Dask engine does not learn expected responses from the history yet",
                    key="--engine dask", hint="plan without --engine dask, or set learning: "
                    "{enabled: false} in policies/campaigns.yaml"))
        return scored_on_dask(project, scheduler=scheduler, partitions=partitions,
                              scratch=scratch, progress=progress)

    return scoring


def run(project: Project, *, out: Path | None = None, fmt: str = "csv",
        progress: Progress | None = None, history: bool = True, scheduler: str | None = None,
        partitions: int | None = None, scratch: Path | None = None) -> RunResult:
    """``engine.run.job.run`` with the value table scored on a Dask cluster: ``scheduler``
    (its address) or a local cluster of two workers."""
    check_format(fmt)
    check_supported(project, history=history)

    def scoring(progress: Progress | None) -> Scored:
        return scored_on_dask(project, scheduler=scheduler, partitions=partitions,
                              scratch=scratch, progress=progress)

    return run_job(project, out=out, fmt=fmt, progress=progress, history=history,
                   scoring=scoring)
