"""`cvm run` says the refund rows it netted, as `cvm score` does (a trial's run summary left
out 428 returns worth EUR 46,430.89 that `cvm score` named)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project


def test_the_run_says_the_refunds_it_netted(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    said = {}
    for command in ("score", "run"):
        got = CliRunner().invoke(app, [command, "-p", str(project), "--out",
                                       str(tmp_path / command), "--no-history"][
            : None if command == "run" else -1])
        assert got.exit_code == 0, got.output
        said[command] = got.stdout
    line = "  netted 395 refund rows (EUR 25,904.81)\n"
    assert line in said["score"] and line in said["run"], said
