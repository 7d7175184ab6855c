"""Every command on every bundled example writes what it wrote when the golden fingerprints were
recorded (tests/golden): byte for byte, the standard output and error included."""

from __future__ import annotations

import difflib

from tests import golden
from tests.conftest import GoldenRun


def test_every_command_on_every_example_gives_the_recorded_outputs(
        golden_run: GoldenRun) -> None:
    stacks, current = golden.load(), golden.stack()
    want, what = golden.expected(stacks, current)
    assert want, "no golden fingerprints: run python -m tests.golden"
    found = golden_run.prints  # the session's one run of every command (tests/conftest.py)
    keys = want.keys() | (found.keys() if current in stacks else set())
    problems = []
    for key in sorted(keys):
        old, new = want.get(key), found.get(key)
        if old == new:
            continue
        if old is None or new is None:
            problems.append(f"{key}: {'no longer written' if new is None else 'new'}")
        elif key.endswith("/output"):  # the exit code and text itself: show how it changed
            lines = difflib.unified_diff(old.splitlines(), new.splitlines(), "recorded",
                                         "now", n=1, lineterm="")
            problems.append(f"{key}:\n" + "\n".join("    " + line for line in lines))
        else:
            problems.append(f"{key}: different content")
    assert not problems, f"{len(problems)} of the outputs differ from the golden ones " \
        f"(checked: {what}):\n" + "\n".join(problems)
