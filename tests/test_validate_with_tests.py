"""`cvm validate` on a project that has policy tests and a broken rulebook: the rulebook's
problem is reported at its line (exit 1), not an internal error because the test files could
not be checked against a rulebook that failed to load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project

BROKEN = {
    "policy priority": ("policies/retain_high_value.yaml", "priority: 90", "priority: ninety"),
    "lifecycle stage": ("rules/lifecycle.yaml", "stage: exit", "stage: exitt"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_rulebook_error_with_policy_tests_is_reported_not_a_crash(tmp_path: Path,
                                                                   case: str) -> None:
    project = copy_example_project(tmp_path)
    shutil.copytree(ROOT / "policy_tests", project / "policy_tests")
    name, old, new = BROKEN[case]
    path = project / name
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    result = CliRunner().invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    assert f"{name}:" in result.output
    as_json = CliRunner().invoke(app, ["validate", "--json", "--project", str(project)])
    assert as_json.exit_code == 1, as_json.output
    document = json.loads(as_json.stdout)
    assert document["valid"] is False
    assert any(p["file"].endswith(name) for p in document["problems"])
