"""A failing `action:` expectation explains the policy with that action that matched and lost,
not the first policy with that action (which may not even apply to the customer)."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project


def test_the_why_names_the_matching_policy_that_lost(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    shutil.copytree(ROOT / "policy_tests", project / "policy_tests")
    policy = project / "policies" / "retain_high_value.yaml"
    policy.write_text(policy.read_text().replace("priority: 90", "priority: 60", 1))
    result = CliRunner().invoke(app, ["test", "--project", str(project)])
    assert result.exit_code == 1, result.output
    failure = result.output.split("expected action retain, got win_back", 1)[1]
    why = failure.splitlines()[1].strip()
    assert why.startswith("why: policy retain_high_value matched, but win_back (priority 70"), \
        result.output
