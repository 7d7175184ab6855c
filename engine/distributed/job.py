"""``cvm run --engine dask``: the run folder of ``engine.run.job``, scored on a Dask cluster."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from engine.distributed.cluster import LOCAL_WORKERS, client_for
from engine.distributed.score import score_dask
from engine.errors import OutputError, Problem, UsageError
from engine.history.learn import learning_since
from engine.output.folder import guard_for
from engine.project.config import Config
from engine.project.database_source import DatabaseSource
from engine.project.project import Project
from engine.run.formats import check_format
from engine.run.job import RunResult
from engine.run.job import run as run_job
from engine.run.pipeline import Progress
from engine.value.score import Scored


def check_supported(project: Project) -> None:
    """What the Dask engine does not run is refused before any work (usage: exit 2), never
    computed differently."""
    problems = []
    source = project.config.data.transactions
    if isinstance(source, DatabaseSource):
        # cvm.yaml:5:17 (the file name itself may hold a colon: C:\project\cvm.yaml)
        rest, _, column = source.setting_at.rpartition(":")
        file, _, line = rest.rpartition(":")
        if not (line.isdigit() and column.isdigit()):
            file, line, column = source.setting_at, "", ""
        problems.append(Problem(
            "the Dask engine reads files (a file or a folder of files), not a database",
            file=file, line=int(line) if line.isdigit() else None,
            column=int(column) if column.isdigit() else None, key="data.transactions",
            hint="run this project without --engine dask"))
    if problems:
        raise UsageError(problems)


def scored_on_dask(project: Project, *, scheduler: str | None = None,
                   partitions: int | None = None, scratch: Path | None = None,
                   progress: Progress | None = None, history: bool = False) -> Scored:
    """``engine.value.score.score`` on a Dask cluster (``cvm score --engine dask``);
    ``history``: the table is for a run that reads the history, so the rows learning reads
    come with it (``engine.history.learn.learning_since``)."""
    check_supported(project)
    work = scratch_folder(project.config, scratch)
    try:
        since = learning_since(project, history=history)
        with client_for(scheduler) as client:
            return score_dask(project, client, work, partitions=partitions,
                              progress=progress, since=since)
    finally:  # once the client is closed (a local cluster's workers stopped): a task stopped
        # half-way writes no row after this, and none is left for a later run to find
        shutil.rmtree(work, ignore_errors=True)


def scratch_folder(config: Config, scratch: Path | None) -> Path:
    """The folder of this command's rows between the two passes, made in ``scratch`` (else
    in the system's temporary folder): never inside a folder the project reads whole (the
    transactions folder, rules/, policies/...), where a later run would read them as input."""
    if scratch is not None:
        guard = guard_for(config)
        where = scratch.resolve()
        # the same folder by another path too (a bind mount, a share mounted twice)
        there = [os.stat(p) for p in (where, *where.parents) if p.exists()]
        for folder in guard.folders:
            if folder == where or folder in where.parents or (folder.exists() and any(
                    os.path.samestat(os.stat(folder), st) for st in there)):
                raise OutputError(Problem(
                    f"refused as the scratch folder: {guard.show(where)} is inside "
                    f"{guard.show(folder)}, which is read whole: the rows the Dask engine "
                    "writes there would be read as input", key="--scratch",
                    hint="give --scratch a folder outside the project's inputs, or leave it "
                    "out for a temporary folder"))
        scratch.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="cvm-dask-", dir=scratch))


def plan_scoring(*, scheduler: str | None = None, partitions: int | None = None,
                 scratch: Path | None = None, history: bool = True
                 ) -> Callable[[Project, Progress | None], Scored]:
    """``cvm plan --engine dask``: each side's value table scored on a Dask cluster (the plan
    reads the history as ``cvm run`` does, learning included; ``history=False``: as ``cvm run
    --no-history``, the history not opened)."""
    def scoring(project: Project, progress: Progress | None) -> Scored:
        return scored_on_dask(project, scheduler=scheduler, partitions=partitions,
                              scratch=scratch, progress=progress, history=history)

    return scoring


def run(project: Project, *, out: Path | None = None, fmt: str = "csv",
        progress: Progress | None = None, history: bool = True, scheduler: str | None = None,
        partitions: int | None = None, scratch: Path | None = None) -> RunResult:
    """``engine.run.job.run`` with the value table scored on a Dask cluster: ``scheduler``
    (its address) or a local cluster of two workers."""
    check_format(fmt)
    check_supported(project)

    def scoring(progress: Progress | None) -> Scored:
        return scored_on_dask(project, scheduler=scheduler, partitions=partitions,
                              scratch=scratch, progress=progress, history=history)

    return run_job(project, out=out, fmt=fmt, progress=progress, history=history,
                   scoring=scoring, engine=manifest_engine(scheduler))


def manifest_engine(scheduler: str | None) -> dict[str, str]:
    """The manifest's ``engine`` of a Dask run: the scheduler's address as given (checked by
    ``check_scheduler``: host and port, never a user or password), else the local cluster."""
    return {"name": "dask",
            "scheduler": scheduler.strip() if scheduler else f"local cluster of "
            f"{LOCAL_WORKERS} workers"}
