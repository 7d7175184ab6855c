"""The Python API returns what the README promises."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine import api
from engine.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_score_returns_the_value_table_as_written(tmp_path: Path) -> None:
    result = api.score(ROOT)
    assert isinstance(result, api.ScoreResult)
    assert result.as_of == dt.date(2026, 1, 1)
    assert result.counts["customers"] == len(result.table) == 2000
    assert result.counts["rows_read"] == result.counts["rows_used"] + sum(
        v for k, v in result.counts.items() if k.startswith("rows_skipped"))
    assert runner.invoke(app, ["score", "-p", str(ROOT), "-o", str(tmp_path), "-q"]).exit_code \
        == 0
    written = pd.read_parquet(tmp_path / "customers.parquet")
    pd.testing.assert_frame_equal(result.table, written, check_dtype=False,
                                  check_categorical=False)
    assert not list(Path.cwd().glob(".cvm-tmp-*"))
