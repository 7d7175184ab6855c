"""The run the service answers from: the run folder the engine wrote (``output`` of cvm.yaml
or ``--run``), read whole and checked to belong together (the manifest's run id is the action
list's)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from engine.errors import InputError, Problem
from engine.output.folder import output_target
from engine.project.config import Config


@dataclass(frozen=True)
class RunData:
    folder: Path
    manifest: dict[str, Any]
    table: pd.DataFrame  # customers.parquet: the value table with stages and changes
    decisions: pd.DataFrame  # decisions.csv, as text
    actions: pd.DataFrame  # the action list, as written

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id", ""))

    @property
    def as_of(self) -> str:
        return str(self.manifest.get("as_of", ""))


def run_folder(config: Config, run: Path | None) -> Path:
    """Where the run is: ``--run``, else the output folder of cvm.yaml (as ``cvm run``)."""
    return output_target(config, run).path


def manifest_stamp(folder: Path) -> tuple[int, int] | None:
    """What changes when a new run lands (manifest.json is renamed into place last)."""
    try:
        stat = (folder / "manifest.json").stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_ino


def read_run(folder: Path) -> RunData:
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(Problem(
            f"no run here: {manifest_path} does not exist", file=str(folder), key="--run",
            hint="run `cvm run` first, or point --run at a run folder"))
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(Problem(f"cannot read the manifest: {exc}", file=str(manifest_path),
                                 hint="run `cvm run` again")) from None
    fmt = str(manifest.get("output_format", "csv"))
    names = {"customers.parquet", "decisions.csv", f"actions.{fmt}"}
    missing = sorted(n for n in names if not (folder / n).is_file())
    if missing:
        raise InputError(Problem(
            f"the run folder lacks {', '.join(missing)}", file=str(folder), key="--run",
            hint="run `cvm run` again to write the whole run folder"))
    table = pd.read_parquet(folder / "customers.parquet")
    decisions = pd.read_csv(folder / "decisions.csv", dtype=str, keep_default_na=False)
    actions = _actions(folder / f"actions.{fmt}", fmt)
    ids = actions["run_id"].astype(str).unique() if len(actions) else []
    if len(ids) and list(ids) != [manifest.get("run_id")]:
        raise InputError(Problem(
            f"the action list is of run {', '.join(map(str, ids))}, the manifest of run "
            f"{manifest.get('run_id')}", file=str(folder),
            hint="a run is being written, or the folder was edited: run `cvm run` again"))
    if len(table) != len(decisions) or not (
            table["customer_id"].astype(str).to_numpy() == decisions["customer_id"].to_numpy()
    ).all():
        raise InputError(Problem(
            "customers.parquet and decisions.csv do not list the same customers",
            file=str(folder), hint="run `cvm run` again"))
    return RunData(folder, manifest, table, decisions, actions)


def _actions(path: Path, fmt: str) -> pd.DataFrame:
    if fmt == "parquet":
        return pd.read_parquet(path)
    if fmt == "jsonl":
        return pd.read_json(path, lines=True, dtype=False)
    return pd.read_csv(path, dtype={"customer_id": str, "run_id": str, "channel": str,
                                    "status": str, "reason": str})
