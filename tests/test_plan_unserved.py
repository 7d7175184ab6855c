"""`cvm plan` lists customers not served per reason, every reason the allocation gives (zeros
included) with the total, before and after, in the terminal and in the Markdown report: here on
the README's plan example, made on a copy of the CDNOW example."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app

ROOT = Path(__file__).resolve().parents[1]
EVERY_REASON = ["no consented channel",
                "no channel: the policy allows none of the declared channels",
                "no channel: no allowed channel serves this service level",
                "no channel: the consented channels do not serve this service level",
                "not worth a contact: expected value not above the cost on every allowed channel",
                "capacity: the allowed channels are full",
                "budget: the allowed channels' budgets are spent",
                "budget: the campaign budget is spent",
                "budget: the channel's budget is below the cost of one contact",
                "budget: the campaign budget is below the cost of one contact"]


def test_reasons_are_every_reason_the_allocation_gives() -> None:
    from engine.plan.dry_run import REASONS

    assert list(REASONS) == EVERY_REASON
    text = "".join(p.read_text() for p in (ROOT / "engine").rglob("*.py"))
    for reason in EVERY_REASON:  # each is still a reason the engine writes
        assert reason in re.sub(r'"\s*\\?\n\s*"', "", text)  # strings continued: joined


def test_readme_plan_example_on_cdnow_lists_every_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "cdnow"
    shutil.copytree(ROOT / "examples" / "cdnow", project,
                    ignore=shutil.ignore_patterns("output", "CDNOW_sample.txt"))
    section = (ROOT / "README.md").read_text().split(
        "## Dry-running a policy change: `cvm plan`", 1)[1]
    block = re.search(r"```console\n(.*?)```", section, flags=re.S)
    assert block is not None
    # the README's lines, with its change made to the CDNOW example's win-back threshold
    lines = [line.removeprefix("$ ").replace("{gte: 10}/", "{gte: 2}/")
             .replace("{gte: 25}/", "{gte: 10}/") for line in block.group(1).splitlines()]
    monkeypatch.chdir(project)
    for line in lines[:-1]:
        subprocess.run(line, shell=True, check=True, cwd=project)
    assert lines[-1] == "cvm plan --proposed proposal --report plan.md"
    res = CliRunner().invoke(app, lines[-1].split()[1:])
    assert res.exit_code == 0, res.output
    terminal = res.stdout.split("\nNot served, by reason\n", 1)[1].split("\n\n", 1)[0]
    rows = [re.split(r"\s{2,}", line.strip()) for line in terminal.splitlines()]
    assert rows[0] == ["reason", "before", "after", "change"]
    assert [r[0] for r in rows[1:]] == [*EVERY_REASON, "not served, all reasons"]
    counts = [[int(x.replace(",", "")) for x in r[1:3]] for r in rows[1:]]
    assert [sum(c[i] for c in counts[:-1]) for i in (0, 1)] == counts[-1]  # the total
    report = (project / "plan.md").read_text()
    table = report.split("\n## Not served, by reason\n\n", 1)[1].split("\n\n", 1)[0]
    assert [line.split(" | ")[0].removeprefix("| ") for line in table.splitlines()[2:]] \
        == [*EVERY_REASON, "not served, all reasons"]
