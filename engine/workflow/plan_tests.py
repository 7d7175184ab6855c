"""The policy tests a proposed change breaks: the project's tests (``policy_tests/``; a
complete proposed version's own when it has them, or with ``--overlay`` the project's with the
proposal's files over them, file by file) run on both versions' policies, and those that pass
on the current one and fail, or cannot be read, on the proposed one are said as warnings. A
marketer's trial deleted a policy a test named: the plan was clean, and `cvm validate` failed
only once the change was applied."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from engine.errors import Problem
from engine.project.policy_tests import PolicyTests, read_policy_tests, test_files
from engine.project.project import Project
from engine.run.pipeline import types_for
from engine.workflow.checking import run_tests

HINT = "run `cvm test` on the proposed version for the whole of it; update the test if the " \
    "change is meant"


def broken_tests(base: Project, prop: Project, project: Path, proposed: Path | None = None,
                 *, overlay: bool = False) -> list[Problem]:
    """Warnings for the tests the proposed version breaks (none: []); one warning when the
    tests cannot be read with the current version either (nothing is then checked)."""
    mine = {p.name: p for p in test_files(project)}
    theirs = {p.name: p for p in test_files(proposed)} if proposed is not None else {}
    files = list(({**mine, **theirs} if overlay else (theirs or mine)).values())
    if not files:
        return []
    types = types_for(base.config)
    on = [_read(project, files, side, types) for side in (base, prop)]
    unread = [p for p in on[0].problems if p.severity == "error"]
    if unread:  # said, never skipped in silence
        first = unread[0]
        return [dataclasses.replace(
            first, severity="warning", hint="cvm validate says each; mend them, then plan "
            "again", message=f"the policy tests have {len(unread)} error(s) with the current "
            f"version too, this the first ({first.message}): the proposed version is not "
            "checked against them")]
    out = [dataclasses.replace(p, severity="warning", message=f"the proposed version's "
                               f"policies cannot run this test: {p.message}", hint=HINT)
           for p in on[1].problems if p.severity == "error"]
    passed = {(o.test.file, o.test.line) for o in run_tests(on[0].tests, base.rulebook,
                                                             base.channels, types) if o.passed}
    for o in run_tests(on[1].tests, prop.rulebook, prop.channels, types):
        if not o.passed and (o.test.file, o.test.line) in passed:
            out.append(Problem(f"the proposed version fails the policy test {o.test.name!r}, "
                               f"which the current one passes: {o.failures[0].strip()}",
                               file=o.test.file, line=o.test.line, severity="warning",
                               hint=HINT))
    return out


def _read(project: Path, files: list[Path], side: Project, types: dict[str, str]
          ) -> PolicyTests:
    return read_policy_tests(project, types, side.rulebook,
                             [ch.id for ch in side.channels.channels], side.tiers.names, files)
