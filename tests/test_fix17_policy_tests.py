"""Policy tests: the holdout lottery, sub-folders, impossible expectations, the service why
(issue 17 review, findings 12 to 15)."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project

CHANNEL_TEST = """\
tests:
  - name: the retention contact goes to the one consented channel
    customer:
      value_tier: gold
      lifecycle_stage: decline
      clv_discounted: 500
      consent_email: true
    expect:
      channel: email
"""


def _project(tmp_path: Path) -> Path:
    project = copy_example_project(tmp_path)
    shutil.copytree(ROOT / "policy_tests", project / "policy_tests")
    return project


def _test(project: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["test", "-p", str(project), *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_tests_outcome_does_not_depend_on_its_line(tmp_path: Path) -> None:
    """Finding 12: by default a test customer is outside the holdout, wherever it stands."""
    project = _project(tmp_path)
    folder = project / "policy_tests"
    for n in range(40):
        (folder / f"t{n}.yaml").write_text("#\n" * n + CHANNEL_TEST)
    code, out, _ = _test(project)
    assert code == 0, out


def test_holdout_true_puts_the_customer_in_the_holdout(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "policy_tests" / "h.yaml").write_text(
        CHANNEL_TEST.replace("    expect:", "    holdout: true\n    expect:"))
    code, out, _ = _test(project, str(project / "policy_tests" / "h.yaml"))
    assert code == 1
    assert ("  line 10: expected channel email, got none\n    why: holdout: holdout group: "
            "not contacted, to measure the campaign") in out


def test_sub_folders_of_policy_tests_are_warned_and_counted(tmp_path: Path) -> None:
    """Finding 13: validate and test say the folder is not read."""
    project = _project(tmp_path)
    (project / "policy_tests" / "sub").mkdir()
    (project / "policy_tests" / "sub" / "x.yaml").write_text(CHANNEL_TEST)
    warning = ("warning: policy_tests/sub/: the folder policy_tests/sub/ is not read: only the "
               ".yaml files directly in policy_tests/ are\n  hint: move its .yaml files up "
               "into policy_tests/ if they should count")
    result = CliRunner().invoke(app, ["validate", "-p", str(project)])
    assert result.exit_code == 0
    assert warning in result.output
    code, _, err = _test(project)
    assert code == 0
    assert err == warning + "\n"


def test_expecting_a_service_only_policy_as_the_policy_is_refused(tmp_path: Path) -> None:
    """Finding 14: `policy:` is the action's policy; a service-only one can never pass."""
    project = _project(tmp_path)
    (project / "policy_tests" / "s.yaml").write_text(
        "tests:\n  - name: gold service\n    customer: {value_tier: gold}\n"
        "    expect: {policy: service_gold}\n")
    result = CliRunner().invoke(app, ["validate", "-p", str(project)])
    assert result.exit_code == 1
    assert ("error: policy_tests/s.yaml:4:22: tests[0].expect.policy: found 'service_gold', "
            "expected a policy that gives an action: service_gold sets only a service level\n"
            "  hint: use `service_level: priority` or `service_policy: service_gold`"
            ) in result.stderr


def test_a_failing_service_level_names_the_policy_that_won_it(tmp_path: Path) -> None:
    """Finding 15: the winner first (service_basic with basic), then why the expected one
    did not win."""
    project = _project(tmp_path)
    (project / "policy_tests" / "s.yaml").write_text(
        "tests:\n  - name: bronze gets standard\n    customer: {value_tier: bronze}\n"
        "    expect:\n      service_level: standard\n")
    code, out, _ = _test(project, str(project / "policy_tests" / "s.yaml"))
    assert code == 1
    assert ("  line 5: expected service level standard, got basic (service policy "
            "service_basic)\n    why: policy service_basic (policies/service_basic.yaml:2, "
            "priority 0) won the service level with basic\n") in out
    assert ("\n    why: policy service_silver (policies/service_silver.yaml:2) not matched: "
            "value_tier is 'bronze', needed silver\n") in out
