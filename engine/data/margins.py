"""The gross margin of each transaction row: the amount less the cost column, or the margin
column, as ``data.columns`` maps them; where neither is mapped, or a row's is empty, the
amount x ``margin_rate`` (said in a note, one process's or the partitions' added up)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from engine.data.tabular import Source
from engine.data.typed_columns import as_number
from engine.project.config import Config
from engine.words import counted


def margin_of(src: Source, table: pa.Table, config: Config, amount: np.ndarray
              ) -> tuple[np.ndarray, int, str]:
    """Per row, the margin; the rows whose margin is assumed, and the note saying so."""
    cols, rate = config.data.columns, config.margin_rate
    if "cost" in cols:
        margin = amount - as_number(src, table, "cost", cols["cost"], required=False)
    elif "margin" in cols:
        margin = as_number(src, table, "margin", cols["margin"], required=False)
    else:
        return amount * rate, len(amount), (f"no cost or margin column: margin assumed at "
                                            f"margin_rate {rate:g} of the amount")
    missing = np.isnan(margin)
    assumed = int(missing.sum())
    out: np.ndarray = np.asarray(margin, dtype=np.float64)
    if not out.flags.writeable:  # Arrow's arrays are read-only
        out = out.copy()
    if assumed:
        out[missing] = amount[missing] * rate
    return out, assumed, assumed_margin_note(assumed, rate) if assumed else ""


def assumed_margin_note(rows: int, rate: float) -> str:
    """The note of the rows whose margin is assumed (one process's, or the partitions')."""
    return (f"{counted(rows, 'row')} without cost/margin: margin assumed at margin_rate "
            f"{rate:g} of the amount")
