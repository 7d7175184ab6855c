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
