"""`cvm score` into a run's folder replaces the run's customers.csv and customers.parquet (its
default output is the run's): a new user found the run's table without its lifecycle stages
and the manifest no longer matching, with nothing said. It now says so, and how to avoid it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.test_validate_data_files import _project


def test_score_says_it_replaced_the_runs_value_table(tmp_path: Path) -> None:
    project = _project(tmp_path)
    runner = CliRunner()
    done = runner.invoke(app, ["run", "-p", str(project), "--no-history", "-q"])
    assert done.exit_code == 0, done.output
    run_id = (project / "output" / "manifest.json").read_text().split('"run_id": "')[1][:16]
    done = runner.invoke(app, ["score", "-p", str(project)])
    assert done.exit_code == 0
    out = project / "output"  # outside the working directory: as given, whole
    assert done.stderr.splitlines()[-2:] == [
        f"warning: replaced run {run_id}'s customers.csv and customers.parquet in {out}: the "
        "run folder now holds this value table, without the run's lifecycle stages and "
        "segments, and its manifest no longer matches them (cvm serve refuses the folder until "
        "cvm run writes it again)",
        f"  hint: give cvm score a folder of its own: cvm score --out {out / 'score'}"]
    again = runner.invoke(app, ["score", "-p", str(project)])  # the files are score's now
    assert "warning" not in again.stderr
    quiet = runner.invoke(app, ["score", "-p", str(project), "--out", str(tmp_path / "s")])
    assert "warning" not in quiet.stderr
