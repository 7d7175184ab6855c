"""`cvm run` says the refund rows it netted, as `cvm score` does (a trial's run summary left
out 428 returns worth EUR 46,430.89 that `cvm score` named)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project


def _said(project: Path, tmp_path: Path) -> dict[str, str]:
    """What `cvm score` and `cvm run` print of the project."""
    said = {}
    for command in ("score", "run"):
        got = CliRunner().invoke(app, [command, "-p", str(project), "--out",
                                       str(tmp_path / command), "--no-history"][
            : None if command == "run" else -1])
        assert got.exit_code == 0, got.output
        said[command] = got.stdout
    return said


def test_the_run_says_the_refunds_it_netted(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    said = _said(project, tmp_path)
    line = "  netted 395 refund rows (EUR 25,904.81)\n"
    assert line in said["score"] and line in said["run"], said


def test_the_run_says_rows_on_the_as_of_date_are_skipped_with_those_after(
        tmp_path: Path) -> None:
    """The run summary said "skipped 44 after the as-of date" for the rows dated on and after
    it (44 = 15 on 2025-12-30 + 29 on 2025-12-31), where `cvm score` says "on or after"; and
    "36 duplicates" where score says "exact duplicate rows (first kept)"."""
    import pandas as pd

    project = copy_example_project(tmp_path)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace("as_of: null", "as_of: 2025-12-30"))
    dates = pd.read_csv(ROOT / "examples/retail/transactions.csv",
                        usecols=["OrderDate"])["OrderDate"]
    assert (dates >= "2025-12-30").sum() == 44 and (dates == "2025-12-30").sum() == 15
    said = _said(project, tmp_path)
    assert "  skipped 44 rows dated on or after the as-of date\n" in said["score"]
    assert "  skipped 36 exact duplicate rows (first kept)\n" in said["score"]
    assert ("; skipped 44 on or after the as-of date, 42 zero amounts, 36 exact duplicates "
            "(first kept)\n") in said["run"], said["run"]


def test_no_duplicate_skipped_is_said_without_first_kept(tmp_path: Path) -> None:
    """The re-trial: with `duplicates: keep` the 36 duplicates are all used, and the run said
    "0 exact duplicates (first kept)"."""
    project = copy_example_project(tmp_path)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace("duplicates: drop", "duplicates: keep"))
    got = CliRunner().invoke(app, ["run", "-p", str(project), "--out", str(tmp_path / "o"),
                                   "--no-history"])
    assert got.exit_code == 0, got.output
    assert ", 42 zero amounts, 0 exact duplicates\n" in got.stdout, got.stdout
