"""A run notes when the value model differs from the one of the run its folder held (a new
user's monthly runs: models.use auto took Pareto/NBD in November and MBG/NBD in December, win_back
went from 99 to 330 customers, and no line said the model had changed)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

runner = CliRunner()


def _run(project: Path, out: Path) -> str:
    result = runner.invoke(app, ["run", "-p", str(project), "--no-history", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_a_run_says_the_value_model_changed_since_the_folder_s_run(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    out = tmp_path / "out"
    first = _run(project, out)
    assert "the value model changed" not in first
    was = json.loads((out / "manifest.json").read_text())
    assert "mbgnbd" in was["value_model"]["params"]
    config = project / "cvm.yaml"
    config.write_text(config.read_text() + "models:\n  use: bgnbd\n")
    second = _run(project, out)
    assert (f"  note: the value model changed since the run this folder held (run "
            f"{was['run_id']} as of {was['as_of']}: MBG/NBD; now BG/NBD): potential values, "
            "tiers and decisions move with it; set models.use in cvm.yaml to keep one "
            "model\n") in second
    assert "the value model changed" not in _run(project, out)  # the same model again


def test_a_foreign_manifest_nested_too_deep_is_not_an_internal_error(tmp_path: Path) -> None:
    """A reviewer: a manifest.json of 200,000 nested lists in the output folder crashed the
    model note's read (RecursionError) before the folder's own check refused the folder."""
    project = copy_example_project(tmp_path)
    out = tmp_path / "foreign"
    out.mkdir()
    (out / "manifest.json").write_text("[" * 200_000)
    result = runner.invoke(app, ["run", "-p", str(project), "--no-history", "--out", str(out)])
    assert result.exit_code != 4 and "internal error" not in result.output, result.output
