"""`cvm validate --audience`: per rule and policy, matches and wins on today's customers."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from engine.commands.common import project_config
from engine.policy.condition_text import first_failure
from engine.policy.decisions import decide
from engine.run.build import load_setup
from engine.run.pipeline import staged
from engine.value.score import score
from engine.workflow.audience import audience
from tests.conftest import copy_example_project


def test_counts_agree_with_the_run_and_the_reference_evaluator(tmp_path: Path) -> None:
    config = project_config(copy_example_project(tmp_path), None)
    setup = load_setup(config)
    sizes = audience(setup)
    table = staged(config, setup, score(config))  # the table `cvm run` decides on
    decisions = decide(table, setup.rulebook)
    records = table.to_dict("records")
    rows = {(r.kind, r.id): r for r in sizes.rows}
    assert sizes.customers == len(table)
    for rule in setup.rulebook.stage_rules:
        row = rows[("stage_rule", rule.id)]
        assert row.matches == sum(first_failure(rule.when, c) is None for c in records)
        assert row.wins == int((table["stage_rule"] == rule.id).sum())
    for pol in setup.rulebook.active_policies():
        row = rows[("policy", pol.id)]
        assert row.matches == sum(first_failure(pol.when, c) is None for c in records)
        if pol.action:
            assert row.wins == int((decisions["policy_id"] == pol.id).sum())
        if pol.service_level:
            assert row.service_wins == int((decisions["service_policy"] == pol.id).sum())
    assert sum(rows[("policy", p.id)].wins or 0 for p in setup.rulebook.policies) == \
        int(decisions["policy_id"].notna().sum())


def test_validate_audience_prints_the_table_and_writes_nothing(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    before = sorted(p.name for p in project.rglob("*"))
    result = CliRunner().invoke(app, ["validate", "--audience", "-p", str(project)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "valid: cvm.yaml, rules/, policies/ and templates/ have no problems"
    assert lines[1].startswith("Audience sizes: ")
    assert "Policies, highest priority first" in lines
    assert any(line.split()[:1] == ["welcome_new"] for line in lines)
    assert sorted(p.name for p in project.rglob("*")) == before


def test_the_audience_says_the_notes_the_run_says(tmp_path: Path) -> None:
    """`cvm validate --audience` left out two notes `cvm run` says of the data: the margin
    assumed (CDNOW has no cost column) and a folder's files not read."""
    from tests.conftest import ROOT

    cdnow = ROOT / "examples" / "cdnow"
    said = {}
    for command in (["run", "--no-history", "-o", str(tmp_path / "out")],
                    ["validate", "--audience"]):
        got = CliRunner().invoke(app, [*command, "-p", str(cdnow)])
        assert got.exit_code == 0, got.output
        said[command[0]] = got.stdout
    note = "note: no cost or margin column: margin assumed at margin_rate 0.3 of the amount"
    assert f"  {note}\n" in said["run"] and f"\n{note}\n" in said["validate"], said

    (tmp_path / "folder").mkdir()
    project = copy_example_project(tmp_path / "folder")
    (project / "tx").mkdir()
    (project / "tx" / "a.csv").write_text((ROOT / "examples/retail/transactions.csv").read_text())
    (project / "tx" / "notes.md").write_text("exported by hand\n")
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(
        f"{ROOT}/examples/retail/transactions.csv", "tx"))
    got = CliRunner().invoke(app, ["validate", "--audience", "-p", str(project)])
    assert got.exit_code == 0, got.output
    assert "\nnote: 1 file skipped (suffix not " in got.stdout and ": notes.md\n" in got.stdout
