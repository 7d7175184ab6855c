"""The policy tests a proposed change breaks: the project's tests (``policy_tests/``, or the
proposed version's own when it has them) run on both versions' policies, and those that pass
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


def broken_tests(base: Project, prop: Project, project: Path,
                 proposed: Path | None = None) -> list[Problem]:
    """Warnings for the tests the proposed version breaks (none: []): the tests of the
    ``proposed`` folder when it has its own, else the ``project``'s."""
    folder = proposed if proposed is not None and test_files(proposed) else project
    types = types_for(base.config)
    on = [_read(folder, side, types) for side in (base, prop)]
    had = {(p.file, p.line, p.message) for p in on[0].problems if p.severity == "error"}
    out = [dataclasses.replace(p, severity="warning", message=f"the proposed version's "
                               f"policies cannot run this test: {p.message}", hint=HINT)
           for p in on[1].problems if p.severity == "error"
           and (p.file, p.line, p.message) not in had]
    passed = {(o.test.file, o.test.line) for o in run_tests(on[0].tests, base.rulebook,
                                                             base.channels, types) if o.passed}
    for o in run_tests(on[1].tests, prop.rulebook, prop.channels, types):
        if not o.passed and (o.test.file, o.test.line) in passed:
            out.append(Problem(f"the proposed version fails the policy test {o.test.name!r}, "
                               f"which the current one passes: {o.failures[0].strip()}",
                               file=o.test.file, line=o.test.line, severity="warning",
                               hint=HINT))
    return out


def _read(folder: Path, side: Project, types: dict[str, str]) -> PolicyTests:
    return read_policy_tests(folder, types, side.rulebook,
                             [ch.id for ch in side.channels.channels], side.tiers.names)
