"""The note on ids read without their spaces names the row in its own file of a Parquet
folder (a new user: "first 'G7 ' at data/part-1.parquet, row 23" of a file of 12 rows: the
row counted over the folder), as an error names it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import BASE_CONFIG


def test_the_note_names_the_row_in_its_own_file(make_project: object, tmp_path: Path) -> None:
    project = make_project(config=BASE_CONFIG.replace("tx.csv", "set"), tx=None)  # type: ignore
    (project / "set").mkdir()
    days = [f"2024-0{m}-1{d}" for m in range(1, 7) for d in range(2)]  # 12 rows a file
    for i, ids in enumerate((["a", "b"] * 6, ["c"] * 10 + ["d ", "d"])):
        pq.write_table(pa.table({"cust": ids, "day": days, "amount": [10.0] * 12,
                                 "cost": [4.0] * 12}), project / "set" / f"part-{i}.parquet")
    result = CliRunner().invoke(app, ["score", "-p", str(project), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "  note: 1 row with a 'cust' with surrounding spaces (first 'd ' at " \
        "set/part-1.parquet, row 11): read without them, as 'd'\n" in result.stdout


def test_a_tables_row_keeps_its_whole_key() -> None:
    """The reviewer: a database row's key holds commas ("row 3 (n = 3, order id O3)"), and the
    note kept what came before the first one: "row 3 (n = 3"."""
    from engine.data.spaced_ids import spaced_ids
    from engine.data.tabular import Source
    from engine.errors import Problem

    class Table(Source):
        def row_problem(self, row: int, column: str, message: str,
                        hint: str | None = None) -> Problem:
            return Problem(message, file=self.display,
                           key=f"row {row + 1} (n = {row + 1}, order id O{row + 1}), "
                           f"column {column!r}")

    src = Table(Path(), "duckdb:///shop.duckdb (table tx)", "data.transactions", ",", "utf-8",
                "cvm.yaml:3:17")
    raw = pa.chunked_array([["a", "b", "a "]])
    spaced = spaced_ids(src, raw, pa.chunked_array([["a", "b", "a"]]), "cust")
    assert spaced is not None
    assert spaced.where == "duckdb:///shop.duckdb (table tx), row 3 (n = 3, order id O3)"
