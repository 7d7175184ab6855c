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
    frame: pd.DataFrame  # indexed by customer_id
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
    out: dict[str, object] = {"customer_id": np.asarray(ids.to_pylist(), dtype=object)}
    _check_unique(src, out["customer_id"], wanted["customer_id"])  # type: ignore[arg-type]
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
    frame = pd.DataFrame(out).set_index("customer_id")
    return CustomersFile(frame=frame, consents=tuple(data.consents))


def _check_unique(src: Source, ids: np.ndarray, column: str) -> None:
    dup = pd.Series(ids).duplicated()
    if dup.any():
        row = int(np.argmax(dup.to_numpy()))
        first = int(np.flatnonzero(ids == ids[row])[0])
        raise InputError(src.row_problem(
            row, column, f"found customer id {ids[row]!r} a second time (first on row "
            f"{first + 1}), expected each customer once", hint="merge or remove the duplicate"))


def _consent(src: Source, table: pa.Table, key: str, column: str) -> np.ndarray:
    text = pc.utf8_lower(as_text(src, table, key, column, required=False))
    values = np.asarray(text.to_pylist(), dtype=object)
    allowed = YES | NO
    bad = np.array([v is not None and v not in allowed for v in values], dtype=bool)
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(src.row_problem(
            row, column, f"found {table.column(key)[row].as_py()!r}, expected yes or no",
            hint="consents and boolean attributes accept yes/no, true/false, 1/0 "
            "(empty means no)"))
    return np.array([v in YES for v in values], dtype=bool)
