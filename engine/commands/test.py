"""``cvm test``: run the project's policy tests (``policy_tests/*.yaml``)."""

from __future__ import annotations

from pathlib import Path

import typer

from engine.commands.common import project_of
from engine.errors import InputError, Problem, printable
from engine.notices import warn
from engine.project.policy_tests import TESTS_FOLDER, unread_test_folders
from engine.run.pipeline import types_for
from engine.terminal import styled
from engine.workflow.checking import run_tests


def run(*, project: Path | None, config_file: Path | None, files: list[Path] | None,
        quiet: bool) -> int:
    setup = project_of(project, config_file,  # the tests are read with the project
                       test_files=[p for p in files if p.is_file()] if files else None)
    config = setup.config
    types = types_for(config)
    for path in files or []:
        if not path.is_file():  # exit 1 as README "Exit codes" says, not Click's 2
            raise InputError(Problem("is a folder, expected a test file" if path.is_dir()
                                     else "file not found", file=str(path), hint=(
                                         f"cvm test takes policy test files ({TESTS_FOLDER}/"
                                         "*.yaml); with none, it runs every one of the "
                                         "project's")))
    tests, problems = list(setup.tests.tests), list(setup.tests.problems)
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    for problem in problems:  # a warning (two tests of one name): said, the tests run
        warn(problem.format())
    if not files:
        for skipped in unread_test_folders(config.project):  # said, never silently dropped
            warn(skipped.format())
    if not tests:
        raise InputError(Problem(
            f"no policy tests: {TESTS_FOLDER}/ holds no .yaml file", file=TESTS_FOLDER,
            hint="write one (README \"Policy tests: cvm test\"), or run `cvm init` for the "
            "starter tests"))
    outcomes = run_tests(tests, setup.rulebook, setup.channels, types)
    failed = [o for o in outcomes if not o.passed]
    for o in failed:
        typer.echo(f"{styled('FAIL', 'red', bold=True)} {printable(o.test.file, lines=False)}"
                   f":{o.test.line}: {o.test.name}")
        for text in o.failures:
            typer.echo("  " + text)
    if not quiet or failed:
        passed = len(outcomes) - len(failed)
        typer.echo(f"{len(outcomes)} policy test(s): "
                   + styled(f"{passed} passed", "green")
                   + (styled(f", {len(failed)} FAILED", "red", bold=True) if failed else ""))
    return 1 if failed else 0

