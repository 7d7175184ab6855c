"""``cvm responses import FILE``: responses to campaigns, checked like the transactions, added
to the history once.

The file (CSV, comma-separated UTF-8 with a header, or Parquet) has the columns customer_id,
campaign, date and outcome, and optionally revenue. A response is identified by customer,
campaign, date and outcome: a row already in the history is counted as already present, a row
repeating an earlier row of the same file is skipped (and counted). Any bad value stops the
import with the file, row, column, what was found and what was expected; nothing is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import func, insert, select, text, update

from engine.data.tabular import Source, read_columns
from engine.data.typed_columns import as_date_seconds, as_number, as_text, check_ids
from engine.errors import InputError, Problem, did_you_mean
from engine.history.record import bulk_insert
from engine.history.store import Store
from engine.history.tables import OUTCOMES, imports, responses

REQUIRED = ("customer_id", "campaign", "date", "outcome")
OPTIONAL = ("revenue",)
KEY = ["customer_id", "campaign", "response_date", "outcome"]
STAGE_COLUMNS = ("customer_id", "campaign", "response_date", "outcome", "revenue",
                 "import_id")


@dataclass(frozen=True)
class ImportResult:
    file: str
    rows_read: int
    imported: int
    already_present: int
    skipped: dict[str, int]  # reason -> rows


def read_responses(path: Path, display: str) -> pd.DataFrame:
    """The checked responses: customer_id, campaign, response_date (ISO text), outcome,
    revenue (NaN when not given); raise InputError at the first bad value."""
    src = Source(path, display, "FILE", setting_at="the command line")
    header = _columns(src)
    unknown = [h for h in header if h not in REQUIRED + OPTIONAL]
    if unknown:
        close = did_you_mean(unknown[0], REQUIRED + OPTIONAL)
        raise InputError(Problem(
            f"unknown column {unknown[0]!r}", file=display, line=None if src.is_parquet
            else 1, key="header", hint=close or "the columns are customer_id, campaign, date, "
            "outcome and (optional) revenue"))
    wanted = {name: name for name in REQUIRED + OPTIONAL if name in header}
    missing = [name for name in REQUIRED if name not in wanted]
    if missing:
        raise InputError(Problem(
            f"missing column {missing[0]!r}", file=display, line=None if src.is_parquet
            else 1, key="header", hint="the columns are customer_id, campaign, date, outcome "
            "and (optional) revenue"))
    table = read_columns(src, wanted)
    ids = as_text(src, table, "customer_id", "customer_id", required=True)
    check_ids(src, ids.combine_chunks(), "customer_id")
    campaign = as_text(src, table, "campaign", "campaign", required=True)
    seconds = as_date_seconds(src, table, "date", "date", date_format=None, required=True)
    outcome = pc.utf8_lower(as_text(src, table, "outcome", "outcome", required=True))
    bad = ~np.asarray(pc.is_in(outcome, value_set=pa.array(OUTCOMES)).to_numpy(
        zero_copy_only=False), dtype=bool)
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(src.row_problem(
            row, "outcome", f"found {table.column('outcome')[row].as_py()!r}, expected one "
            "of " + ", ".join(OUTCOMES), f"{int(bad.sum()):,} rows have this problem"
            if bad.sum() > 1 else "a response is one of these outcomes"))
    revenue = as_number(src, table, "revenue", "revenue", required=False) \
        if "revenue" in wanted else np.full(table.num_rows, np.nan)
    days = (seconds // 86_400).astype("datetime64[D]")
    return pd.DataFrame({
        "customer_id": np.asarray(ids.to_numpy(zero_copy_only=False), dtype=object),
        "campaign": np.asarray(campaign.to_numpy(zero_copy_only=False), dtype=object),
        "response_date": np.datetime_as_string(days, unit="D").astype(object),
        "outcome": np.asarray(outcome.to_numpy(zero_copy_only=False), dtype=object),
        "revenue": revenue,
    })


def import_responses(store: Store, path: Path, display: str) -> ImportResult:
    frame = read_responses(path, display)
    repeats = frame.duplicated(KEY).to_numpy()
    fresh = frame[~repeats]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with store.transaction() as conn:
        key = conn.execute(insert(imports).returning(imports.c.id), {
            "file": display, "sha256": digest,
            "imported_at": dt.datetime.now(dt.timezone.utc), "rows_read": len(frame),
            "imported": 0, "already_present": 0, "skipped": int(repeats.sum())}).scalar_one()
        rows = fresh.assign(import_id=key)[list(STAGE_COLUMNS)]
        if conn.dialect.name == "postgresql":  # COPY cannot skip what is present: stage it
            conn.execute(text("CREATE TEMPORARY TABLE cvm_stage (customer_id text, campaign "
                              "text, response_date date, outcome varchar(32), revenue float, "
                              "import_id integer) ON COMMIT DROP"))
            bulk_insert(conn, "cvm_stage", STAGE_COLUMNS, rows)
            names = ", ".join(STAGE_COLUMNS)
            conn.execute(text(f"INSERT INTO cvm_responses ({names}) SELECT {names} FROM "
                              "cvm_stage ON CONFLICT DO NOTHING"))
        else:
            bulk_insert(conn, "cvm_responses", STAGE_COLUMNS, rows, on_conflict="DO NOTHING")
        added = int(conn.execute(select(func.count()).select_from(responses)
                                 .where(responses.c.import_id == key)).scalar_one())
        conn.execute(update(imports).where(imports.c.id == key).values(
            imported=added, already_present=len(fresh) - added))
    skipped = {"repeat an earlier row of the file (same customer, campaign, date and "
               "outcome)": int(repeats.sum())} if repeats.any() else {}
    return ImportResult(display, len(frame), added, len(fresh) - added, skipped)


def _columns(src: Source) -> list[str]:
    path = src.path  # a local file: the command line's
    if not isinstance(path, Path) or not path.is_file():
        raise InputError(Problem("file not found" if not Path(str(path)).exists() else
                                 "is not a file", file=src.display,
                                 hint="give a CSV or Parquet file of responses"))
    if src.is_parquet:
        try:
            return list(pq.read_schema(src.path).names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(Problem(f"cannot be read as Parquet: {exc}", file=src.display,
                                     hint="give a CSV or Parquet file of responses")) from None
    from engine.data.tabular import _header

    return [h.strip() for h in _header(src)]
