"""`cvm plan` says the policy tests a proposed change breaks (a marketer's trial: deleting a
policy a test names planned cleanly; `cvm validate` failed only once the change was made)."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project

runner = CliRunner()


def _proposal(project: Path, into: Path) -> Path:
    into.mkdir()
    shutil.copy(project / "cvm.yaml", into / "cvm.yaml")
    for part in ("rules", "policies", "templates"):
        shutil.copytree(project / part, into / part)
    return into


def test_a_change_that_breaks_a_policy_test_is_said(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    shutil.copytree(ROOT / "policy_tests", project / "policy_tests")
    gone = _proposal(project, tmp_path / "gone")
    (gone / "policies" / "welcome_new.yaml").unlink()
    said = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(gone),
                               "--no-history"])
    assert said.exit_code == 0, said.output
    assert "warning: policy_tests/starter.yaml:38:15: tests[2].expect.policy: the proposed " \
        "version's policies cannot run this test: found 'welcome_new', expected policy: " \
        "cross_sell_maturity, develop_growth, no_win_back_low_value, retain_high_value, " \
        "retain_tier_drop, win_back, win_back_advocates\n  hint: run `cvm test` on the " \
        "proposed version for the whole of it; update the test if the change is meant\n" \
        in said.stderr, said.stderr
    narrower = _proposal(project, tmp_path / "narrower")
    policy = narrower / "policies" / "retain_high_value.yaml"
    policy.write_text(policy.read_text().replace("value_tier: {in: [platinum, gold]}",
                                                 "value_tier: {in: [platinum]}"))
    said = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(narrower),
                               "--no-history"])
    assert said.exit_code == 0, said.output
    assert said.stderr.startswith(
        "warning: policy_tests/starter.yaml:7: the proposed version fails the policy test 'a "
        "gold customer overdue against their own pace is retained', which the current one "
        "passes: line 16: expected action retain, got no_action (no_action: no policy "
        "matched)\n"), said.stderr
    same = _proposal(project, tmp_path / "same")
    said = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(same),
                               "--no-history"])
    assert (said.exit_code, said.stderr) == (0, "")
