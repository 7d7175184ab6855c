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


def test_tests_that_cannot_be_read_are_said_and_an_overlay_keeps_the_project_s(
        tmp_path: Path) -> None:
    """The re-trial: a test file with a YAML error made the plan check nothing, silently; a
    proposal's own test file was named as the project's; and with --overlay a proposal's
    policy_tests/ replaced the project's whole folder (its breaks then unsaid)."""
    project = copy_example_project(tmp_path)
    shutil.copytree(ROOT / "policy_tests", project / "policy_tests")
    narrower = _proposal(project, tmp_path / "narrower")
    policy = narrower / "policies" / "retain_high_value.yaml"
    policy.write_text(policy.read_text().replace("value_tier: {in: [platinum, gold]}",
                                                 "value_tier: {in: [platinum]}"))
    # an overlay: the policy narrowed and a test file of its own, beside the project's
    overlay = tmp_path / "overlay"
    (overlay / "policies").mkdir(parents=True)
    shutil.copy(policy, overlay / "policies" / "retain_high_value.yaml")
    (overlay / "policy_tests").mkdir()
    (overlay / "policy_tests" / "extra.yaml").write_text(
        "tests:\n  - name: broken\n    customer: {value_tier: gold\n")
    said = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(overlay),
                               "--overlay", "--no-history"])
    assert said.exit_code == 0, said.output
    lines = [line for line in said.stderr.splitlines() if line.startswith("warning: ")]
    assert lines[0].startswith(
        f"warning: {overlay / 'policy_tests' / 'extra.yaml'}:4:1: the policy tests cannot be "
        "read (YAML syntax error"), said.stderr
    assert lines[0].endswith("): the proposed version is not checked against them"), lines
    # a test of a policy the proposal adds: the current version cannot run it (it did not
    # pass there), the others are checked all the same (a review: it turned the check off)
    (overlay / "policies" / "welcome_vip.yaml").write_text(
        (project / "policies" / "welcome_new.yaml").read_text().replace(
            "id: welcome_new", "id: welcome_vip"))
    (overlay / "policy_tests" / "extra.yaml").write_text(
        "tests:\n  - name: vip\n    customer: {value_tier: gold}\n"
        "    expect: {policy: welcome_vip}\n")
    said = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(overlay),
                               "--overlay", "--no-history"])
    assert "fails the policy test 'a gold customer overdue against their own pace is " \
        "retained'" in said.stderr, said.stderr
    assert "cannot be read" not in said.stderr and "cannot run" not in said.stderr
    # (a marketer's trial: the hint said to run cvm test on the overlay, which holds only
    # the files it changes)
    assert "\n  hint: apply the change (its files over the project's), then run `cvm test` on " \
        "the whole; update the test if the change is meant\n" in said.stderr, said.stderr
    (overlay / "policy_tests" / "extra.yaml").write_text(
        "tests:\n  - name: gold retained\n    customer: {value_tier: gold, tenure_days: 700, "
        "recency_days: 200, recency_ratio: 2.0}\n    expect: {policy: retain_high_value}\n")
    said = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(overlay),
                               "--overlay", "--no-history"])
    failing = [line for line in said.stderr.splitlines() if "fails the policy test" in line]
    assert [line.split(": the proposed")[0] for line in failing] == [
        "warning: policy_tests/starter.yaml:7", "warning: policy_tests/starter.yaml:21",
        f"warning: {overlay / 'policy_tests' / 'extra.yaml'}:2"], said.stderr  # its own
