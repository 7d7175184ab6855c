"""How the run folder's files are written fast (issue 16, faster writing): what changes in the
work must not change what is read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from engine.output.writers import write_parquet


def test_parquet_decimals_not_dictionary_coded(tmp_path: Path) -> None:
    """A decimal column of the value table has up to one distinct value per customer: coding it
    as a dictionary is work thrown away when Arrow falls back (a third of customers.parquet's
    time at 1M), so only the other columns are; the values and types read back unchanged."""
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(3000)],
        "revenue": np.round(rng.lognormal(3, 2, 3000), 2),
        "p_alive": np.where(rng.random(3000) < 0.1, np.nan, np.round(rng.random(3000), 6)),
        "orders": rng.integers(0, 50, 3000),
        "tier": pd.Categorical(rng.choice(["gold", "silver"], 3000)),
    })
    path = tmp_path / "t.parquet"
    write_parquet(frame, path)
    columns = pq.ParquetFile(path).metadata.row_group(0)
    encodings = {columns.column(i).path_in_schema: columns.column(i).encodings
                 for i in range(columns.num_columns)}
    assert not any("DICTIONARY" in e for e in encodings["revenue"] + encodings["p_alive"])
    assert any("DICTIONARY" in e for e in encodings["customer_id"])
    assert any("DICTIONARY" in e for e in encodings["orders"])
    back = pq.read_table(path).to_pandas()
    pd.testing.assert_frame_equal(back, frame)
