"""The run folder's writers (issue 16, faster writing): a file's SHA-256 taken while it is
written is that of the file, and a CSV file made in blocks on two cores is the file made in one
pass."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.output import writers
from engine.output.writers import write_csv, write_parquet


def test_blocks_written_in_order_and_hashed(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A table of several blocks, made on two cores: the same file as one block, and the
    SHA-256 returned is that of the file written."""
    rng = np.random.default_rng(9)
    texts = np.array(['plain', 'with "quotes"', 'a,b', 'line\nend', '', '=1+2', None], object)
    frame = pd.DataFrame({
        "amount": rng.choice([0.0, -0.0, 1.5, 1e-7, 1e21, np.nan, 0.1 + 0.2], 700),
        "count": rng.integers(-10**18, 10**18, 700),
        "day": pd.to_datetime(rng.integers(0, 30000, 700), unit="D"),
        "text": texts[rng.integers(0, len(texts), 700)],
        "coded": pd.Categorical(texts[rng.integers(0, len(texts), 700)]),
    })
    one, blocks = tmp_path / "one.csv", tmp_path / "blocks.csv"
    assert write_csv(frame, one) == ""
    monkeypatch.setattr(writers, "_BLOCK_ROWS", 64)
    digest = write_csv(frame, blocks, hashed=True)
    assert blocks.read_bytes() == one.read_bytes()
    assert digest == hashlib.sha256(blocks.read_bytes()).hexdigest()
    parquet = tmp_path / "t.parquet"
    digest = write_parquet(frame, parquet, hashed=True)
    assert digest == hashlib.sha256(parquet.read_bytes()).hexdigest()
