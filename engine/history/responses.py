"""``cvm responses import FILE``: responses to campaigns, checked like the transactions, added
to the history once.

The file (CSV, comma-separated UTF-8 with a header, or Parquet) has the columns customer_id,
campaign, date and outcome, and optionally revenue. A response is identified by customer,
campaign, date and outcome: a row already in the history is counted as already present, a row
repeating an earlier row of the same file is skipped (and counted). Any bad value stops the
import with the file, row, column, what was found and what was expected; nothing is written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import Connection

from engine.data.empty_tail import dropped
from engine.data.tabular import Source, read_columns
from engine.data.typed_columns import (
    as_date_seconds,
    as_number,
    as_text,
    check_ids,
    refuse_empty_rows,
)
from engine.errors import InputError, Problem, did_you_mean
from engine.history.record import bulk_insert
from engine.history.response_checks import (
    cents,
    check_campaigns,
    check_not_after,
    money_text,
    padded,
    readable_seconds,
    row_problem,
    source,
)
from engine.history.response_digest import row_digests
from engine.history.store import Store
from engine.history.tables import OUTCOMES, imports, responses

REQUIRED = ("customer_id", "campaign", "date", "outcome")
OPTIONAL = ("revenue",)
T = TypeVar("T")
KEY = ["customer_id", "campaign", "response_date", "outcome"]
STAGE_COLUMNS = ("customer_id", "campaign", "response_date", "outcome", "revenue",
                 "import_id", "digest")


@dataclass(frozen=True)
class ImportResult:
    file: str
    rows_read: int
    imported: int
    already_present: int
    skipped: dict[str, int]  # reason -> rows
    warnings: tuple[Problem, ...] = ()  # rows kept or skipped that the user should know of


# the hint of an empty value, per column (the transactions' standard: what the row needs)
EMPTY_HINTS = {
    "customer_id": "every response names its customer, as the transactions do",
    "campaign": "every response names the campaign it answers",
    "date": "every response has the day it happened, YYYY-MM-DD",
    "outcome": "every response has an outcome: " + ", ".join(OUTCOMES[:-1]) + " or "
               + OUTCOMES[-1],
}
SEPARATORS = ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars"))
COLUMNS_HINT = "the columns are customer_id, campaign, date, outcome and (optional) revenue"


def read_responses(path: Path, display: str, *, known: Collection[str] | None = None,
                   today: dt.date | None = None) -> tuple[pd.DataFrame, tuple[Problem, ...]]:
    """The checked responses: customer_id, campaign, response_date (ISO text), outcome,
    revenue (NaN when not given), and the warnings of the rows kept. Every kind of check runs
    (``known``: the campaigns accepted, None: any; ``today``: the latest date accepted, None:
    the machine's date) and the first problem in file order is raised, with the others
    counted."""
    src = source(path, display)
    header = _columns(src)
    line = None if src.is_parquet else 1
    names = REQUIRED + OPTIONAL

    def named(h: str) -> str:  # a name in any letter case, with spaces around it or not
        return h.strip().casefold()

    if len(header) == 1 and named(header[0]) not in names:
        for sep, name in SEPARATORS:
            if sep in header[0]:
                raise InputError(Problem(
                    f"found one column {header[0]!r}, expected columns separated by commas",
                    file=display, line=line, key="header", hint=f"the file is separated by "
                    f"{name}: save it as CSV with commas ({COLUMNS_HINT})"))
    # the names in any letter case (a campaign tool's Customer_ID); other columns are not read
    wanted: dict[str, str] = {}
    for h in header:
        # (a name twice as written: the reader's own error says where)
        if named(h) in names and wanted.get(named(h), h) != h:
            raise InputError(Problem(f"column {h!r} repeats {wanted[named(h)]!r}",
                                     file=display, line=line, key="header",
                                     hint="keep one of them"))
        if named(h) in names:
            wanted[named(h)] = h
    unknown = [h for h in header if named(h) not in names]
    absent = [n for n in names if n not in wanted]
    for h in unknown:  # a column misspelt is no column to leave out unread
        if close := did_you_mean(h, absent):
            raise InputError(Problem(f"unknown column {h!r}", file=display, line=line,
                                     key="header", hint=close))
    others = f"; its other columns, not read: {', '.join(map(repr, unknown))}" \
        if unknown else ""
    missing = [name for name in REQUIRED if name not in wanted]
    if missing:
        raise InputError(Problem(f"missing column {missing[0]!r}", file=display, line=line,
                                 key="header", hint=COLUMNS_HINT + others))
    table = read_columns(src, wanted)
    found: list[Problem] = []

    def checked(column: str, check: Callable[[], T]) -> T | None:
        try:
            return check()
        except InputError as exc:
            problem = exc.problems[0]
            if problem.message.startswith("found an empty value") and column in EMPTY_HINTS:
                problem = dataclasses.replace(problem, hint="; ".join(
                    h for h in (problem.hint, EMPTY_HINTS[column]) if h))
            found.append(problem)
            return None

    # a row of separators alone among the rows: said once, not as each column's empty value
    checked("customer_id", lambda: refuse_empty_rows(src, table, "customer_id", "customer_id",
                                                     what="response"))
    # a column's kinds of check run apart (the empty values; the ids' characters; a
    # revenue's number, then its sign), so that each kind's first row is in the race
    ids = checked("customer_id", lambda: as_text(src, table, "customer_id", "customer_id",
                                                 required=True))
    checked("customer_id", lambda: check_ids(src, as_text(
        src, table, "customer_id", "customer_id", required=False).combine_chunks(),
        "customer_id"))
    campaign = checked("campaign", lambda: as_text(src, table, "campaign", "campaign",
                                                   required=True))
    if known is not None:  # the non-empty ones: an empty one is a problem of its own above
        names = as_text(src, table, "campaign", "campaign", required=False)
        checked("campaign", lambda: check_campaigns(src, names, known))
    seconds = checked("date", lambda: as_date_seconds(src, table, "date", "date",
                                                      date_format=None, required=True))
    checked("date", lambda: check_not_after(  # also when another row's date is unreadable
        src, table, seconds if seconds is not None else readable_seconds(table),
        today or dt.date.today()))
    outcome = checked("outcome", lambda: _outcomes(src, table))
    revenue = checked("revenue", lambda: as_number(src, table, "revenue", "revenue",
                                                   required=False)) \
        if "revenue" in wanted else np.full(table.num_rows, np.nan)
    if "revenue" in wanted:
        checked("revenue", lambda: _not_negative(src, table))
    if found:
        raise InputError(_first_in_file_order(found))
    assert ids is not None and campaign is not None and seconds is not None
    assert outcome is not None and revenue is not None
    days = (seconds // 86_400).astype("datetime64[D]")
    frame = pd.DataFrame({
        "customer_id": np.asarray(ids.to_numpy(zero_copy_only=False), dtype=object),
        "campaign": np.asarray(campaign.to_numpy(zero_copy_only=False), dtype=object),
        "response_date": np.datetime_as_string(days, unit="D").astype(object),
        "outcome": np.asarray(outcome.to_numpy(zero_copy_only=False), dtype=object),
        "revenue": revenue,
    })
    frame.attrs["empty_tail"] = dropped(table)  # rows of separators at the end, not read
    unread = [Problem(f"{'a column' if len(unknown) == 1 else 'columns'} not read: "
                      f"{', '.join(map(repr, unknown))}", file=display, line=line, key="header",
                      hint=COLUMNS_HINT + ": remove the others to silence this",
                      severity="warning")] if unknown else []
    return frame, (*unread, *padded(src, table, ("customer_id", "campaign", "date", "outcome",
                                                 *(["revenue"] if "revenue" in wanted else []))))


def _outcomes(src: Source, table: pa.Table) -> pa.ChunkedArray:
    outcome = pc.utf8_lower(as_text(src, table, "outcome", "outcome", required=True))
    bad = ~np.asarray(pc.is_in(outcome, value_set=pa.array(OUTCOMES)).to_numpy(
        zero_copy_only=False), dtype=bool)
    if bad.any():
        row = int(np.argmax(bad))
        close = did_you_mean(str(outcome[row].as_py()), OUTCOMES)
        raise InputError(src.row_problem(
            row, "outcome", f"found {table.column('outcome')[row].as_py()!r}, expected one "
            "of " + ", ".join(OUTCOMES), " ".join(h for h in (close, (
                f"{int(bad.sum()):,} rows have this problem" if bad.sum() > 1
                else "a response is one of these outcomes")) if h)))
    return outcome


def _not_negative(src: Source, table: pa.Table) -> None:
    """A negative revenue is refused: a refund is a transaction, not a response. Read apart
    from the number check (a value that is no number is that check's to report)."""
    col = table.column("revenue")
    if pa.types.is_dictionary(col.type):
        col = pc.cast(col, col.type.value_type)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        revenue = pd.to_numeric(col.to_pandas().str.strip(), errors="coerce").to_numpy(
            dtype=np.float64)
    elif pa.types.is_integer(col.type) or pa.types.is_floating(col.type) \
            or pa.types.is_decimal(col.type):
        revenue = np.asarray(pc.cast(col, pa.float64()).to_numpy(), dtype=np.float64)
    else:
        return  # not numbers at all: the number check says so
    with np.errstate(invalid="ignore"):
        negative = revenue < 0
    if negative.any():
        row = int(np.argmax(negative))
        more = f"{int(negative.sum()):,} rows have this problem; " if negative.sum() > 1 \
            else ""
        raise InputError(src.row_problem(
            row, "revenue", f"found {str(table.column('revenue')[row].as_py()).strip()!r}, "
            "expected a revenue of 0 or more", f"{more}a response's revenue is what it earned; "
            "a refund belongs in the transactions (a negative amount there)"))


def _first_in_file_order(found: list[Problem]) -> Problem:
    """The problem of the earliest row (a whole-column problem first), its hint counting the
    other problems (the first row of each other kind of check)."""
    def row(p: Problem) -> int:
        match = re.match(r"row (\d+),", p.key or "")
        return int(match.group(1)) if match else 0

    ordered = sorted(found, key=row)  # stable: columns in file-reading order within a row
    first, others = ordered[0], ordered[1:]
    if first.message.startswith("found an empty row"):  # not again as its empty values
        others = [p for p in others if row(p) != row(first)]
    if not others:
        return first
    more = (f"{len(others)} more problem{'s' if len(others) > 1 else ''}: "
            + "; ".join(p.key or p.message for p in others))
    return dataclasses.replace(first, hint="; ".join(h for h in (first.hint, more) if h))


def import_responses(store: Store, path: Path, display: str,
                     frame: pd.DataFrame | None = None,
                     warnings: tuple[Problem, ...] = ()) -> ImportResult:
    """Add ``frame`` (else the file read) to the history; ``warnings``: the caller's, first.
    A repeat of an earlier row, or of a response already in the history, with another revenue
    is said (the first revenue is kept)."""
    if frame is None:
        frame, read_warnings = read_responses(path, display)
        warnings = (*warnings, *read_warnings)
    repeats = frame.duplicated(KEY).to_numpy()
    said = list(warnings)
    changed = _changed_repeats(frame, repeats, path, display)
    if changed is not None:
        said.append(changed)
    fresh = frame[~repeats]
    # each response's content digest, for the run ids (before the write lock is taken)
    digests = row_digests(fresh[[*KEY, "revenue"]].itertuples(index=False, name=None))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with store.transaction() as conn:
        key = conn.execute(insert(imports).returning(imports.c.id), {
            "file": display, "sha256": digest,
            "imported_at": dt.datetime.now(dt.timezone.utc), "rows_read": len(frame),
            "imported": 0, "already_present": 0, "skipped": int(repeats.sum())}).scalar_one()
        rows = fresh.assign(import_id=key, file_row=np.flatnonzero(~repeats), digest=digests)[
            [*STAGE_COLUMNS, "file_row"]]
        # staged (COPY on PostgreSQL cannot skip what is present), then compared with what is
        postgres = conn.dialect.name == "postgresql"
        conn.execute(text(
            "CREATE TEMPORARY TABLE cvm_stage (customer_id text, campaign text, response_date "
            f"{'date' if postgres else 'text'}, outcome varchar(32), revenue float, import_id "
            f"integer, digest bigint, file_row integer){' ON COMMIT DROP' if postgres else ''}"))
        bulk_insert(conn, "cvm_stage", (*STAGE_COLUMNS, "file_row"), rows)
        names = ", ".join(STAGE_COLUMNS)
        conn.execute(text(f"INSERT INTO cvm_responses ({names}) SELECT {names} FROM "
                          "cvm_stage WHERE true ON CONFLICT DO NOTHING"))
        added = int(conn.execute(select(func.count()).select_from(responses)
                                 .where(responses.c.import_id == key)).scalar_one())
        if added < len(fresh):
            stored = _stored_revenue_differs(conn, key, path, display)
            if stored is not None:
                said.append(stored)
        if not postgres:
            conn.execute(text("DROP TABLE temp.cvm_stage"))
        conn.execute(update(imports).where(imports.c.id == key).values(
            imported=added, already_present=len(fresh) - added))
    skipped = {"repeat an earlier row of the file (same customer, campaign, date and "
               "outcome)": int(repeats.sum())} if repeats.any() else {}
    return ImportResult(display, len(frame), added, len(fresh) - added, skipped, tuple(said))


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The same revenue in cents (both none included)."""
    return np.asarray((cents(a) == cents(b)) | (np.isnan(a) & np.isnan(b)), dtype=bool)


def _money(v: float | None) -> str:
    return "none" if v is None or v != v else money_text(v)


def _changed_repeats(frame: pd.DataFrame, repeats: np.ndarray, path: Path,
                     display: str) -> Problem | None:
    """A warning for the rows repeating an earlier row's key with another revenue."""
    if not repeats.any():
        return None
    group = frame.groupby(KEY, sort=False, dropna=False).ngroup().to_numpy()
    _, first_at = np.unique(group, return_index=True)
    revenue = frame["revenue"].to_numpy(dtype=np.float64)
    earlier = first_at[group]
    changed = repeats & ~_same(revenue, revenue[earlier])
    if not changed.any():
        return None
    row = int(np.argmax(changed))
    count = int(changed.sum())
    return row_problem(
        path, display, row, "revenue",
        f"{count:,} row{'s repeat' if count > 1 else ' repeats'} an earlier row's customer, "
        f"campaign, date and outcome with another revenue: found {_money(revenue[row])}, row "
        f"{int(earlier[row]) + 1} has {_money(revenue[earlier[row]])}: skipped",
        "a response is one per customer, campaign, date and outcome and the first row's "
        "revenue is kept: give two purchases as one row with their total, and a correction "
        "in place of the row it corrects", severity="warning")


def _stored_revenue_differs(conn: Connection, key: int, path: Path,
                            display: str) -> Problem | None:
    """A warning for the staged rows already in the history with another revenue."""
    # the rows whose revenues differ at all (a re-import's, the same, stay in the database);
    # whether they differ in cents is decided here, by the rule of the rows of the file
    found = [(row, mine, theirs) for row, mine, theirs in conn.execute(text(
        "SELECT s.file_row, s.revenue, r.revenue FROM cvm_stage s JOIN cvm_responses r "
        "ON r.customer_id = s.customer_id AND r.campaign = s.campaign AND r.response_date = "
        "s.response_date AND r.outcome = s.outcome WHERE r.import_id <> :key AND "
        "((s.revenue IS NULL) <> (r.revenue IS NULL) OR ABS(s.revenue - r.revenue) > 1e-9) "
        "ORDER BY s.file_row"), {"key": key}).all()
        if (mine is None) != (theirs is None) or cents(mine) != cents(theirs)]
    if not found:
        return None
    row, mine, theirs = found[0]
    count = len(found)
    return row_problem(
        path, display, int(row), "revenue",
        f"{count:,} row{'s are' if count > 1 else ' is'} in the history already with another "
        f"revenue: found {_money(mine)}, the history has {_money(theirs)}: the history's is "
        "kept",
        "a response is imported once (its customer, campaign, date and outcome); cvm history "
        "CUSTOMER shows the revenue kept (cvm measure takes revenue and margin from the "
        "transactions, not from responses)", severity="warning")


def _columns(src: Source) -> list[str]:
    path = src.path  # a local file: the command line's
    if not isinstance(path, Path) or not path.is_file():
        raise InputError(Problem(
            "file not found" if not Path(str(path)).exists() else "is a folder, expected a "
            "CSV or Parquet file" if Path(str(path)).is_dir() else "is not a file",
            file=src.display, hint="give a CSV or Parquet file of responses"))
    if src.is_parquet:
        try:
            return list(pq.read_schema(src.path).names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(Problem(f"cannot be read as Parquet: {exc}", file=src.display,
                                     hint="give a CSV or Parquet file of responses")) from None
    from engine.data.tabular import _header

    return list(_header(src))  # as written: read_columns finds them by these names
