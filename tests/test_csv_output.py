"""Every CSV file the engine writes: one way to write an empty cell, and text that a spreadsheet
would run as a formula is written as text (README "CSV files")."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from engine.output.writers import write_csv

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_formula_cells_and_empty_cells(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "text": ["=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "-5", "+4.5",
                 "plain", None, "", "a=b"],
        "number": [-5.0, 1.5, None, 0.0, -0.25, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        "tier": pd.Categorical(["=x", "gold", "gold", None, "gold", "gold", "gold", "gold",
                                "gold", "gold", "-y", "gold"]),
    })
    path = tmp_path / "t.csv"
    write_csv(frame, path)
    assert path.read_bytes().decode() == (
        '"text","number","tier"\n'
        '"\'=1+2",-5,"\'=x"\n'
        '"\'+cmd|\' /C calc\'!A0",1.5,"gold"\n'
        '"\'-2+3",,"gold"\n'
        '"\'@SUM(A1)",0,\n'
        '"\'\tx",-0.25,"gold"\n'
        '"\'\rx",2,"gold"\n'
        '"-5",3,"gold"\n'
        '"+4.5",4,"gold"\n'
        '"plain",5,"gold"\n'
        ',6,"gold"\n'
        ",7,\"'-y\"\n"
        '"a=b",8,"gold"\n')
    assert frame["text"].iloc[0] == "=1+2"  # the caller's table is not changed


def test_scored_ids_are_protected_in_csv_not_in_parquet(make_project: Callable[..., Path]) -> None:
    tx = ("cust,day,amount,cost\n"
          '"=HYPERLINK(""http://x"",""y"")",2024-01-05,100.00,60.00\n'
          "@cmd,2024-02-01,200.00,150.00\n"
          "-7,2024-05-15,30.00,20.00\n")
    project = make_project(tx=tx)
    res = runner.invoke(app, ["score", "-p", str(project), "-o", str(project / "out"), "-q"])
    assert res.exit_code == 0, res.stderr
    ids = pd.read_csv(project / "out" / "customers.csv", dtype=str)["customer_id"].tolist()
    assert sorted(ids) == sorted(["-7", "'=HYPERLINK(\"http://x\",\"y\")", "'@cmd"])
    raw = pd.read_parquet(project / "out" / "customers.parquet")["customer_id"].tolist()
    assert sorted(raw) == sorted(['=HYPERLINK("http://x","y")', "@cmd", "-7"])


def test_decisions_write_empty_cells_one_way(tmp_path: Path) -> None:
    res = runner.invoke(app, ["decide", "-p", str(ROOT), "-o", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.stderr
    text = (tmp_path / "decisions.csv").read_text()
    assert '""' not in text
    assert re.search(r",,", text)  # rows without offer, channels or campaign exist


def test_no_other_csv_writer() -> None:
    """Every CSV file goes through engine.output.writers.write_csv (the example generator,
    examples/retail/synth.py, is not engine code), so one representation of empty cells and
    one formula protection hold everywhere. The history writes CSV only as the stream of
    PostgreSQL's COPY, and the DuckDB source only in memory, to hash the rows it read (the
    manifest's input hash): never as a file."""
    writers = re.compile(r"\.to_csv\(|csv\.writer\(|pacsv\.write_csv|DictWriter\(")
    found = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "engine").rglob("*.py"))
             if writers.search(p.read_text())]
    assert found == ["engine/data/duckdb_source.py", "engine/history/snapshot.py",
                     "engine/output/writers.py"]


def test_text_of_a_sliced_arrow_array() -> None:
    """Arrow hands over slices of larger arrays (offset > 0): the first characters are read at
    the slice's own offsets."""
    import pyarrow as pa

    from engine.output.writers import _as_text

    values = pa.array(["=no", "=a", "", None, "-5", "-x", "é=", "@"])[1:]
    assert _as_text(values).to_pylist() == ["'=a", None, None, "-5", "'-x", "é=", "'@"]


def test_a_coded_column_of_many_blocks_is_written_as_its_text(tmp_path: Path) -> None:
    """A categorical column is decoded a block of rows at a time (engine.output.writers): the
    file is the one its text gives, over several blocks and with defused and empty cells."""
    import numpy as np

    rows = 140_001  # a block of rows (131,072) and a part
    values = np.array(["gold", "=risky", "", "silver, plated"], dtype=object)[
        np.arange(rows) % 4]
    coded = pd.DataFrame({"i": np.arange(rows), "tier": pd.Categorical(values)})
    plain = pd.DataFrame({"i": np.arange(rows), "tier": values})
    write_csv(coded, tmp_path / "coded.csv")
    write_csv(plain, tmp_path / "plain.csv")
    text = (tmp_path / "coded.csv").read_bytes()
    assert text == (tmp_path / "plain.csv").read_bytes()
    assert text.splitlines()[1:5] == [b'0,"gold"', b'1,"\'=risky"', b"2,", b'3,"silver, plated"']
