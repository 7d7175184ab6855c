"""Stage 1b: the optional customers file (signup date, preferred channel, consents, referrals,
extra attributes), checked and joined onto the per-customer features."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine.config import Config
from engine.errors import InputError
from engine.load import DAY, LoadReport
from engine.schema import consent_column
from engine.tabular import Source, as_date_seconds, as_number, as_text, read_columns

YES = frozenset({"yes", "y", "true", "t", "1", "opt-in", "optin"})
NO = frozenset({"no", "n", "false", "f", "0", "opt-out", "optout"})


@dataclass(frozen=True)
class CustomersFile:
    ids: pa.Array  # customer ids, one per row of ``frame``
    frame: pd.DataFrame  # one row per customer in the file, in file order
    consents: tuple[str, ...]


def load_customers(config: Config, report: LoadReport) -> CustomersFile | None:
    data = config.data
    if data.customers is None:
        return None
    src = Source(data.customers, config.display(data.customers), "data.customers",
                 data.delimiter, data.encoding)
    wanted = dict(data.customer_columns)
    wanted.update({f"consent:{k}": v for k, v in data.consents.items()})
    wanted.update({f"attr:{k}": k for k in data.attributes})
    table = read_columns(src, wanted)
    report.customers_file = src.display
    report.customers_file_rows = table.num_rows
    ids = as_text(src, table, "customer_id", wanted["customer_id"], required=True)
    ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    _check_unique(src, ids, wanted["customer_id"])
    out: dict[str, object] = {}
    if "signup_date" in wanted:
        sec = as_date_seconds(src, table, "signup_date", wanted["signup_date"],
                              date_format=data.date_format, required=False)
        days = np.where(sec == np.iinfo(np.int64).min, np.nan, sec // DAY)
        out["signup_date"] = pd.to_datetime(days, unit="D").astype("datetime64[s]")
    for key in ("preferred_channel", "referred_by"):
        if key in wanted:
            out[key] = np.asarray(as_text(src, table, key, wanted[key], required=False)
                                  .to_pylist(), dtype=object)
    for name, column in data.consents.items():
        out[consent_column(name)] = _consent(src, table, f"consent:{name}", column)
    for name, kind in data.attributes.items():
        key = f"attr:{name}"
        if kind == "number":
            out[name] = as_number(src, table, key, name, required=False)
        elif kind == "boolean":
            out[name] = _consent(src, table, key, name)
        else:
            out[name] = np.asarray(as_text(src, table, key, name, required=False).to_pylist(),
                                   dtype=object)
    frame = pd.DataFrame(out, index=pd.RangeIndex(len(ids)))
    return CustomersFile(ids=ids, frame=frame, consents=tuple(data.consents))


def _check_unique(src: Source, ids: pa.Array, column: str) -> None:
    encoded = pc.dictionary_encode(ids)
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    if len(encoded.dictionary) == len(ids):
        return
    first_row = np.full(len(encoded.dictionary), -1, dtype=np.int64)
    first_row[codes[::-1]] = np.arange(len(codes))[::-1]
    dup_rows = np.flatnonzero(first_row[codes] != np.arange(len(codes)))
    row = int(dup_rows[0])
    value = ids[row].as_py()
    raise InputError(src.row_problem(
        row, column, f"found customer id {value!r} a second time (first on row "
        f"{int(first_row[codes[row]]) + 1}), expected each customer once",
        hint="merge or remove the duplicate"))


def _consent(src: Source, table: pa.Table, key: str, column: str) -> np.ndarray:
    text = pc.utf8_lower(as_text(src, table, key, column, required=False))
    valid = pc.is_in(text, value_set=pa.array(sorted(YES | NO)))
    bad = np.asarray(pc.and_(pc.is_valid(text), pc.invert(valid)).to_numpy(
        zero_copy_only=False), dtype=bool)
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(src.row_problem(
            row, column, f"found {table.column(key)[row].as_py()!r}, expected yes or no",
            hint="consents and boolean attributes accept yes/no, true/false, 1/0 "
            "(empty means no)"))
    yes = pc.fill_null(pc.is_in(text, value_set=pa.array(sorted(YES))), False)
    return np.asarray(yes.to_numpy(zero_copy_only=False), dtype=bool)
