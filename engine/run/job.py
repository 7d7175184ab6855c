"""``cvm run``, the main job: compute (engine.run.pipeline), then render the briefs and write the
run folder through engine.output.folder (checked before any work; files staged, then renamed
into place; only the previous run's files replaced or removed):

    <out>/actions.csv            the action list (or .jsonl / .parquet), schema actions 1.1
    <out>/decisions.csv          one decision per customer
    <out>/customers.csv|.parquet the customer value table with lifecycle stages
    <out>/allocation_summary.csv per channel, per campaign, per campaign and channel
    <out>/briefs/<campaign>.md|.html
    <out>/manifest.json          as-of date, input hashes, counts, the files written, engine
                                 and its version, timestamps (renamed into place last)
    <out>/.cvm-files.json        what each command wrote here (engine.output.folder)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from engine import __version__
from engine.activation.actions_schema import VERSION as ACTIONS_VERSION
from engine.data.database import digest as rows_digest
from engine.data.folder import data_files
from engine.data.object_store import object_hashes
from engine.output.commit import not_the_output, writing
from engine.output.folder import check_folder, guard_for, output_target
from engine.output.writers import write_csv, write_parquet
from engine.project.config import Config
from engine.project.database_source import DatabaseSource
from engine.project.object_store import ObjectPath
from engine.project.project import Project
from engine.render.briefs import render_briefs
from engine.run.early import EARLY, EarlyFiles
from engine.run.formats import check_format
from engine.run.pipeline import (
    Computed,
    Progress,
    allocation_summary,
    compute,
    holds_what_learning_reads,
)
from engine.run.recorder import Recorder, recorded_only_if_written
from engine.run.settle import settled
from engine.value.score import Scored, refund_figures, row_counts


@dataclass(frozen=True)
class RunResult:
    """What ``engine.api.run`` returns: the tables written and where."""

    run_id: str
    folder: Path
    computed: Computed
    actions: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict[str, Any]
    # where the run was recorded (None with --no-history): its number in the history, the run
    # of its as-of date it replaces, the latest run of a later as-of date
    recorded: Recorder | None = None

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.manifest["counts"])

    @property
    def refunds(self) -> dict[str, int | float]:
        return dict(self.manifest["refunds"])


def input_hashes(config: Config, folder: Path | None = None) -> dict[str, str]:
    """SHA-256 of every input: data, cvm.yaml, rules/, policies/, templates/. A database
    source's is that of the rows read (engine/data/database.py), under its name."""
    folder = folder or config.project
    source = config.data.transactions
    rows = {source.display: rows_digest(source) or ""} \
        if isinstance(source, DatabaseSource) else {}
    # objects on a store: by URL, from the store's tag of their bytes (engine/data/object_store)
    rows.update(object_hashes({f"data.{k}": p for k, p in (
        ("transactions", source), ("customers", config.data.customers))
        if isinstance(p, ObjectPath)}))
    data = [p for p in (source, config.data.customers) if isinstance(p, Path)]
    # a Parquet dataset is a folder: the files read of it, in the order they are read (not
    # a note or a hidden file beside them)
    files = [config.file, *(f for p in data for f in (data_files(p) if p.is_dir() else [p]))]
    for sub in ("rules", "policies", "templates"):
        files += sorted(p for p in (folder / sub).rglob("*") if p.is_file())
    out = {config.display(path): file_sha256(path) for path in files}
    return {**out, **rows}


def run_identity(as_of: dt.date, hashes: dict[str, str], history: list[list[str]]) -> str:
    """The run id: a hash of the engine version, the as-of date, the inputs and what the
    decisions read from the history (``Recorder.state``: the runs looked back on and the
    responses known, by content). Nothing read (an empty history, ``--no-history``): the id of
    the inputs alone, as before the history was part of it."""
    key: list[Any] = [__version__, str(as_of), hashes, *([history] if history else [])]
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run(project: Project, *, out: Path | None = None, fmt: str = "csv",
        progress: Progress | None = None, history: bool = True,
        scoring: Callable[[Progress | None], Scored] | None = None,
        engine: dict[str, str] | None = None) -> RunResult:
    """The main job on ``project`` (read and checked by ``engine.run.build``); ``scoring``:
    makes the value table instead of ``engine.value.score.score`` (``--engine dask``);
    ``engine``: the manifest's ``engine``, which made the run (default ``{"name": "local"}``)."""
    config = project.config
    check_format(fmt)
    target, guard = output_target(config, out), guard_for(config)
    check_folder(target, guard)  # a refused folder is said before the work, not after
    recorder = Recorder(config) if history else None  # a bad history fails before the work

    # the folder's files are staged from the start: the value table's and the decisions' files
    # are written on the second core while the allocation runs on the first (engine.run.early)
    # in one process; on Dask, where the command's memory bounds the run, after it (their
    # Arrow copies and the allocation's options never held at once)
    early_writes = scoring is None
    # the run is recorded once every file is staged, before the renames: if the renames are
    # refused (or a stop lands before them) the record is taken back
    with recorded_only_if_written(recorder), writing(target, guard, "run") as stage, \
            EarlyFiles(stage) as early:

        def attempt(handed: list[Computed]) -> Computed:
            # the value table reads no history, so a second attempt keeps it, unless learning
            # now reads rows it no longer holds (a run recorded meanwhile, dated earlier); on
            # Dask its scoring reads the history (the rows learning reads) and is made again.
            # The previous computation is taken from ``handed``: what is not kept is freed
            # before computing again (one computation's memory, not two)
            kept = handed.pop().scored if handed else None
            if kept is not None and (scoring is not None or not holds_what_learning_reads(
                    kept, project, history=history)):
                kept = None
            scored = scoring(progress) if scoring is not None else kept
            del kept
            return compute(project, progress=progress, history=history, scored=scored,
                           decided=early.start if early_writes else None,
                           until=recorder.until if recorder is not None else None)

        # the look-backs and the state the run id covers read the same history
        # (engine.run.settle); an attempt made again writes its files again
        with not_the_output():  # reading the inputs: their errors are not the folder's
            computed, state = settled(recorder, attempt, progress)
            if not early_writes:
                early.start(computed.table, computed.decisions)
            hashes = input_hashes(config)
        run_id = run_identity(computed.scored.as_of, hashes, state)
        actions = computed.actions.assign(run_id=run_id)
        summary = allocation_summary(actions, computed.setup.channels)
        if progress is not None:
            progress("render")
        run_info = {"run_id": run_id, "as_of": str(computed.scored.as_of),
                    "currency": config.currency, "project": config.name}
        briefs = render_briefs(project.templates, actions, computed.setup.rulebook,
                               computed.setup.channels, run=run_info)
        files = sorted([f"actions.{fmt}", *EARLY, "allocation_summary.csv",
                        *(f"briefs/{name}" for name in briefs)])
        manifest = _manifest(config, computed, actions, run_id, hashes, fmt, sorted(briefs),
                             files)
        manifest["history"] = recorder.describe() if recorder else None
        manifest["engine"] = dict(engine) if engine is not None else {"name": "local"}
        if progress is not None:
            progress("write")
        # the files `cvm serve` reads are hashed as they are written, so it can tell a file
        # later overwritten (by `cvm score`, by hand) from the run's own
        served = [f"actions.{fmt}", "decisions.csv", "customers.parquet"]
        jobs = {f"actions.{fmt}": early.pool.submit(_write_actions, actions,
                                                    stage.path(f"actions.{fmt}"), fmt),
                "allocation_summary.csv": early.pool.submit(
                    write_csv, summary, stage.path("allocation_summary.csv"))}
        digests = {**early.digests(), **{name: job.result() for name, job in jobs.items()}}
        manifest["outputs"] = {name: digests[name] for name in served}
        for name, text in briefs.items():
            stage.path(f"briefs/{name}").write_text(text, encoding="utf-8")
        stage.path("manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True)
                                               + "\n", encoding="utf-8")
        if recorder is not None:  # committed once every file is staged, before the renames
            if progress is not None:
                progress("record history")
            recorder.record(computed, actions, run_id, hashes)
    return RunResult(run_id, target.path, computed, actions, summary, manifest, recorder)


def _write_actions(actions: pd.DataFrame, path: Path, fmt: str) -> str:
    """The action list's file; returns the SHA-256 of its bytes."""
    if fmt == "csv":
        return write_csv(actions, path, hashed=True)
    if fmt == "parquet":
        return write_parquet(actions, path, hashed=True)
    data = actions.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _manifest(config: Config, computed: Computed, actions: pd.DataFrame, run_id: str,
              hashes: dict[str, str], fmt: str, briefs: list[str],
              files: list[str]) -> dict[str, Any]:
    status = actions["status"].value_counts()
    scored = computed.scored
    return {
        "engine_version": __version__,
        "actions_schema_version": ACTIONS_VERSION,
        "run_id": run_id,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "as_of": str(scored.as_of),
        "project": config.name,
        "config": config.display(config.file),  # what `cvm serve` must read (rundata)
        "inputs": hashes,
        "output_format": fmt,
        "counts": {
            **row_counts(scored), "customers": len(computed.table), "actioned": len(actions),
            "allocated": int(status.get("allocated", 0)),
            "holdout": int(status.get("holdout", 0)),
            "not_served": int(status.get("not_served", 0)),
            "suppressed": int(status.get("suppressed", 0)),
        },
        "refunds": refund_figures(scored.report),
        "value_model": {"used": scored.model.used, "description": scored.model.describe(),
                        "params": scored.model.params,
                        "log_likelihood": scored.model.log_likelihood,
                        "choice": scored.model.choice or None,
                        "equity": scored.model.equity and {
                            "estimate": scored.model.equity[0], "lower": scored.model.equity[1],
                            "upper": scored.model.equity[2],
                            "level": scored.model.interval_level}},
        "retention": {"overall": scored.retention.overall,
                      "segments": {s.name: s.rate for s in scored.retention.segments}},
        "allocation_prices": computed.allocation.prices if computed.allocation else {},
        "allocation": computed.allocation.method if computed.allocation else {},
        "contact_policies": computed.contact,
        "learning": computed.learned.as_dict(),
        "briefs": briefs,
        "files": files,
    }
