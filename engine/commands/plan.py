"""``cvm plan``: dry-run a change to the project. Writes nothing unless --report or --changes
is given; those files go through engine.output.folder (never over an input or a file the engine
did not write)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from engine import notices
from engine.commands.common import as_of_warnings, last_purchase, project_config
from engine.commands.validate import check
from engine.errors import Problem, UsageError
from engine.output.commit import write_files
from engine.output.folder import Target, check_file, guard_for
from engine.output.writers import csv_writer, write_text
from engine.plan.dry_run import make_plan
from engine.plan.render import changes_csv, html_report, markdown, terminal
from engine.plan.sources import SideError, Source, sides
from engine.run.build import side as side_project
from engine.terminal import display

EXIT_CHANGES = 2


def run(*, project: Path | None, config_file: Path | None, proposed: Path | None,
        proposed_ref: str | None, baseline: Path | None, baseline_ref: str | None,
        report_file: Path | None, changes_file: Path | None, detailed_exitcode: bool,
        quiet: bool, overlay: bool = False, json_out: bool = False, engine: str = "local",
        scheduler: str | None = None, partitions: int | None = None,
        scratch: Path | None = None, history: bool = True) -> int:
    """``history=False``: both sides decided as ``cvm run --no-history`` decides."""
    if (proposed is None) == (proposed_ref is None):
        raise UsageError(Problem("give exactly one of --proposed DIR or --proposed-ref REV",
                                 key="--proposed"))
    if baseline is not None and baseline_ref is not None:
        raise UsageError(Problem("give at most one of --baseline and --baseline-ref",
                                 key="--baseline"))
    if overlay and proposed is None:
        raise UsageError(Problem("found a git revision, expected --proposed FOLDER",
                                 key="--overlay", hint="a revision is always a complete "
                                 "version of the project"))
    if report_file is not None and report_file.suffix.lower() not in (".md", ".html", ".htm"):
        raise UsageError(Problem(f"found {report_file.name!r}, expected a .md or .html file",
                                 key="--report"))
    if report_file is not None and changes_file is not None and \
            report_file.resolve() == changes_file.resolve():
        raise UsageError(Problem("names the same file as --report", key="--changes",
                                 hint="give the changed customers (CSV) a file of their own"))
    config = project_config(project, config_file)
    guard = guard_for(config, folders=[f for f in (proposed, baseline) if f is not None])
    targets = {option: Target(path.resolve(), option) for option, path in
               (("--report", report_file), ("--changes", changes_file)) if path is not None}
    for target in targets.values():  # before the two runs, which take long
        check_file(target, guard)
    from engine.history.checks import check_readable

    if history:  # both sides read the history: not one validate refuses (exit 1)
        check_readable(config)
    with tempfile.TemporaryDirectory(prefix="cvm-plan-") as tmp:
        base, prop = sides(config, Path(tmp), proposed=proposed, proposed_ref=proposed_ref,
                           baseline=baseline, baseline_ref=baseline_ref, overlay=overlay)
        read, warned = [], []
        for side in (base, prop):  # each side's files read once: checked, then run
            checked = check(config.project, side.config_file, rules_from=side.folder)
            errors = [p for p in checked.problems if p.severity == "error"]
            if errors:
                raise SideError(side, "does not validate", errors)
            read.append(side_project(checked, side.folder))
            warned.append([p for p in checked.problems if p.severity != "error"])
        for problem in _added(warned[0], warned[1], base, prop):
            notices.warn(problem.format())
        from engine.workflow.plan_tests import broken_tests

        for problem in broken_tests(read[0], read[1], config.project, proposed,
                                    overlay=overlay):
            notices.warn(problem.format())
        shown = display(("baseline", "proposed", "compare"), quiet=quiet or json_out)
        with shown or contextlib.nullcontext():  # issue 17: bars on a terminal
            scoring = None
            if engine == "dask":  # issue 16: each side scored on a Dask cluster
                from engine.distributed.job import plan_scoring

                scoring = plan_scoring(scheduler=scheduler, partitions=partitions,
                                       scratch=scratch, history=history)
            plan = make_plan(config, base, prop, progress=shown, read=(read[0], read[1]),
                             scoring=scoring, history=history)
        late = [as_of_warnings(side.config, side.scored.as_of, last_purchase(side.scored.table),
                               side.scored.report.dated_ahead)
                for side in (plan.before, plan.after)]  # each side's, the proposal's if new
        for problem in [*(_shown(p, base) for p in late[0]), *_added(late[0], late[1], base,
                                                                   prop)]:
            notices.warn(problem.format())
        writers: dict[str, Callable[[Path], Any]] = {}
        if report_file is not None:
            text = html_report(plan, config.currency) if report_file.suffix.lower() in (
                ".html", ".htm") else markdown(plan, config.currency)
            writers["--report"] = functools.partial(write_text, text)
        if changes_file is not None:
            writers["--changes"] = csv_writer(changes_csv(plan))
        write_files([targets[k] for k in writers], guard, "plan", list(writers.values()))
        if json_out:  # issue 17
            from engine.workflow.json_output import plan_json

            typer.echo(plan_json(plan))
        elif not quiet:
            typer.echo(terminal(plan, config.currency))
            for option in writers:
                typer.echo(f"wrote {targets[option].path}")
    if detailed_exitcode and plan.changed:
        return EXIT_CHANGES
    return 0


def _shown(problem: Problem, source: Source) -> Problem:
    return dataclasses.replace(problem, file=source.shown(problem.file))


def _added(before: list[Problem], after: list[Problem], base: Source,
           prop: Source) -> list[Problem]:
    """The proposed version's warnings that the baseline has not (the same message about the
    same key of the same file, wherever its line and place in a list: a rule added above a
    rule moves it), each naming the proposal's real file."""
    def ident(problem: Problem, source: Source) -> tuple[str, str | None, str | None]:
        key = None if problem.key is None else re.sub(r"\[\d+\]", "[]", problem.key)
        return problem.message, key, None if problem.file is None else \
            source.inside(problem.file)

    had = {ident(p, base) for p in before}
    return [_shown(p, prop) for p in after if ident(p, prop) not in had]

