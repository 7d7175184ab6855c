"""A header line among the rows (exports put together with their header lines) is said as
such (a new user's trial: `found 'OrderDate', expected a date` came with a hint about
date_format, and validate said it once per column with the same wrong hint)."""

from __future__ import annotations

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import BASE_TX

HINT = ("  hint: the row repeats the header line (files put together with their header "
        "lines?): delete it\n")


def test_a_repeated_header_line_is_said(make_project) -> None:  # type: ignore[no-untyped-def]
    lines = BASE_TX.splitlines(keepends=True)
    project = make_project(tx="".join(lines[:4]) + "".join(lines))
    got = CliRunner().invoke(app, ["score", "-p", str(project), "-q"])
    assert got.exit_code == 1
    assert got.stderr.startswith("error: tx.csv:5: row 4, column 'day': found 'day', expected "
                                 ), got.stderr
    assert got.stderr.endswith(HINT), got.stderr
