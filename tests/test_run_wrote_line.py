"""`cvm run`'s last lines name every file it wrote in the run folder (customers.parquet too,
which `cvm serve` and `cvm events` read), and only those."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project


def test_the_wrote_line_names_each_file_of_the_run_folder(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", "--no-history", "-p", str(project),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    wrote = next(line for line in result.stdout.splitlines() if line.startswith("wrote "))
    named = {name.strip() for name in wrote.split(": ", 1)[1].split(",")}
    on_disk = {p.name + ("/" if p.is_dir() else "") for p in out.iterdir()
               if not p.name.startswith(".")}
    assert named == on_disk
