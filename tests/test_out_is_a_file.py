"""``--out`` naming a file is refused by the engine as ``output:`` naming one is (exit 3, the
error and a hint), not by the option parser as a usage error (exit 2, "Invalid value for
'--out' / '-o': dir ... is a file"): a campaign-operations trial's find. The file is left as
it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import InputError
from engine.serve.rundata import read_run
from tests.conftest import copy_example_project

runner = CliRunner()


@pytest.mark.parametrize("command", ["score", "decide", "run", "report", "fit"])
def test_out_naming_a_file_is_the_engines_error(
        command: str, tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    mine = tmp_path / "notes.txt"
    mine.write_text("mine\n")
    res = runner.invoke(app, [command, "-p", str(project), "--out", str(mine)])
    assert res.exit_code == 3, res.output
    assert res.stderr == (f"error: --out: cannot write here: {mine} is a file, expected a "
                          "folder\n  hint: choose another output folder\n")
    assert mine.read_text() == "mine\n"


def test_serve_run_naming_a_file_says_so(tmp_path: Path) -> None:
    mine = tmp_path / "notes.txt"
    mine.write_text("mine\n")
    with pytest.raises(InputError) as caught:
        read_run(mine)
    assert caught.value.problems[0].message == "no run here: is a file, expected a run folder"


def test_events_out_naming_a_file_says_so(tmp_path: Path) -> None:
    """A review: `cvm events FILE --out NOTES` read NOTES/customers.parquet and said the run
    has no value table."""
    project = copy_example_project(tmp_path)
    mine = tmp_path / "notes.txt"
    mine.write_text("mine\n")
    events = tmp_path / "ev.csv"
    events.write_text("customer_id,type,at\nC000001,complaint,2026-01-01T10:00:00\n")
    res = runner.invoke(app, ["events", str(events), "-p", str(project), "--out", str(mine)])
    assert res.exit_code == 1
    assert res.stderr == (f"error: {mine}: --out: is a file, expected the folder of a run\n"
                          "  hint: point it at the run's output folder\n")
