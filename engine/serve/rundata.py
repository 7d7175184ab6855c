"""The run the service answers from: the run folder the engine wrote (``output`` of cvm.yaml
or ``--run``), read whole and checked to belong together (the manifest's run id is the action
list's)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pyarrow import ArrowException

from engine.errors import InputError, Problem
from engine.output.folder import output_target
from engine.project.config import Config
from engine.run.job import file_sha256

DECIDES = ("rules", "policies")  # with cvm.yaml: the files the service's decisions come from


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


def read_run(folder: Path, config: Config | None = None) -> RunData:
    """The run folder, read whole; with ``config``, first checked to be the run of this
    project as it is on disk (``check_hashes``)."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        said = "is a file, expected a run folder" if folder.is_file() else \
            f"{manifest_path} does not exist"
        raise InputError(Problem(
            f"no run here: {said}", file=str(folder), key="--run",
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
    if config is not None:
        check_hashes(config, folder, manifest)
    table = _read(folder / "customers.parquet", pd.read_parquet, "customer_id")
    decisions = _read(folder / "decisions.csv", lambda p: pd.read_csv(
        p, dtype=str, keep_default_na=False), "customer_id")
    actions = _read(folder / f"actions.{fmt}", lambda p: _actions(p, fmt), "run_id")
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


def check_hashes(config: Config, folder: Path, manifest: dict[str, Any]) -> None:
    """The service answers from the run's files and decides live (with ``context``) with the
    project's rules and policies: both must be what the run had, by the SHA-256 the manifest
    recorded. A ``cvm score`` writing customers.parquet into the run folder, or a policy edited
    without a new run, would otherwise make the service answer something the run never
    decided."""
    outputs = manifest.get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        raise InputError(Problem(
            "the manifest records no hashes of the run's files (written by an older engine), "
            "so the service cannot check they are the run's", file=str(folder / "manifest.json"),
            hint="run `cvm run` again"))
    changed = [name for name, digest in sorted(outputs.items())
               if not (folder / name).is_file() or file_sha256(folder / name) != digest]
    found = manifest.get("inputs")
    recorded: dict[str, Any] = found if isinstance(found, dict) else {}
    now = decision_files(config)
    wanted = {k: v for k, v in recorded.items() if k in now or _decides(config, k)}
    edited = sorted(k for k in now.keys() | wanted.keys() if now.get(k) != wanted.get(k))
    run = manifest.get("run_id")
    made_with, reads = manifest.get("config"), config.display(config.file)
    if isinstance(made_with, str) and (config.project / made_with).resolve() != \
            config.file.resolve():  # not an edit: another file (as the project places it)
        from engine.terminal import shell_path

        raise InputError(Problem(
            f"run {run} was made with {made_with}, the service reads {reads}",
            file=config.display(folder),
            hint=f"start the service on the configuration the run was made with: cvm serve "
                 f"--project {shell_path(config.project)} --config "
                 f"{shell_path(config.project / made_with)} (or make the run with {reads})"))
    if changed:  # the run's own files: what the service would answer from
        raise InputError(Problem(
            f"changed since run {run} was made: {_listed(changed)}",
            file=config.display(folder),
            hint="run `cvm run` again (a `cvm score` into the run folder, or a file edited by "
                 "hand)" + (f"; the project changed too: {_listed(edited)}" if edited else "")))
    if edited:  # what decides live (``context``): the project's, as the run had it
        raise InputError(Problem(
            f"changed since run {run} was made" + (
                f" (with {_listed(edited[1:])})" if len(edited) > 1 else "")
            + ": the service decides with the rules and policies the run had",
            file=config.display(config.project / edited[0]),
            hint="run `cvm run` again to serve the change (or undo it); `cvm plan` shows what "
                 "it changes"))


def _listed(names: list[str]) -> str:
    return ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def decision_files(config: Config) -> dict[str, str]:
    """SHA-256 of what decides (cvm.yaml, rules/, policies/), keyed as the manifest's
    ``inputs``."""
    files = [config.file]
    for sub in DECIDES:
        files += sorted(p for p in (config.project / sub).rglob("*") if p.is_file())
    return {config.display(p): file_sha256(p) for p in files}


def _decides(config: Config, key: str) -> bool:
    return key == config.display(config.file) or any(
        key.startswith(config.display(config.project / sub) + os.sep) for sub in DECIDES)


def _read(path: Path, reader: Callable[[Path], pd.DataFrame], needed: str) -> pd.DataFrame:
    """A file of the run, or an InputError naming it (a truncated or edited file: whatever
    pyarrow or pandas raise on it)."""
    try:
        frame = reader(path)
        frame[needed]  # the column every later step relies on
    except (OSError, ValueError, KeyError, TypeError, IndexError, ArrowException) as exc:
        what = f"no {needed} column" if isinstance(exc, KeyError) else \
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        raise InputError(Problem(f"cannot read this file of the run ({what})", file=str(path),
                                 hint="run `cvm run` again to write the whole run "
                                      "folder")) from None
    return frame


def _actions(path: Path, fmt: str) -> pd.DataFrame:
    if fmt == "parquet":
        return pd.read_parquet(path)
    if fmt == "jsonl":
        return pd.read_json(path, lines=True, dtype=False)
    return pd.read_csv(path, dtype={"customer_id": str, "run_id": str, "channel": str,
                                    "status": str, "reason": str})
