"""Large CSV files are formatted in blocks into output buffers kept from block to block
(engine/output/writers.py, issue 16: faster writing): a block that outgrows them, dictionary
texts and floats converted a block at a time, still give the bytes of one pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.output import writers
from engine.output.writers import write_csv


def _frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    texts = np.array(['plain', 'with "quotes"', 'a,b', '', '=1+2', None], object)
    return pd.DataFrame({
        "amount": rng.choice([0.0, -0.0, 2.5, -1e-7, 1e21, np.nan, 0.1 + 0.2], rows),
        "coded": pd.Categorical(texts[rng.integers(0, len(texts), rows)]),
        "note": texts[rng.integers(0, len(texts), rows)],
    })


def test_a_block_larger_than_the_kept_buffers(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The buffers are sized from the first block; a later block of long texts does not fit
    them and is made on its own: the file is the file made in one pass."""
    frame = _frame(640, 3)
    frame.loc[512:, "note"] = "x" * 24_000  # blocks 9 and 10: 1.5 MB each, the first 3 KB
    one, blocks = tmp_path / "one.csv", tmp_path / "blocks.csv"
    write_csv(frame, one)
    monkeypatch.setattr(writers, "_BLOCK_ROWS", 64)
    write_csv(frame, blocks)
    assert blocks.read_bytes() == one.read_bytes()
    assert blocks.read_bytes().count(b"\n") == 641


def test_blocks_of_a_sliced_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dictionary texts (formula-protected in their dictionary) and floats (-0.0 written as 0)
    converted block by block: the same cells as in one pass, and as pandas reads them."""
    frame = _frame(1000, 5)
    one, blocks = tmp_path / "one.csv", tmp_path / "blocks.csv"
    write_csv(frame, one)
    monkeypatch.setattr(writers, "_BLOCK_ROWS", 100)
    write_csv(frame, blocks)
    text = blocks.read_bytes()
    assert text == one.read_bytes()
    assert b"-0," not in text and b"'=1+2" in text
    back = pd.read_csv(blocks, keep_default_na=False)
    assert len(back) == 1000
