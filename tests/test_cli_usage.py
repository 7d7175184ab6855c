"""Command-line usage errors exit 2 (README "Exit codes") with one clear line, no traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.errors import EXIT_USAGE, UsageError

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

PROPOSED = str(ROOT / "policies")  # any existing folder: usage is checked before it is read

CASES = [
    (["run", "--format", "xml"],
     "error: --format: found 'xml', expected one of csv, jsonl, parquet"),
    (["plan"], "error: --proposed: give exactly one of --proposed DIR or --proposed-ref REV"),
    (["plan", "--proposed", PROPOSED, "--proposed-ref", "HEAD"],
     "error: --proposed: give exactly one of --proposed DIR or --proposed-ref REV"),
    (["plan", "--proposed", PROPOSED, "--baseline", PROPOSED, "--baseline-ref", "HEAD"],
     "error: --baseline: give at most one of --baseline and --baseline-ref"),
    (["plan", "--proposed", PROPOSED, "--report", "plan.txt"],
     "error: --report: found 'plan.txt', expected a .md or .html file"),
    (["plan", "--proposed", PROPOSED, "--report", "same.md", "--changes", "same.md"],
     "error: --changes: names the same file as --report\n"
     "  hint: give the changed customers (CSV) a file of their own"),
    (["fit", "--calibration-end", "1997-31-01"],
     "error: --calibration-end: found '1997-31-01', expected a date such as 2024-06-30\n"
     "  hint: there is no month 31: write the date as YYYY-MM-DD (year, month, day)"),
    # Python 3.11's fromisoformat took these, 3.10's refused them: refused on every Python
    *((["fit", "--calibration-end", given], f"error: --calibration-end: found '{given}', "
       "expected a date such as 2024-06-30" + hint) for given, hint in (
        ("19970601", "\n  hint: write the date as YYYY-MM-DD (year, month, day): 1997-06-01"),
        ("1997-W22-7", "\n  hint: write the date as YYYY-MM-DD (year, month, day)"))),
]


@pytest.mark.parametrize(("args", "expected"), CASES, ids=[" ".join(c[0][:2]) for c in CASES])
def test_usage_errors_exit_2(args: list[str], expected: str, tmp_path: Path) -> None:
    res = runner.invoke(app, [*args, "--project", str(ROOT)])
    assert res.exit_code == EXIT_USAGE, res.stdout + res.stderr
    assert res.stderr == f"{expected}\n"
    assert not (tmp_path / "plan.txt").exists()


def test_calibration_end_outside_the_data(make_project: Callable[..., Path]) -> None:
    project = make_project()
    res = runner.invoke(app, ["fit", "--project", str(project), "--calibration-end",
                              "1990-01-01", "--out", str(project / "out")])
    assert res.exit_code == EXIT_USAGE, res.stdout + res.stderr
    assert res.stderr == ("error: --calibration-end: found 1990-01-01, expected a day after "
                          "the first purchase (2024-01-05) and before the last day of the "
                          "data (2024-06-20)\n"  # the export's last row; as_of 2024-07-01
                          "  hint: the calibration period must end after the first purchase "
                          "and before the last day of the data\n")
    assert not (project / "out").exists()


@pytest.mark.parametrize("args", [["run", "--bogus"], ["explain"], ["report", "--active-window",
                                                                     "5"], ["frobnicate"]])
def test_click_usage_errors_exit_2(args: list[str]) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == EXIT_USAGE
    assert "Traceback" not in res.stdout + res.stderr


def test_api_rejects_an_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        api.run(ROOT, out=tmp_path / "o", fmt="xml")
    assert info.value.format() == "fmt: found 'xml', expected one of csv, jsonl, parquet"
    assert not (tmp_path / "o").exists()
