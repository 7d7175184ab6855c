"""The policy tests a proposed change breaks: the project's tests (``policy_tests/``; a
complete proposed version's own when it has them, or with ``--overlay`` the project's with the
proposal's files over them, file by file) run on both versions' policies, and those that pass
on the current one and fail, or cannot be read, on the proposed one are said as warnings. A
marketer's trial deleted a policy a test named: the plan was clean, and `cvm validate` failed
only once the change was applied."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from engine.errors import Problem
from engine.project.policy_tests import PolicyTests, read_policy_tests, test_files
from engine.project.project import Project
from engine.run.pipeline import types_for
from engine.workflow.checking import run_tests

HINT = "run `cvm test` on the proposed version for the whole of it; update the test if the " \
    "change is meant"
# an overlay holds only the files it changes: `cvm test` runs on the change applied
OVERLAY_HINT = "apply the change (its files over the project's), then run `cvm test` on the " \
    "whole; update the test if the change is meant"


def broken_tests(base: Project, prop: Project, project: Path, proposed: Path | None = None,
                 *, overlay: bool = False) -> list[Problem]:
    """Warnings for the tests the proposed version breaks (none: []); one warning when a test
    file cannot be read at all (a YAML error: nothing is then checked)."""
    mine = {p.name: p for p in test_files(project)}
    theirs = {p.name: p for p in test_files(proposed)} if proposed is not None else {}
    files = list(({**mine, **theirs} if overlay else (theirs or mine)).values())
    hint = OVERLAY_HINT if overlay else HINT
    if not files:
        return []
    on = [_read(project, files, side, types_for(side.config)) for side in (base, prop)]
    errors = [[p for p in side.problems if p.severity == "error"] for side in on]
    whole = [p for p in errors[0] if _test_of(p) is None]
    if whole:  # a file that cannot be read (a YAML error): said, never skipped in silence
        return [dataclasses.replace(
            whole[0], severity="warning", hint="cvm validate says each; mend them, then plan "
            "again", message=f"the policy tests cannot be read ({whole[0].message}): the "
            "proposed version is not checked against them")]
    # a test the current version cannot run either (one of a policy the proposal adds) did
    # not pass there: no change breaks it
    unread = {_test_of(p) for p in errors[0]}
    out = [dataclasses.replace(p, severity="warning", message=f"the proposed version's "
                               f"policies cannot run this test: {p.message}", hint=hint)
           for p in errors[1] if _test_of(p) not in unread]
    passed = {(o.test.file, o.test.line) for o in run_tests(
        on[0].tests, base.rulebook, base.channels, types_for(base.config)) if o.passed}
    for o in run_tests(on[1].tests, prop.rulebook, prop.channels, types_for(prop.config)):
        if not o.passed and (o.test.file, o.test.line) in passed:
            out.append(Problem(f"the proposed version fails the policy test {o.test.name!r}, "
                               f"which the current one passes: {o.failures[0].strip()}",
                               file=o.test.file, line=o.test.line, severity="warning",
                               hint=hint))
    return out


def _read(project: Path, files: list[Path], side: Project, types: dict[str, str]
          ) -> PolicyTests:
    return read_policy_tests(project, types, side.rulebook,
                             [ch.id for ch in side.channels.channels], side.tiers.names, files)


def _test_of(problem: Problem) -> tuple[str | None, int] | None:
    """The test a problem is of (its file and place in the file's list), None for a problem
    of the whole file."""
    found = re.match(r"tests\[(\d+)\]", problem.key or "")
    return None if found is None else (problem.file, int(found.group(1)))
