"""A policy or campaign file's mistakes said at their line with the fix (a new user's trial):
an id too long to name a file (a policy's 260-character campaign passed validate, and run
stopped with `File name too long`, blaming cvm.yaml's output: and its permissions), and a
misspelt value_at_stake (examples only, no closest name)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project


def test_a_campaign_id_too_long_for_a_file_name_is_said_at_its_line(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    policy = project / "policies" / "win_back.yaml"
    policy.write_text(policy.read_text() + "campaign: " + "w" * 260 + "\n")
    line = policy.read_text().count("\n")
    got = CliRunner().invoke(app, ["validate", "-p", str(project)])
    assert got.exit_code == 1
    assert got.stderr.startswith(
        f"error: policies/win_back.yaml:{line}:11: campaign: found an id of 260 characters, "
        "expected at most 100 (a campaign's id names its briefs' files)\n"), got.stderr


def test_a_misspelt_value_at_stake_gets_the_closest_attribute(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    campaigns = project / "policies" / "campaigns.yaml"
    text = campaigns.read_text()
    at = text.index("  win_back:\n")
    campaigns.write_text(text[:at] + text[at:].replace(
        "value_at_stake: potential_value", "value_at_stake: potential_valeu", 1))
    got = CliRunner().invoke(app, ["validate", "-p", str(project)])
    assert got.exit_code == 1
    assert "value_at_stake 'potential_valeu' is not a numeric customer attribute\n" \
        "  hint: did you mean 'potential_value'?\n" in got.stderr, got.stderr
