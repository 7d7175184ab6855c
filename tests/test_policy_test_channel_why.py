"""A failing `channel:` expectation says what kept the customer off the expected channel (a new
user's test expected direct_mail and was told only 'got email' and the policy's description;
the customer had no consent_mail)."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project


def test_the_expected_channel_s_obstacle_is_said(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    shutil.copytree(ROOT / "policy_tests", project / "policy_tests")
    tests = project / "policy_tests" / "starter.yaml"
    text = tests.read_text()
    old = "      action: retain\n      channel: email\n"
    assert old in text
    tests.write_text(text.replace(old, "      action: retain\n      channel: call_centre\n"))
    result = CliRunner().invoke(app, ["test", "--project", str(project)])
    assert result.exit_code == 1, result.output
    assert "expected channel call_centre, got email" in result.output, result.output
    assert "    why not call_centre: no consent (consent_phone is not true)\n" in result.output
