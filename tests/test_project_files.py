"""How a project's files name things: campaign ids that differ only by case, and files in
rules/ and policies/ the engine does not read."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

runner = CliRunner()


def test_campaign_ids_differing_only_by_case_are_refused(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    text = (project / "policies" / "win_back.yaml").read_text()
    (project / "policies" / "zz_win_back_loud.yaml").write_text(
        text.replace("id: win_back", "id: win_back_loud\ncampaign: Win_Back"))
    # validated (and the two briefs overwrote each other on macOS) before the fix
    res = runner.invoke(app, ["validate", "-p", str(project)])
    assert res.exit_code == 1, res.stdout + res.stderr
    assert (
        "error: policies/zz_win_back_loud.yaml:3:11: campaign: campaign 'Win_Back' of policy "
        "'win_back_loud' differs only by case from campaign 'win_back' of policy 'win_back' "
        "(policies/win_back.yaml:2): their briefs would be one file on Windows and macOS\n"
        "  hint: campaign ids name the brief files: make them differ by more than case "
        "(lowercase ids avoid this)\n") in res.stdout + res.stderr
    res = runner.invoke(app, ["run", "-p", str(project), "-o", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 1
    assert not (tmp_path / "out").exists()


def test_files_not_read_in_policies_and_rules_are_warned_about(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    (project / "policies" / "win_back.yaml").rename(project / "policies" / "win_back.yml")
    (project / "policies" / "archive").mkdir()
    (project / "rules" / "old").mkdir()
    # said nothing before the fix
    res = runner.invoke(app, ["validate", "-p", str(project)])
    out = res.stdout + res.stderr
    assert (
        "warning: policies/archive/: the folder policies/archive/ is not read: only the .yaml "
        "files directly in policies/ are\n"
        "  hint: move its .yaml files up into policies/ if they should count\n") in out
    assert (
        "warning: policies/win_back.yml: the file policies/win_back.yml is not read: only "
        "files ending in .yaml are\n"
        "  hint: rename it to win_back.yaml if it should count\n") in out
    assert "warning: rules/old/: the folder rules/old/ is not read" in out
