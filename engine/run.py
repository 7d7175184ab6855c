"""``cvm run``, the main job: compute (engine.pipeline), then render the briefs and write the
run folder atomically: a temporary folder beside the target, renamed over it when complete.

    <out>/actions.csv            the action list (or .jsonl / .parquet), schema actions 1.1
    <out>/decisions.csv          one decision per customer
    <out>/customers.csv|.parquet the customer value table with lifecycle stages
    <out>/allocation_summary.csv per channel, per campaign, per campaign and channel
    <out>/briefs/<campaign>.md|.html
    <out>/manifest.json          as-of date, input hashes, counts, engine version, timestamps
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from engine import __version__
from engine.actions_schema import VERSION as ACTIONS_VERSION
from engine.brief_data import campaign_contexts
from engine.briefs import BRIEF_TEMPLATES, render
from engine.config import Config
from engine.output import atomic_folder, write_csv
from engine.pipeline import Computed, Progress, allocation_summary, compute
from engine.score import output_frame

FORMATS = ("csv", "jsonl", "parquet")


@dataclass(frozen=True)
class RunResult:
    """What ``engine.api.run`` returns: the tables written and where."""

    run_id: str
    folder: Path
    computed: Computed
    actions: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict[str, Any]

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.manifest["counts"])


def input_hashes(config: Config, folder: Path | None = None) -> dict[str, str]:
    """SHA-256 of every input: data, cvm.yaml, rules/, policies/, templates/."""
    folder = folder or config.project
    files = [config.file, config.data.transactions]
    if config.data.customers is not None:
        files.append(config.data.customers)
    for sub in ("rules", "policies", "templates"):
        files += sorted(p for p in (folder / sub).rglob("*") if p.is_file())
    out = {}
    for path in files:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        out[config.display(path)] = digest.hexdigest()
    return out


def run(config: Config, *, out: Path | None = None, fmt: str = "csv",
        progress: Progress | None = None) -> RunResult:
    computed = compute(config, progress=progress)
    hashes = input_hashes(config)
    run_id = hashlib.sha256(json.dumps([__version__, str(computed.scored.as_of), hashes],
                                       sort_keys=True).encode()).hexdigest()[:16]
    actions = computed.actions.assign(run_id=run_id)
    summary = allocation_summary(actions, computed.setup.channels)
    if progress is not None:
        progress("render")
    run_info = {"run_id": run_id, "as_of": str(computed.scored.as_of),
                "currency": config.currency, "project": config.name}
    briefs = {}
    for ctx in campaign_contexts(actions, computed.setup.rulebook, computed.setup.channels,
                                 run=run_info):
        for ext, template in BRIEF_TEMPLATES.items():
            briefs[f"{ctx['campaign']['id']}.{ext}"] = render(config.project, template, ctx)
    manifest = _manifest(config, computed, actions, run_id, hashes, fmt, sorted(briefs))
    folder = (out or config.output).resolve()
    if progress is not None:
        progress("write")
    table = output_frame(computed.table)
    with atomic_folder(folder, keep=("report", "fit")) as tmp, \
            ThreadPoolExecutor(max_workers=2) as pool:  # Arrow writes without the GIL
        jobs = [pool.submit(_write_actions, actions, tmp, fmt),
                pool.submit(write_csv, computed.decisions, tmp / "decisions.csv"),
                pool.submit(write_csv, table, tmp / "customers.csv"),
                pool.submit(_parquet, table, tmp / "customers.parquet"),
                pool.submit(write_csv, summary, tmp / "allocation_summary.csv")]
        for job in jobs:
            job.result()
        (tmp / "briefs").mkdir()
        for name, text in briefs.items():
            (tmp / "briefs" / name).write_text(text, encoding="utf-8")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True)
                                           + "\n", encoding="utf-8")
    return RunResult(run_id, folder, computed, actions, summary, manifest)


def _write_actions(actions: pd.DataFrame, folder: Path, fmt: str) -> None:
    if fmt == "csv":
        write_csv(actions, folder / "actions.csv")
    elif fmt == "jsonl":
        actions.to_json(folder / "actions.jsonl", orient="records", lines=True,
                        force_ascii=False)
    else:
        _parquet(actions, folder / "actions.parquet")


def _parquet(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    pq.write_table(table, path, compression="zstd")


def _manifest(config: Config, computed: Computed, actions: pd.DataFrame, run_id: str,
              hashes: dict[str, str], fmt: str, briefs: list[str]) -> dict[str, Any]:
    status = actions["status"].value_counts()
    scored = computed.scored
    rep = scored.report
    return {
        "engine_version": __version__,
        "actions_schema_version": ACTIONS_VERSION,
        "run_id": run_id,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "as_of": str(scored.as_of),
        "project": config.name,
        "inputs": hashes,
        "output_format": fmt,
        "counts": {
            "rows_read": rep.rows_read, "rows_used": rep.rows_used,
            "rows_skipped_after_as_of": rep.after_as_of, "rows_skipped_zero_amount":
            rep.zero_amount, "rows_skipped_duplicates": rep.duplicates,
            "customers": len(computed.table), "actioned": len(actions),
            "allocated": int(status.get("allocated", 0)),
            "holdout": int(status.get("holdout", 0)),
            "not_served": int(status.get("not_served", 0)),
        },
        "value_model": {"used": scored.model.used, "description": scored.model.describe(),
                        "params": scored.model.params,
                        "log_likelihood": scored.model.log_likelihood},
        "retention": {"overall": scored.retention.overall,
                      "segments": {s.name: s.rate for s in scored.retention.segments}},
        "allocation_prices": computed.allocation.prices if computed.allocation else {},
        "allocation": computed.allocation.method if computed.allocation else {},
        "briefs": briefs,
    }
