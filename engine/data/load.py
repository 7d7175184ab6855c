"""Stage 1, load: read and check transactions (and the optional customers file).

Output: ``Transactions``, columnar numpy arrays with customers coded 0..n-1 (sorted by id), and a
``LoadReport`` that counts every row that was not used and why. Nothing is dropped silently:
zero-amount rows, exact duplicate rows and rows on or after the as-of date are counted;
refunds (negative amounts) are kept and netted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.data.codes import (
    customer_codes,
    labelled_codes,
    order_codes,
    uuid_customer_codes,
    uuid_order_codes,
)
from engine.data.contracts import Contracts, booked_after, end_days, ends_after, ends_after_note
from engine.data.database import read_rows, rows_source
from engine.data.dedupe import duplicate_rows
from engine.data.empty_tail import dropped, empty_tail_note
from engine.data.folder import FolderRows, as_folder, read_folder
from engine.data.margins import margin_of
from engine.data.object_store import skipped_note
from engine.data.preflight import transaction_columns
from engine.data.spaced_ids import spaced_ids
from engine.data.tabular import Source, read_columns
from engine.data.typed_columns import (
    NO_DATE,
    as_date_seconds,
    as_number,
    as_text,
    check_ids,
    refuse_empty_rows,
)
from engine.data.uuid_ids import ParsedIds, parse_column, uuid_columns
from engine.errors import InputError, Problem
from engine.project.as_of_today import rows_ahead
from engine.project.config import Config
from engine.project.database_source import DatabaseSource
from engine.project.location import config_shown

DAY = 86_400
EPOCH = dt.date(1970, 1, 1)


@dataclass
class LoadReport:
    """What was read, used and skipped, for the summary and the run manifest."""

    file: str
    rows_read: int = 0
    rows_used: int = 0
    after_as_of: int = 0
    last_day: int = -1  # the export's last day, any row (days since 1970; -1: not known)
    dated_ahead: str = ""  # the rows dated after today, where a default as-of date counts
    zero_amount: int = 0
    duplicates: int = 0
    refund_rows: int = 0
    refund_amount: float = 0.0
    margin_assumed_rows: int = 0
    margin_note: str = ""
    as_of_note: str = ""  # contracts ending after a default as-of date (score, run, validate)
    # contracts ending on or after the as-of date: how many, the latest end day (-1: none)
    ends_after: tuple[int, int] = (0, -1)
    files_note: str = ""  # a folder's files not read (object_store.skipped_note)
    customers_refund_only: int = 0
    # the refund rows of those customers (in refund_rows, in no customer's revenue)
    refund_rows_left_out: int = 0
    refund_amount_left_out: float = 0.0
    customers_file: str | None = None
    customers_file_rows: int = 0
    customers_without_purchases: int = 0
    purchasers_not_in_customers_file: int = 0
    notes: list[str] = field(default_factory=list)

    def skipped(self) -> list[tuple[str, int]]:
        return [
            ("rows dated on or after the as-of date", self.after_as_of),
            ("rows with a zero amount", self.zero_amount),
            ("exact duplicate rows (first kept)", self.duplicates),
        ]


@dataclass(frozen=True)
class Transactions:
    """Checked transactions as arrays, one entry per used row; customers coded 0..n-1."""

    customer_ids: np.ndarray  # object array of ids, sorted; index = code
    id_array: pa.Array  # the same ids as an Arrow array (fast joins by value)
    code: np.ndarray  # intp per row (numpy's index type: bincount takes it without a copy)
    day: np.ndarray  # int32 days since 1970-01-01
    amount: np.ndarray  # float64, net of nothing: refunds are negative
    margin: np.ndarray  # float64 gross margin of the row
    order: np.ndarray | None  # int64 order codes, or None without order ids
    category: np.ndarray | None  # int32 category codes, or None
    categories: tuple[str, ...]
    as_of: dt.date
    report: LoadReport
    # subscriptions (engine/data/contracts.py): per customer code, a contract runs at as_of
    active: np.ndarray | None = None
    # subscriptions: the contracts the payments were made from (None for purchases)
    contracts: Contracts | None = None
    # None: every row used; a day: only the rows dated on or after it, those learning reads
    # (engine.history.learn.rows_learning_reads), the others dropped after scoring
    rows_from: int | None = None

    @property
    def as_of_day(self) -> int:
        return (self.as_of - EPOCH).days


def load_transactions(config: Config, *, part: bool = False) -> Transactions:
    """Read, check and clean the transactions named in cvm.yaml. ``part``: the rows are one
    partition of the export (``engine.distributed``), whose checks over every row are made
    on all of them: a partition may hold no purchase before the as-of date."""
    data = config.data
    subs = config.subscriptions
    wanted = transaction_columns(config)  # what cvm validate looks for in the header
    repetitive = ("date", "category", "channel", "end")
    skipped: list[str] = []  # a folder's files not read
    empty: list[str] = []  # and its files without rows
    ids: dict[str, ParsedIds] = {}  # a Parquet file's UUID id columns, parsed (_read_file)
    if isinstance(data.transactions, DatabaseSource):  # a table or query (engine/data/database)
        rows = rows_source(data.transactions)
        src: Source = rows
        table = read_rows(rows, wanted, repetitive)
    else:
        src = as_folder(Source(  # a folder: a bad row is named by its own file
            data.transactions, config.display(data.transactions), "data.transactions",
            data.delimiter, data.encoding, config.where("data.transactions"),
            numbers=data.numbers))
        if isinstance(src, FolderRows):
            table, skipped, empty = read_folder(src, wanted, repetitive)
        else:
            table, ids = _read_file(src, wanted, repetitive)
    report = LoadReport(file=src.display, rows_read=table.num_rows,
                        files_note=skipped_note(skipped, empty))
    if tail := dropped(table):  # ;;;;; at the end of the file (engine/data/empty_tail.py)
        report.notes.append(empty_tail_note(tail, src.display, isinstance(src, FolderRows)))
    cols = data.columns
    if "customer_id" in table.column_names:  # else read apart (a Parquet file's UUIDs)
        refuse_empty_rows(src, table, "date", cols["date"])
    # Coding text columns is the slowest part of loading; numpy and Arrow release the GIL,
    # so the order ids are coded on the second core meanwhile.
    pool = ThreadPoolExecutor(max_workers=1)
    order_job = pool.submit(
        _order_codes, src, wanted, ids.get("order_id"),
        as_text(src, table, "order_id", cols["order_id"], required=False, raw=True)
        if "order_id" in table.column_names else None) if "order_id" in cols else None
    coded = uuid_customer_codes(ids["customer_id"].uuids, ids["customer_id"].kind) \
        if "customer_id" in ids else None
    if coded is not None:
        codes, id_array = coded
        check_ids(src, id_array, cols["customer_id"], codes)
    else:
        codes, id_array = _customer_codes(src, _with_column(src, table, wanted, "customer_id"),
                                          cols["customer_id"], report)
    del ids
    if "customer_id" in table.column_names:
        table = table.drop_columns(["customer_id"])  # ten million ids are worth 150 MB
    seconds = as_date_seconds(src, table, "date", cols["date"], date_format=data.date_format,
                              required=True)
    amount = as_number(src, table, "amount", cols["amount"], required=True)
    day = (seconds // DAY).astype(np.int32)
    end = end_days(src, subs.end, as_date_seconds(
        src, table, "end", subs.end, date_format=data.date_format, required=False), day,
        NO_DATE) if subs else None
    margin, report.margin_assumed_rows, report.margin_note = margin_of(src, table, config,
                                                                        amount)
    # free each Arrow column once converted: ten million strings are worth a gigabyte
    table = table.drop_columns([k for k in ("date", "amount", "cost", "margin", "order_id",
                                            "end")
                                if k in table.column_names])
    cat_codes: np.ndarray | None = None
    categories: tuple[str, ...] = ()
    if "category" in cols:
        cat_text = as_text(src, table, "category", cols["category"], required=False, raw=True)
        cat_codes, categories = labelled_codes(cat_text)
    extra = [labelled_codes(as_text(src, table, k, cols[k], required=False, raw=True))[0]
             for k in ("channel",) if k in cols]
    extra += [as_number(src, table, "quantity", cols["quantity"], required=False)] \
        if "quantity" in cols else []
    del table
    pa.default_memory_pool().release_unused()  # hand the dropped columns' memory back now

    report.last_day = int(np.max(day))
    if config.as_of is None:  # a year mistyped in a row moves the default date (as_of_today)
        report.dated_ahead = rows_ahead(day, EPOCH, lambda row: src.place(row, cols["date"]))
    as_of = config.as_of or (EPOCH + dt.timedelta(days=report.last_day + 1))
    as_of_day = (as_of - EPOCH).days
    if np.min(day) >= as_of_day and not part:
        raise InputError(all_after_as_of(config, int(np.min(day)), as_of))

    order = order_job.result() if order_job is not None else None
    pool.shutdown()
    customer_ids = np.asarray(id_array.to_numpy(zero_copy_only=False), dtype=object)
    keep = _keep_mask(report, day, amount, as_of_day,
                      [codes, seconds, amount, margin, order, cat_codes, end, *extra],
                      drop_duplicates=data.duplicates == "drop")
    report.rows_used = int(keep.sum())
    purchase = keep & (amount > 0)
    if not purchase.any() and not part:
        raise InputError(no_purchase(src, cols["amount"], report,
                                      int((amount[keep] < 0).sum()), as_of))
    refunds = amount[keep] < 0
    report.refund_rows = int(refunds.sum())
    report.refund_amount = float(-amount[keep][refunds].sum())
    tx = Transactions(
        customer_ids=customer_ids, id_array=id_array, code=np.asarray(codes[keep], dtype=np.intp),
        day=day[keep],
        amount=amount[keep],
        margin=margin[keep], order=None if order is None else order[keep],
        category=None if cat_codes is None else cat_codes[keep], categories=categories,
        as_of=as_of, report=report,
    )
    if subs and end is not None:
        report.ends_after = ends_after(end[keep], as_of)
        if config.as_of is None:  # the default: say what it implies
            report.as_of_note = ends_after_note(*report.ends_after, as_of) or ""
        tx = expand_contracts(tx, end[keep], subs.billing_days, booked_after(
            codes, day, amount, end, as_of_day, len(customer_ids)))
        # the refunds: the payments of a negative price, as the value table nets them
        refunds = tx.amount < 0
        report.refund_rows, report.refund_amount = int(refunds.sum()), float(
            -tx.amount[refunds].sum())
    return tx


def all_after_as_of(config: Config, first_day: int, as_of: dt.date) -> Problem:
    """Every row is dated on or after the as-of date: nothing to score (``first_day``: the
    earliest row's)."""
    return config.problem(
        "as_of", f"every transaction is dated on or after the as-of date {as_of}",
        hint=f"the first transaction is on {EPOCH + dt.timedelta(first_day)}; choose a later "
        "as_of or remove it to use the day after the last transaction")


def require_history(tx: Transactions, config: Config) -> None:
    """Retention compares a period with the one before it: the purchases must reach back more
    than one period (``period_days``) before the as-of date. Said here, at the setting's line,
    before any value is computed."""
    days = tx.as_of_day - int(tx.day[tx.amount > 0].min())  # first purchase to the as-of date
    if days - 1 < config.period_days:
        raise InputError(config.problem(
            "period_days", f"the purchases span {days} day{'s' if days > 1 else ''} up to the "
            f"as-of date {tx.as_of}, less than two periods of period_days="
            f"{config.period_days} days, so retention (active in one period and again in the "
            "next) cannot be measured", hint=f"lower period_days to {days - 1} or less, or use "
            "more history" if days > 1 else "use more history"))


def no_purchase(src: Source, column: str, report: LoadReport, refund_rows: int,
                 as_of: dt.date) -> Problem:
    """Nothing to score: say where every row went, so the user sees which rule took them."""
    parts = [f"{n:,} {what}" for what, n in (
        ("dated on or after the as-of date " + str(as_of), report.after_as_of),
        ("with a zero amount", report.zero_amount), ("exact duplicates", report.duplicates),
        ("refunds (negative amounts)", refund_rows)) if n]
    return Problem(f"no purchase to score: of {report.rows_read:,} rows, " + ", ".join(parts),
                   file=src.display, key=f"column {column!r}",
                   hint="a purchase is a row with a positive amount before the as-of date; "
                   f"check the amount column mapped in data.columns and as_of in {config_shown()}")


def _read_file(src: Source, wanted: Mapping[str, str], repetitive: tuple[str, ...]
               ) -> tuple[pa.Table, dict[str, ParsedIds]]:
    """The file's columns; UUID id columns of a Parquet file parsed a row group at a time
    on their own threads meanwhile (engine.data.uuid_ids), left out of the table; an id
    column that turns out not to be all UUIDs is read whole right after, as text."""
    theirs = list(wanted.values())
    ours = [k for k in ("customer_id", "order_id") if k in wanted and
            theirs.count(wanted[k]) == 1]  # a column mapped twice is read with the others
    candidates = uuid_columns(src, wanted, ours)
    if not candidates:
        return read_columns(src, wanted, repetitive=repetitive), {}
    with ThreadPoolExecutor(max_workers=len(candidates)) as pool:
        parsing = {k: pool.submit(parse_column, src, wanted[k]) for k in candidates}
        table = read_columns(src, wanted, repetitive=repetitive, skip=candidates)
        found = {k: job.result() for k, job in parsing.items()}
    for name in candidates:  # not all UUIDs: read now, as text, before any value is checked
        if found[name] is None:
            table = _with_column(src, table, wanted, name)
    return table, {k: got for k, got in found.items() if got is not None}


def _with_column(src: Source, table: pa.Table, wanted: Mapping[str, str], ours: str) -> pa.Table:
    """``table`` with the column ``ours``, read now if it was left out for its UUIDs."""
    if ours in table.column_names:
        return table
    return table.append_column(ours, read_columns(src, {ours: wanted[ours]}).column(ours))


def _order_codes(src: Source, wanted: Mapping[str, str], parsed: ParsedIds | None,
                 text: pa.ChunkedArray | None) -> np.ndarray:
    """Order codes from the parsed UUIDs, else from the text (read now if it was left out
    for its UUIDs and two of them share a hash key: rare)."""
    coded = uuid_order_codes(parsed.uuids) if parsed is not None else None
    if coded is not None:
        return coded
    if text is None:
        table = read_columns(src, {"order_id": wanted["order_id"]})
        text = as_text(src, table, "order_id", wanted["order_id"], required=False, raw=True)
    return order_codes(text)


def _customer_codes(src: Source, table: pa.Table, column: str, report: LoadReport
                    ) -> tuple[np.ndarray, pa.Array]:
    """Customer codes from the ids as read; only when some id is empty or has surrounding
    spaces (rare) are all ids checked and trimmed first, which reports any empty one (and
    ``report`` notes the rows whose id lost its spaces)."""
    raw = as_text(src, table, "customer_id", column, required=False, raw=True)
    if raw.null_count == 0:
        codes, id_array = customer_codes(raw)
        trimmed = pc.utf8_trim_whitespace(id_array)
        if pc.all(pc.and_(pc.equal(trimmed, id_array), pc.not_equal(trimmed, ""))).as_py():
            check_ids(src, id_array, column, codes)
            return codes, id_array
    text = as_text(src, table, "customer_id", column, required=True)
    if (spaced := spaced_ids(src, table.column("customer_id"), text, column)) is not None:
        report.notes.append(spaced.note())
    codes, id_array = customer_codes(text)
    check_ids(src, id_array, column, codes)
    return codes, id_array


def _keep_mask(report: LoadReport, day: np.ndarray, amount: np.ndarray, as_of_day: int,
               row_values: list[np.ndarray | None], *, drop_duplicates: bool) -> np.ndarray:
    """Rows to use; each skipped row is counted under exactly one reason."""
    after = day >= as_of_day
    zero = (amount == 0) & ~after
    report.after_as_of = int(after.sum())
    report.zero_amount = int(zero.sum())
    candidates = ~(after | zero)
    if not drop_duplicates:
        return np.asarray(candidates, dtype=bool)
    dup = duplicate_rows([v for v in row_values if v is not None]) & candidates
    report.duplicates = int(dup.sum())
    return np.asarray(candidates & ~dup, dtype=bool)


def expand_contracts(tx: Transactions, end_day: np.ndarray, billing_days: int,
                     booked: tuple[np.ndarray, np.ndarray] | None = None) -> Transactions:
    """One row per billed period: start + k x billing_days for k = 0, 1, ... while before the
    end and the as-of date (at least the first period). ``end_day`` per contract row, NO_END
    when the contract runs. Sets ``active`` (per customer: a contract runs at the as-of date)
    and keeps the contracts themselves in ``contracts`` (with ``booked``: booked_after's)."""
    stop = np.minimum(end_day.astype(np.int64), tx.as_of_day)
    start = tx.day.astype(np.int64)
    periods = np.maximum(-((start - stop) // billing_days), 1)  # ceil((stop - start) / B)
    row = np.repeat(np.arange(len(start)), periods)
    first = np.cumsum(periods) - periods
    k = np.arange(len(row)) - np.repeat(first, periods)
    active = np.zeros(len(tx.customer_ids), dtype=bool)
    active[tx.code[end_day.astype(np.int64) >= tx.as_of_day]] = True

    def rep(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a[row]

    return replace(tx, code=tx.code[row], day=(start[row] + k * billing_days).astype(np.int32),
                   amount=tx.amount[row], margin=tx.margin[row], order=None,
                   category=rep(tx.category), active=active,
                   contracts=Contracts(tx.code, start, end_day.astype(np.int64), tx.amount,
                                       *(booked or (None, None))))
