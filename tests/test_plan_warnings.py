"""`cvm plan` says the warnings a proposed version adds, as `cvm validate` would say them,
naming the proposal's real files (the trial: a plan reviewed a policy change without the
warning validate gave it); a warning both versions have is not the proposal's doing, and is
not repeated."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.history_runs import retail_copy

runner = CliRunner()
SAID = "campaigns.winback: campaign 'winback' is declared but no policy or trigger names it"


def _renamed(folder: Path, project: Path) -> int:
    """``folder``/policies/campaigns.yaml: the project's, win_back declared as winback; the
    line of that key."""
    (folder / "policies").mkdir(parents=True)
    text = (project / "policies" / "campaigns.yaml").read_text()
    (folder / "policies" / "campaigns.yaml").write_text(
        text.replace("  win_back:\n", "  winback:\n", 1))
    return text[:text.index("  win_back:\n")].count("\n") + 1


def test_a_warning_the_proposal_adds_is_said(tmp_path: Path) -> None:
    project = retail_copy(tmp_path, ("triggers",))
    proposed = tmp_path / "proposal"
    line = _renamed(proposed, project)
    result = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(proposed),
                                 "--overlay"])
    assert result.exit_code == 0, result.stderr
    assert f"warning: {proposed}/policies/campaigns.yaml:{line}:3: {SAID}" in \
        result.stderr.splitlines()
    quiet = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(proposed),
                                "--overlay", "-q"])
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_a_warning_of_both_versions_is_not_repeated(tmp_path: Path) -> None:
    project = retail_copy(tmp_path, ("triggers",))
    baseline = tmp_path / "baseline"
    shutil.copytree(project, baseline)
    shutil.rmtree(baseline / "policies")
    _renamed(baseline, project)
    for name in (project / "policies").iterdir():  # the other policy files as they are
        if name.name != "campaigns.yaml":
            shutil.copy(name, baseline / "policies" / name.name)
    proposed = tmp_path / "proposal"
    proposed.mkdir()
    (proposed / "rules").mkdir()
    for name in (project / "rules").iterdir():
        shutil.copy(name, proposed / "rules" / name.name)
    result = runner.invoke(app, ["plan", "-p", str(project), "--baseline", str(baseline),
                                 "--proposed", str(proposed), "--overlay"])
    assert result.exit_code == 0, result.stderr
    assert SAID not in result.stderr


def test_a_warning_is_the_same_when_a_rule_above_it_is_added(tmp_path: Path) -> None:
    """A lifecycle rule's warning is keyed by its place (`rules[2]`): a rule added above it
    moves it, and it is still the baseline's warning (the review's case)."""
    project = retail_copy(tmp_path)
    life = project / "rules" / "lifecycle.yaml"
    text = life.read_text().replace(
        "  - id: one_time_lapsed\n", "  - id: shadowed_late\n    stage: growth\n"
        "    description: x\n    when:\n      tenure_days: {lte: 30}\n\n"
        "  - id: one_time_lapsed\n")
    life.write_text(text)
    assert "shadowed_late" in runner.invoke(app, ["validate", "-p", str(project)]).stderr
    proposed = tmp_path / "proposal"
    (proposed / "rules").mkdir(parents=True)
    (proposed / "rules" / "lifecycle.yaml").write_text(text.replace(
        "  - id: shadowed_late\n", "  - id: old_timer\n    stage: maturity\n"
        "    description: y\n    when:\n      tenure_days: {gt: 5000}\n\n"
        "  - id: shadowed_late\n"))
    result = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(proposed),
                                 "--overlay"])
    assert result.exit_code == 0, result.stderr
    assert "shadowed_late" not in result.stderr
