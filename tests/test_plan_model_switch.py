"""cvm plan names a change of the value model (a new user's proposal changed horizon_periods
only; models.use auto moved from MBG/NBD to Pareto/NBD, 595 customers changed, and the plan's
"What changed" listed the horizon alone)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project
from tests.test_plan import full_copy

runner = CliRunner()


def test_a_plan_names_the_value_model_each_side_used(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    proposed = full_copy(project, tmp_path / "proposed")
    config = proposed / "cvm.yaml"
    config.write_text(config.read_text() + "models:\n  use: bgnbd\n")
    result = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(proposed),
                                 "--no-history", "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    rows = json.loads(result.stdout)["definitions"]
    model = [r["change"] for r in rows if r["what"] == "value model"]
    assert len(model) == 1, rows
    assert model[0].startswith("MBG/NBD -> BG/NBD (models.use bgnbd)"), model
