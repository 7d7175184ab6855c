"""``cvm plan``: its changes equal what a before/after pair of ``cvm run`` shows."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
OLD, NEW = "clv_discounted: {gte: 25}", "clv_discounted: {gte: 10}"


_project = copy_example_project


def _proposed(tmp_path: Path, project: Path) -> Path:
    folder = tmp_path / "proposed"
    (folder / "policies").mkdir(parents=True)
    text = (project / "policies" / "win_back.yaml").read_text()
    assert OLD in text
    (folder / "policies" / "win_back.yaml").write_text(text.replace(OLD, NEW))
    return folder


def _state(out: Path) -> pd.DataFrame:
    dec = pd.read_csv(out / "decisions.csv", dtype=str).set_index("customer_id")
    act = pd.read_csv(out / "actions.csv", dtype={"customer_id": str}).set_index("customer_id")
    cols = ["lifecycle_stage", "action", "policy_id", "service_level"]
    return dec[cols].join(act[["channel", "status", "cost", "expected_value"]], how="left")


def test_plan_matches_a_pair_of_runs(tmp_path: Path) -> None:
    project = _project(tmp_path)
    proposed = _proposed(tmp_path, project)
    changes = tmp_path / "changes.csv"
    res = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(proposed),
                              "--changes", str(changes), "--report", str(tmp_path / "plan.md"),
                              "--detailed-exitcode"])
    assert res.exit_code == 2, res.stderr
    plan = pd.read_csv(changes, dtype={"customer_id": str})

    assert runner.invoke(app, ["run", "-p", str(project), "-o", str(tmp_path / "a"),
                               "-q"]).exit_code == 0
    shutil.copy(proposed / "policies" / "win_back.yaml", project / "policies" / "win_back.yaml")
    assert runner.invoke(app, ["run", "-p", str(project), "-o", str(tmp_path / "b"),
                               "-q"]).exit_code == 0
    a, b = _state(tmp_path / "a"), _state(tmp_path / "b")
    same = ((a == b) | (a.isna() & b.isna())).all(axis=1)
    changed = sorted(a.index[~same])
    assert len(changed) > 0
    assert sorted(plan["customer_id"]) == changed
    acts_a = pd.read_csv(tmp_path / "a" / "actions.csv")
    acts_b = pd.read_csv(tmp_path / "b" / "actions.csv")
    text = res.stdout
    assert f"customers changed                                {len(changed)}" in text
    assert f"EUR {acts_a['cost'].sum():,.2f}" in text and f"EUR {acts_b['cost'].sum():,.2f}" in text
    assert "win_back now matches; before: none of these held: clv_discounted is" in text
    md = (tmp_path / "plan.md").read_text()
    assert md.startswith("# Plan: ") and "| win_back |" in md


def test_no_change(tmp_path: Path) -> None:
    project = _project(tmp_path)
    same = tmp_path / "same"
    shutil.copytree(project / "policies", same / "policies")
    res = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(same),
                              "--detailed-exitcode", "--report", str(tmp_path / "plan.html")])
    assert res.exit_code == 0, res.stderr
    assert "No changes: every customer keeps the same stage, decision, channel and cost." in \
        res.stdout
    assert "<b>No changes</b>" in (tmp_path / "plan.html").read_text()


def test_invalid_proposed_writes_nothing(tmp_path: Path) -> None:
    project = _project(tmp_path)
    bad = tmp_path / "bad"
    (bad / "policies").mkdir(parents=True)
    (bad / "policies" / "win_back.yaml").write_text(
        (project / "policies" / "win_back.yaml").read_text().replace("priority: 70",
                                                                     "priority: high"))
    before = sorted(p.name for p in tmp_path.iterdir())
    res = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(bad),
                              "--changes", str(tmp_path / "c.csv"), "--detailed-exitcode"])
    assert res.exit_code == 1
    assert "policies/win_back.yaml:" in res.stderr and "priority" in res.stderr
    assert "'high'" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not (project / "output").exists()


def test_git_revision(tmp_path: Path) -> None:
    project = _project(tmp_path)
    git = ["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    win = project / "policies" / "win_back.yaml"
    win.write_text(win.read_text().replace(OLD, NEW))
    subprocess.run([*git, "commit", "-qam", "lower"], check=True)
    # the working tree (proposed = HEAD) against the commit before
    res = runner.invoke(app, ["plan", "-p", str(project), "--baseline-ref", "HEAD~1",
                              "--proposed-ref", "HEAD", "--detailed-exitcode", "-q"])
    assert res.exit_code == 2, res.stderr
    res = runner.invoke(app, ["plan", "-p", str(project), "--proposed-ref", "nope", "-q"])
    assert res.exit_code == 1
    assert "git revision 'nope' not found" in res.stderr
