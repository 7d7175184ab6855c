"""A run's folder written into by a command that makes one of its files (``cvm score``: the
value table; ``cvm decide``: the decisions): refused when it is the default output, replaced
with a warning when named with ``--out``. A run folder whose files no longer match its
manifest is refused by ``cvm serve``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from engine import notices
from engine.errors import OutputError, Problem
from engine.project.config import Config
from engine.terminal import shell_path


def run_holding(folder: Path, name: str) -> str | None:
    """The id of the run whose file ``name`` ``folder`` holds as the run wrote it (its
    manifest's SHA-256 of it), which a command is about to replace."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        recorded = manifest["outputs"][name]
        digest = hashlib.sha256()
        with (folder / name).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        found = digest.hexdigest()
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None
    return str(manifest.get("run_id")) if found == recorded else None


def refuse_the_run_s_folder(config: Config, folder: Path, run_id: str, command: str,
                            files: tuple[str, ...], what: str) -> None:
    """The default output holds a run's ``files``: replaced, the run's folder would be
    broken for cvm serve. Said before anything is computed; the run's folder named with --out
    is replaced (and said after, by ``warn_replaced``)."""
    where = shell_path(folder)
    raise OutputError(Problem(
        f"holds run {run_id}, whose {' and '.join(files)} cvm {command} would replace (the run "
        "folder would then no longer match its manifest: cvm serve refuses it)",
        file=config.display(folder),
        hint=f"give cvm {command} a folder of its own: cvm {command} --out "
             f"{shell_path(folder / command)}; to replace the run's {what}, name its folder: "
             f"cvm {command} --out {where}"))


def warn_replaced(folder: Path, run_id: str, command: str, files: tuple[str, ...],
                  holds: str) -> None:
    """The run's ``files`` replaced in the folder named with --out: said, with the fix;
    nothing when they are the run's bytes again (the manifest still matches them)."""
    if all(run_holding(folder, name) == run_id for name in files):
        return
    notices.warn(f"replaced run {run_id}'s {' and '.join(files)} in {shell_path(folder)}: the "
                 f"run folder now holds {holds}, and its manifest no longer matches them (cvm "
                 "serve refuses the folder until cvm run writes it again)\n  hint: give cvm "
                 f"{command} a folder of its own: cvm {command} --out "
                 f"{shell_path(folder / command)}")
