"""`cvm validate --audience` counts what `cvm run` decides (issue 17 review, finding 1)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from engine.commands.common import project_config
from engine.run.build import load_setup
from engine.workflow.audience import audience
from tests.conftest import copy_example_project

UNCONTACTED = """id: reach_uncontacted
description: Nobody contacted lately.
priority: 999
when:
  contacts_last_30_days: {lt: 1}
then:
  action: nurture
  channels: [email]
"""


def test_audience_wins_are_the_action_lists_policy_counts(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    # a condition on a value-change attribute (with_changes): read by run, not by score
    (project / "policies" / "reach_uncontacted.yaml").write_text(UNCONTACTED)
    config = project_config(project, None)
    sizes = audience(load_setup(config))  # before the run records its contacts
    result = CliRunner().invoke(app, ["run", "-p", str(project), "--quiet"])
    assert result.exit_code == 0, result.output
    runs = sorted((project / "output").glob("runs/*/actions.csv")) or sorted(
        (project / "output").rglob("actions.csv"))
    actions = pd.read_csv(runs[-1], dtype=str)
    won = actions["policy_id"].value_counts().to_dict()
    rows = {r.id: r for r in sizes.rows if r.kind == "policy"}
    assert rows["reach_uncontacted"].wins == won["reach_uncontacted"] > 0
    for pid, row in rows.items():
        if row.wins is not None:
            assert row.wins == won.get(pid, 0), pid
