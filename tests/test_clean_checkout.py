"""The README's plan example, run in a fresh checkout of the repository, leaves git status
clean apart from what the example itself makes (the `proposal/` copy and the named report)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app

ROOT = Path(__file__).resolve().parents[1]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def test_readme_plan_example_leaves_the_checkout_clean(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of the repository")
    clone = tmp_path / "clone"
    for name in _git(ROOT, "ls-files", "-z").split("\0"):  # the tracked files, as they are now
        if name and (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / name, clone / name)
    _git(clone, "init", "-q")
    _git(clone, "add", "-A")
    _git(clone, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "c")
    assert _git(clone, "status", "--porcelain") == ""
    section = (ROOT / "README.md").read_text().split(
        "## Dry-running a policy change: `cvm plan`", 1)[1]
    block = re.search(r"```console\n(.*?)```", section, flags=re.S)
    assert block is not None
    lines = [line.removeprefix("$ ") for line in block.group(1).splitlines()]
    monkeypatch.chdir(clone)
    for line in lines[:-1]:
        subprocess.run(line, shell=True, check=True, cwd=clone)
    assert lines[-1] == "cvm plan --proposed proposal --report plan.md"
    res = CliRunner().invoke(app, lines[-1].split()[1:])
    assert res.exit_code == 0, res.output
    assert (clone / "plan.md").is_file()
    assert _git(clone, "status", "--porcelain", "-uall").splitlines() == [
        "?? plan.md", *sorted(f"?? proposal/{p.relative_to(clone / 'proposal').as_posix()}"
                              for p in (clone / "proposal").rglob("*") if p.is_file())]
