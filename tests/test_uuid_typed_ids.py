"""Ids stored as Parquet's UUID type (16 bytes: DuckDB and other databases write their UUID
columns so) are read as the canonical text of the UUIDs, as the same ids written as text are:
the review found `internal error: ArrowInvalid: Invalid UTF8 payload` on such a file (and, for
bytes that happen to be valid UTF-8, a control character refused), in score and run."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import BASE_CONFIG

runner = CliRunner()


def _uuid_type() -> pa.DataType:
    return pa.uuid() if hasattr(pa, "uuid") else pa.binary(16)  # pyarrow 18 and later


@pytest.mark.parametrize("kind", ["uuid", "binary16"])
def test_uuid_typed_ids_read_as_the_same_ids_written_as_text(tmp_path: Path, make_project,
                                                               kind: str) -> None:
    rng = random.Random(7)
    people = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(20)]
    people[0] = uuid.UUID("00000000-0000-0000-0000-00000000000a")  # bytes of control chars
    rows = 200
    who = [people[i % 20] for i in range(rows)]
    base = {"day": [dt.date(2024, 1, 1) + dt.timedelta(days=(i * 7) % 180) for i in range(rows)],
            "amount": [10.0 + i % 13 for i in range(rows)],
            "cost": [4.0 + i % 5 for i in range(rows)]}
    typed = _uuid_type() if kind == "uuid" else pa.binary(16)
    config = BASE_CONFIG.replace("tx.csv", "tx.parquet")
    outputs = []
    for name, ids in (("text", pa.array([str(u) for u in who])),
                      ("typed", pa.array([u.bytes for u in who], typed))):
        folder = tmp_path / name
        folder.mkdir()
        project = make_project(config, tx=None)
        pq.write_table(pa.table({"cust": ids, **base}), project / "tx.parquet")
        result = runner.invoke(app, ["score", "--project", str(project), "-q", "--out",
                                     str(folder / "out")])
        assert result.exit_code == 0, (name, result.output)
        outputs.append((folder / "out" / "customers.csv").read_bytes())
    assert outputs[1] == outputs[0]
    assert b"00000000-0000-0000-0000-00000000000a" in outputs[0]


def test_bytes_that_are_not_text_are_said_at_their_row(tmp_path: Path, make_project) -> None:
    """A Parquet column of bytes (BYTE_ARRAY without the text annotation, as some writers
    store text) is read as text where it is UTF-8; a value that is not is said at its row, not
    an internal error."""
    project = make_project(BASE_CONFIG.replace("tx.csv", "tx.parquet"), tx=None)
    pq.write_table(pa.table({
        "cust": pa.array([b"a", b"b", b"\xff\xfeab"], pa.binary()),
        "day": [dt.date(2024, 1, 5), dt.date(2024, 3, 10), dt.date(2024, 5, 1)],
        "amount": [100.0, 50.0, 80.0], "cost": [60.0, 30.0, 40.0]}), project / "tx.parquet")
    result = runner.invoke(app, ["score", "--project", str(project), "-q", "--out",
                                 str(tmp_path / "out")])
    assert (result.exit_code, result.stderr) == (1, (
        "error: tx.parquet: row 3, column 'cust': found bytes that are not UTF-8 text "
        "(b'\\xff\\xfeab'), expected text\n"
        "  hint: the column holds binary values: map a column of text (a column of the UUID "
        "type is read as the UUIDs' text)\n"))
