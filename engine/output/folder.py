"""Output folders: the engine writes only into a folder of its own and replaces only what it
wrote there. This module says whether a folder or file may be written (``check_folder``,
``check_file``) and what a folder holds; engine.output.commit writes.

A folder's record ``.cvm-files.json`` lists, per command, the files it wrote (paths relative to
the folder, ``/``-separated)::

    {"about": "...", "version": 1, "written": {"run": [...], "report": [...]}}

Every file in an output folder must be listed there, except in a sub-folder that is another
engine output (it has a record of its own), which is neither judged nor touched.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import OutputError, Problem
from engine.project.location import config_shown

if TYPE_CHECKING:
    from engine.project.config import Config

RECORD = ".cvm-files.json"
TEMP_PREFIX = ".cvm-tmp-"  # staging folders and temporary files; never refused, never listed
# files an operating system's file browser drops into any folder it shows: not the user's work
LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
LAST = "manifest.json"  # renamed last: a folder whose manifest is new holds the whole new run
SHOWN = 5  # foreign files named in a refusal; the rest are counted
COUNT_LIMIT = 10_000  # stop counting there: a refusal must not walk a whole disk
ABOUT = ("Files CVM Engine wrote in this folder, by command. A command replaces or removes only "
         "the files listed here, never others. Do not edit; delete the folder to start afresh.")

def foreign_hint() -> str:
    return ("CVM Engine never deletes or overwrites a file it did not write: choose an empty "
            f"or new folder (--out, or output: in {config_shown()}), or move those files away")


def input_hint() -> str:
    return ("CVM Engine writes only into a folder of its own, never among its inputs: choose "
            f"an empty or new folder (--out, or output: in {config_shown()})")
FILE_HINT = "CVM Engine never deletes or overwrites a file it did not write: name a new file"
RECORD_HINT = ("the record lists only files inside its folder by relative path; it was edited or "
               "damaged: move what you need out of the folder and delete it to start afresh")


class BadRecord(Exception):
    """A record (or an old run's manifest) naming a path that is not inside its folder."""

    def __init__(self, file: Path, entry: object) -> None:
        super().__init__(file, entry)
        self.file, self.entry = file, entry

    def problem(self, target: Target, guard: Guard, prefix: str) -> OutputError:
        return OutputError(target.problem(
            f"{prefix}{guard.show(self.file)} lists {self.entry!r}, which is not a path inside "
            "the folder", RECORD_HINT))


def is_inside_name(rel: object) -> bool:
    """A normalised relative POSIX path: what a record may name (never ``..``, ``/x``, ``.``,
    ``a//b``, a backslash or a NUL, any of which could make a removal leave the folder)."""
    return isinstance(rel, str) and bool(rel) and "\\" not in rel and "\0" not in rel \
        and all(part not in ("", ".", "..") for part in rel.split("/"))


@dataclass(frozen=True)
class Guard:
    """What output must never be written into or over: the project and its inputs."""

    project: Path
    files: tuple[Path, ...]  # cvm.yaml, the data files, the spend file
    folders: tuple[Path, ...]  # folders read whole: rules/, policies/, templates/, ...

    def show(self, path: Path) -> str:
        """Relative to the project when strictly inside it, else the absolute path."""
        if path != self.project and self.project in path.parents:
            return path.relative_to(self.project).as_posix()
        return str(path)


def guard_for(config: Config, *, files: Iterable[Path | None] = (),
              folders: Iterable[Path] = ()) -> Guard:
    """The project's inputs, and ``files`` and ``folders`` a command reads besides."""
    data, customers = config.data.transactions, config.data.customers
    # a database or an object store is no file here to guard; a folder of data files (a
    # Parquet dataset) is guarded as a folder: an output inside it would be read as data
    dataset = isinstance(data, Path) and data.is_dir()
    inputs = [config.file, data if isinstance(data, Path) and not dataset else None,
              customers if isinstance(customers, Path) else None, config.report.spend, *files]
    return Guard(config.project.resolve(),
                 tuple(sorted({p.resolve() for p in inputs if p is not None})),
                 tuple(sorted({p.resolve() for p in (
                     *(config.project / sub for sub in ("rules", "policies", "templates",
                                                          "triggers")),
                     *([data] if dataset and isinstance(data, Path) else []),
                     *folders)})))


@dataclass(frozen=True)
class Target:
    """Where a command writes: a folder (or, for ``cvm plan``, a file) and what named it."""

    path: Path  # absolute
    option: str  # "--out", "--report", "--changes", or "output" (the key of cvm.yaml)
    config_file: Path | None = None  # cvm.yaml, to point at the line of ``output:``
    # where ``output:`` is written in it (read with cvm.yaml: no file is read again here)
    spot: tuple[int | None, int | None] | None = None

    def problem(self, message: str, hint: str) -> Problem:
        if self.option == "output" and self.config_file is not None:
            display = self.config_file.name
            if self.spot is not None:
                return Problem(message, file=display, line=self.spot[0], column=self.spot[1],
                               key="output", hint=hint)
            return Problem(message, file=display, key="output", hint=hint)
        return Problem(message, key=self.option, hint=hint)


def output_target(config: Config, out: Path | None) -> Target:
    """The output folder: ``--out`` when given, else ``output`` of cvm.yaml."""
    if out is not None:
        return Target(Path(out).resolve(), "--out")
    return Target(config.output.resolve(), "output", config.file,
                  config.positions.get("output"))


# --- checks -------------------------------------------------------------------------------


def check_folder(target: Target, guard: Guard) -> None:
    """Raise OutputError unless ``target`` may be used as an output folder (before any work)."""
    _refuse_inputs(target, guard)
    _refuse_blocked(target)
    try:
        scan = scan_folder(target.path)
    except BadRecord as exc:
        raise exc.problem(target, guard, "refused as the output folder: ") from None
    refuse_foreign(target, scan, guard)


def check_file(target: Target, guard: Guard, command: str = "plan") -> None:
    """Raise OutputError unless the single file ``target`` may be written (``cvm plan``):
    an existing file only when ``command`` wrote it (never one another command wrote)."""
    path = target.path
    shown = guard.show(path)
    if path in guard.files or path == guard.project:
        raise OutputError(target.problem(f"refused: {shown} is an input of the project",
                                         FILE_HINT))
    for folder in guard.folders:
        if folder in path.parents or folder == path:
            raise OutputError(target.problem(
                f"refused: {shown} is inside {guard.show(folder)}/, an input folder of the "
                "project", FILE_HINT))
    if path.is_dir():
        raise OutputError(target.problem(f"refused: {shown} is a folder, expected a file",
                                         FILE_HINT))
    try:
        record = read_record(path.parent)
    except BadRecord as exc:
        raise exc.problem(target, guard, "refused: ") from None
    if (path.exists() or path.is_symlink()) and path.name not in record.get(command, []):
        other = sorted(k for k, v in record.items() if path.name in v)
        raise OutputError(target.problem(
            f"refused: {shown} exists and was written by cvm {other[0]}, not by cvm {command}"
            if other else f"refused: {shown} exists and was not written by CVM Engine",
            FILE_HINT))
    _refuse_blocked(Target(path.parent, target.option))


def _refuse_inputs(target: Target, guard: Guard) -> None:
    folder, shown = target.path, guard.show(target.path)

    def refuse(why: str) -> OutputError:
        return OutputError(target.problem(f"refused as the output folder: {shown} {why}",
                                          input_hint()))

    if folder == guard.project:
        raise refuse("is the project folder")
    if folder in guard.project.parents:
        raise refuse(f"holds the project folder {guard.project}")
    for sub in guard.folders:
        if folder == sub:
            raise refuse("is an input folder of the project")
        if sub in folder.parents:
            raise refuse(f"is inside {guard.show(sub)}/, an input folder of the project")
    if folder in guard.files:
        raise refuse("is an input of the project")
    held = sorted([guard.show(p) for p in guard.files if folder in p.parents]
                  + [guard.show(p) + "/" for p in guard.folders if folder in p.parents])
    if held:
        raise refuse("holds inputs of the project: " + ", ".join(held))


def _refuse_blocked(target: Target) -> None:
    """A file where a folder must be, or a folder that cannot be written: say so before work."""
    probe = target.path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(target.problem(f"cannot write here: {probe} is a file, expected a "
                                         "folder", "choose another output folder"))
    # try, rather than ask os.access: root passes every permission check, /proc and a
    # read-only mount still refuse (the probe is an engine temporary, removed at once)
    try:
        os.rmdir(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=probe))
    except OSError as exc:
        reason = "permission denied" if isinstance(exc, PermissionError) else \
            f"cannot create a folder there ({exc.strerror})"
        raise OutputError(target.problem(f"cannot write here: {probe}: {reason}",
                                         "choose another output folder, or fix its "
                                         "permissions")) from None


def refuse_foreign(target: Target, scan: Scan, guard: Guard) -> None:
    if not scan.foreign:
        return
    count = scan.foreign_count
    total = f"{count:,}" if count < COUNT_LIMIT else f"{COUNT_LIMIT:,} or more"
    names = ", ".join(scan.foreign[:SHOWN])
    if count > SHOWN:
        names += f" and {count - SHOWN:,} more" if count < COUNT_LIMIT else " and more"
    raise OutputError(target.problem(
        f"refused as the output folder: {guard.show(target.path)} holds {total} "
        f"file{'s' if count != 1 else ''} CVM Engine did not write: {names}", foreign_hint()))


# --- what a folder holds ------------------------------------------------------------------


@dataclass
class Scan:
    written: dict[str, list[str]]  # the folder's record: command -> files
    nested: set[str] = field(default_factory=set)  # sub-folders that are other engine outputs
    foreign: list[str] = field(default_factory=list)  # the first few files nobody recorded
    foreign_count: int = 0


def scan_folder(folder: Path) -> Scan:
    scan = Scan(read_record(folder))
    if folder.is_dir():
        _walk(scan, folder, owned(scan.written), "")
    return scan


def _walk(scan: Scan, folder: Path, owned: set[str], prefix: str) -> None:
    """Depth first in name order (so the names shown are always the same), counting every file
    the record does not list; a sub-folder with a record of its own is another engine output
    (the CDNOW example's inside the repository's, say): not this command's to judge or touch."""
    with os.scandir(folder / prefix if prefix else folder) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        if scan.foreign_count >= COUNT_LIMIT:
            return
        rel = f"{prefix}{entry.name}"
        if entry.name in LITTER or entry.name.startswith(TEMP_PREFIX) or rel == RECORD:
            continue
        if entry.is_dir(follow_symlinks=False):
            if _is_engine_output(Path(entry.path)):
                scan.nested.add(rel)
            else:
                _walk(scan, folder, owned, rel + "/")
        elif rel not in owned:
            scan.foreign_count += 1
            if len(scan.foreign) < SHOWN:
                scan.foreign.append(rel)


def owned(written: dict[str, list[str]]) -> set[str]:
    return {f for files in written.values() for f in files}


def _is_engine_output(folder: Path) -> bool:
    try:
        return (folder / RECORD).is_file() or bool(_legacy_run(folder))
    except BadRecord:  # not a manifest the engine wrote: its files count as not the engine's
        return False


def read_record(folder: Path) -> dict[str, list[str]]:
    """The record of ``folder``: command -> files. Raises BadRecord when it names a path that
    is not inside the folder (checked before anything is renamed or removed)."""
    try:
        raw = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        written = {str(k): list(v) for k, v in raw["written"].items()}
    except FileNotFoundError:
        return _legacy_run(folder)
    except (OSError, ValueError, TypeError, KeyError, AttributeError,
            RecursionError):
        return {}  # unreadable: every file in the folder counts as not the engine's
    for files in written.values():
        for rel in files:
            if not is_inside_name(rel):
                raise BadRecord(folder / RECORD, rel)
    return written


def _legacy_run(folder: Path) -> dict[str, list[str]]:
    """The files of a run folder written before the record existed (engine 0.x, no
    ``.cvm-files.json``): recognised by its manifest, which names the format and the briefs."""
    if (folder / RECORD).exists():
        return {}
    try:
        manifest: Any = json.loads((folder / LAST).read_text(encoding="utf-8"))
        fmt, briefs = manifest["output_format"], manifest["briefs"]
        if not {"engine_version", "run_id", "inputs"} <= set(manifest):
            return {}
        run = [f"actions.{fmt}", "allocation_summary.csv", "customers.csv", "customers.parquet",
               "decisions.csv", LAST, *(f"briefs/{b}" for b in briefs)]
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return {}
    bad = next((rel for rel in run if not is_inside_name(rel)), None)
    if bad is not None:
        raise BadRecord(folder / LAST, bad)
    report = ["report/report.html", "report/monthly_figures.csv",
              *(p.relative_to(folder).as_posix() for p in (folder / "report" / "charts").glob(
                  "*.svg"))]
    fit = ["fit/holdout.csv", "fit/holdout.svg", "fit/params.json"]
    return {"run": sorted(run), "report": sorted(report), "fit": sorted(fit)}
