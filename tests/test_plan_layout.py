"""`cvm plan` judges what decides, and agrees with the outputs: a comment or a moved key
changes nothing; a change of declaration order that changes no output is no change either."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

runner = CliRunner()
NO_CHANGES = "No changes: the same settings, rules, policies, channels and campaigns"
SEGMENTS = """\
segments:
  - id: recent
    description: bought lately
    when: {recency_days: {lt: 200}}
  - id: big
    description: spent a lot
    when: {revenue: {gt: 500}}
"""


def _copy(project: Path, dest: Path) -> Path:
    shutil.copytree(project, dest, ignore=shutil.ignore_patterns("output"))
    return dest


def _moved(text: str) -> str:
    """The same document with a comment on top and its top-level keys in reverse order."""
    data = yaml.safe_load(text)
    moved = {k: data[k] for k in reversed(list(data))}
    return "# a comment moves every line down\n\n" + yaml.safe_dump(moved, sort_keys=False)


def test_comments_and_moved_keys_in_every_file_are_no_change(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    (project / "rules" / "segments.yaml").write_text(SEGMENTS)
    proposed = _copy(project, tmp_path / "proposed")
    files = sorted(proposed.rglob("*.yaml"))
    assert len(files) > 10 and proposed / "cvm.yaml" in files
    for path in files:
        path.write_text(_moved(path.read_text()))
    # fails before the fix: cvm.yaml's positions were compared (exit 2, "cvm.yaml changed")
    res = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(proposed),
                              "--detailed-exitcode"])
    assert res.exit_code == 0, res.stdout + res.stderr
    assert NO_CHANGES in res.stdout


def test_segment_order_changes_neither_outputs_nor_plan(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    (project / "rules" / "segments.yaml").write_text(SEGMENTS)
    swapped = _copy(project, tmp_path / "swapped")
    head, recent, big = SEGMENTS.split("  - ")
    (swapped / "rules" / "segments.yaml").write_text(f"{head}  - {big.rstrip()}\n  - {recent}")
    outs = []
    for name, proj in (("a", project), ("b", swapped)):
        out = tmp_path / f"out_{name}"
        res = runner.invoke(app, ["run", "-p", str(proj), "-o", str(out), "-q", "--no-history"])
        assert res.exit_code == 0, res.stderr
        outs.append({f: (out / f).read_bytes() for f in ("customers.csv", "decisions.csv")})
    assert b"recent|big" in outs[0]["decisions.csv"] or b"big|recent" in outs[0]["decisions.csv"]
    # fails before the fix: the segments column followed declaration order
    assert outs[0] == outs[1]
    res = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(swapped),
                              "--detailed-exitcode"])
    assert res.exit_code == 0, res.stdout + res.stderr
    assert NO_CHANGES in res.stdout
