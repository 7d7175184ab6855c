"""``cvm plan``: dry-run a change to the project. Writes nothing unless --report or --changes
is given, never into the run output folder, and never over a file it did not write."""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from pathlib import Path

import typer

from engine.commands.common import project_config
from engine.commands.validate import collect
from engine.config import Config
from engine.errors import InputError, OutputError, Problem
from engine.output import csv_writer, write_files
from engine.plan import make_plan
from engine.plan_render import changes_csv, html_report, markdown, terminal, written_by_plan
from engine.plan_sources import SideError, sides

EXIT_CHANGES = 2


def _write_text(path: Path, *, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def run(*, project: Path | None, config_file: Path | None, proposed: Path | None,
        proposed_ref: str | None, baseline: Path | None, baseline_ref: str | None,
        report_file: Path | None, changes_file: Path | None, detailed_exitcode: bool,
        quiet: bool, overlay: bool = False) -> int:
    if (proposed is None) == (proposed_ref is None):
        raise InputError(Problem("give exactly one of --proposed DIR or --proposed-ref REV",
                                 key="--proposed"))
    if baseline is not None and baseline_ref is not None:
        raise InputError(Problem("give at most one of --baseline and --baseline-ref",
                                 key="--baseline"))
    if overlay and proposed is None:
        raise InputError(Problem("found a git revision, expected --proposed FOLDER",
                                 key="--overlay", hint="a revision is always a complete "
                                 "version of the project"))
    if report_file is not None and report_file.suffix.lower() not in (".md", ".html", ".htm"):
        raise InputError(Problem(f"found {report_file.name!r}, expected a .md or .html file",
                                 key="--report"))
    config = project_config(project, config_file)
    targets = _targets(config, report_file=report_file, changes_file=changes_file)
    with tempfile.TemporaryDirectory(prefix="cvm-plan-") as tmp:
        base, prop = sides(config, Path(tmp), proposed=proposed, proposed_ref=proposed_ref,
                           baseline=baseline, baseline_ref=baseline_ref, overlay=overlay)
        for side in (base, prop):
            problems = collect(config.project, side.config_file, rules_from=side.folder)
            errors = [p for p in problems if p.severity == "error"]
            if errors:
                raise SideError(side, "does not validate", errors)
        plan = make_plan(config, base, prop)
        writers: dict[Path, Callable[[Path], None]] = {}
        if report_file is not None:
            text = html_report(plan, config.currency) if report_file.suffix.lower() in (
                ".html", ".htm") else markdown(plan, config.currency)
            writers[targets["--report"]] = functools.partial(_write_text, text=text)
        if changes_file is not None:
            writers[targets["--changes"]] = csv_writer(changes_csv(plan))
        if writers:
            write_files(writers)
        if not quiet:
            typer.echo(terminal(plan, config.currency))
            for path in writers:
                typer.echo(f"wrote {path}")
    if detailed_exitcode and plan.changed:
        return EXIT_CHANGES
    return 0


def _targets(config: Config, **files: Path | None) -> dict[str, Path]:
    """Where --report and --changes go: never into the run output folder (``cvm run``
    replaces it), never over a file that ``cvm plan`` did not write."""
    out: dict[str, Path] = {}
    run_folder = config.output.resolve()
    for name, path in files.items():
        if path is None:
            continue
        option = "--" + name.removesuffix("_file")
        target = path.resolve()
        if target == run_folder or run_folder in target.parents:
            raise OutputError(Problem(f"inside the run output folder {run_folder}, which cvm "
                                      "run replaces", file=str(path), key=option,
                                      hint="write the plan outside it"))
        if target in out.values():
            other = next(k for k, v in out.items() if v == target)
            raise OutputError(Problem(f"the same file as {other}", file=str(path), key=option,
                                      hint="give the two files different names"))
        if target.exists() and not (target.is_file() and written_by_plan(target)):
            raise OutputError(Problem("the file exists and was not written by cvm plan",
                                      file=str(path), key=option, hint="choose another file "
                                      "name, or move the file away"))
        out[option] = target
    return out
