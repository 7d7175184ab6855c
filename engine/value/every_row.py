"""``cvm validate``: the checks ``cvm run`` makes over every row before it values anyone, on
every row's customer id, date, amount, cost or margin and quantity (and a contract's end):
some row before the as-of date, some purchase before it, purchases spanning two periods of
``period_days``, a purchase in the periods retention starts from. A new user's project of
four rows validated and then stopped ``cvm run`` at ``period_days``: ``validate`` had read
every row, and checked none of this.

Those columns are read and checked as the commands read them (a bad value past the
first rows is said here too, at its row); a transactions table or query is read whole, a
folder file by file; files on object storage are left to the commands (their headers are
checked). Contracts (``subscriptions:``) are checked on their payments, as the commands
make them. Then the customers file, every row as the commands read it."""

from __future__ import annotations

import codecs
import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.data.database import DatabaseRows, read_rows, rows_source
from engine.data.days import purchase_days
from engine.data.folder import FolderRows, as_folder, read_folder
from engine.data.load import (
    DAY,
    EPOCH,
    LoadReport,
    all_after_as_of,
    no_purchase,
    require_history,
)
from engine.data.preflight import transaction_columns
from engine.data.tabular import Source, read_columns
from engine.data.typed_columns import (
    NO_DATE,
    as_date_seconds,
    as_number,
    as_text,
    check_ids,
    has_blank,
    refuse_empty_rows,
)
from engine.errors import InputError, Problem
from engine.project.as_of_today import rows_ahead
from engine.project.config import Config
from engine.project.database_source import DatabaseSource
from engine.value.customers import CustomersFile, load_customers, written_otherwise
from engine.value.first_rows import row_of
from engine.value.retention import require_sample

T = TypeVar("T")
OPTIONAL = ("cost", "margin", "quantity")  # numbers run refuses a bad one of, after the amount


def check_every_row(config: Config) -> tuple[list[Problem], dt.date | None, str]:
    """The problems ``cvm run`` would stop at over every row's values (none: []),
    the as-of date the rows give (None when they were not read) and the rows dated after
    today (LoadReport.dated_ahead): a default date after today is why a later check fails
    (a year mistyped in one row)."""
    found: list[tuple[dt.date, str]] = []
    problems: list[Problem] = []
    ids: list[pa.ChunkedArray] = []  # the transactions' customer ids, once read
    file = None
    with ThreadPoolExecutor(max_workers=1) as pool:
        # the customers file, every row as the commands read it, on the second core meanwhile
        # (Arrow's readers and kernels release the GIL); said after the transactions' problems
        customers = pool.submit(_customers, config)
        try:
            _check(config, found, ids)
        except InputError as exc:
            problems += exc.problems
        try:
            file = customers.result()
        except InputError as exc:
            problems += exc.problems
    if file is not None and ids and not problems:
        problems += [p for p in (none_matched(file, ids[0]),) if p is not None]
    return (problems, *found[0]) if found else (problems, None, "")


def _customers(config: Config) -> CustomersFile | None:
    if isinstance(config.data.customers, Path):
        return load_customers(config)
    return None


def none_matched(file: CustomersFile, purchasers: pa.ChunkedArray) -> Problem | None:
    """A warning when no customer of the customers file is in the transactions, or when
    some are not but for how their ids are written (their leading zeros lost, another letter
    case): ``run`` says it as notes; validate --strict fails on it. Their consents,
    preferred channels, referrals and attributes would reach no one."""
    if not len(file.ids):
        return None
    mine = pc.utf8_trim_whitespace(file.ids.cast(pa.string()))
    theirs = pc.unique(pc.utf8_trim_whitespace(purchasers.cast(pa.string())))
    matched = pc.is_in(mine, value_set=theirs)
    if pc.any(matched).as_py():  # some match: the others may be prospects, unless they are
        apart = mine.filter(pc.invert(matched))  # purchasers written otherwise
        said = written_otherwise(apart, theirs) if len(apart) else ""
        return Problem(
            f"{len(apart):,} of the {len(mine):,} customers of the file "
            f"{'is not a customer' if len(apart) == 1 else 'are not customers'} of the "
            "transactions" + said, file=file.file, key="customer_id", severity="warning",
            hint="their consents, preferred channels, referrals and attributes reach no one: "
            "the two files' customer_id columns must hold the same ids") if said else None
    return Problem(
        f"none of the {len(mine):,} customers of the file is a customer of the transactions"
        + written_otherwise(mine, theirs), file=file.file, key="customer_id",
        severity="warning", hint="their consents, preferred channels, referrals and "
        "attributes reach no one: the two files' customer_id columns must hold the same ids")


def _check(config: Config, found: list[tuple[dt.date, str]],
           ids: list[pa.ChunkedArray]) -> None:
    data, subs = config.data, config.subscriptions
    wanted = {k: data.columns[k] for k in ("customer_id", "date", "amount", *OPTIONAL)
              if k in data.columns}
    if isinstance(data.transactions, DatabaseSource) and "order_id" in data.columns:
        wanted["order_id"] = data.columns["order_id"]  # a row named by it, as run names it
    if subs is not None:
        wanted["end"] = subs.end
    repetitive = ("date", "end")
    if isinstance(data.transactions, DatabaseSource):
        src: Source = rows_source(data.transactions)
    elif isinstance(data.transactions, Path):
        src = as_folder(Source(data.transactions, config.display(data.transactions),
                               "data.transactions", data.delimiter, data.encoding,
                               config.where("data.transactions"), numbers=data.numbers))
    else:  # on object storage: read by the commands
        return
    table = _read(src, wanted, repetitive)
    rest = {k: v for k, v in transaction_columns(config).items() if k not in wanted}
    blank = has_blank(table, "date")
    if rest and (blank or _may_not_decode(src)):  # read as run reads them: a byte not in
        more = _read(src, rest, ("category", "channel"))  # the encoding stops it (said here)
        if blank:  # an empty row is empty in every mapped column
            for name in more.column_names:
                table = table.append_column(name, more.column(name))
    # each column's first problem, in run's order: the ids, the dates and amounts, a
    # contract's end, the other numbers (run stops at the first of them)
    problems: list[Problem] = []

    def each(check: Callable[[], T]) -> T | None:
        try:
            return check()
        except InputError as exc:
            problems.extend(exc.problems)
            return None

    each(lambda: refuse_empty_rows(src, table, "date", wanted["date"]))  # run's first check
    empty = list(problems)
    purchasers = each(lambda: as_text(src, table, "customer_id", wanted["customer_id"],
                                      required=True))
    if purchasers is not None:
        each(lambda: check_ids(src, purchasers, wanted["customer_id"]))
        ids.append(purchasers)
    table = table.drop_columns(["customer_id"])
    seconds = each(lambda: as_date_seconds(src, table, "date", wanted["date"],
                                           date_format=data.date_format, required=True))
    amount = each(lambda: as_number(src, table, "amount", wanted["amount"], required=True))
    day = None if seconds is None else (seconds // DAY).astype(np.int64)
    end = None
    if subs is not None and day is not None:  # a contract's end, on its start
        from engine.data.contracts import end_days

        end = each(lambda: end_days(src, subs.end, as_date_seconds(
            src, table, "end", subs.end, date_format=data.date_format, required=False), day,
            NO_DATE))
    for optional in OPTIONAL:
        if optional in wanted:
            each(partial(as_number, src, table, optional, wanted[optional], required=False))
    if problems:  # an empty row's empty values are not said again, column by column
        raise InputError(empty + [p for p in problems[len(empty):] if not empty or (
            p.file, row_of(p)) != (empty[0].file, row_of(empty[0]))])
    assert day is not None and amount is not None
    first, last = int(np.min(day)), int(np.max(day))
    as_of = config.as_of or (EPOCH + dt.timedelta(days=last + 1))
    found.append((as_of, rows_ahead(day, EPOCH, lambda row: src.place(row, wanted["date"]))
                  if config.as_of is None else ""))
    as_of_day = (as_of - EPOCH).days
    if first >= as_of_day:
        raise InputError(all_after_as_of(config, first, as_of))
    before = day < as_of_day
    buy = np.unique(day[before & (amount > 0)])
    if not len(buy):  # where the rows went, as run says it (its duplicates aside: not read)
        report = LoadReport(file=src.display, rows_read=len(day),
                            after_as_of=int(np.count_nonzero(~before)),
                            zero_amount=int(np.count_nonzero(before & (amount == 0))))
        raise InputError(no_purchase(src, wanted["amount"], report,
                                     int(np.count_nonzero(before & (amount < 0))), as_of))
    if subs is not None and end is not None:  # the payments: a period's first day from the
        buy = _payment_days(day, end, amount, as_of_day, subs.billing_days)  # start, to the end
    days = purchase_days(buy, as_of, LoadReport(file=src.display))
    require_history(days, config)
    require_sample(days, config)


def _may_not_decode(src: Source) -> bool:
    """Whether the columns run reads beside these may hold a byte the file's encoding refuses
    (their text is then read here, as run reads it): only in UTF-8, which Arrow checks in
    the columns it reads (any other encoding, UTF-8 with a byte order mark too, is decoded
    whole as the first columns are read: a bad byte stopped that read), and not in a Parquet
    file or a database's rows, nor in a file of ASCII bytes alone (most exports), looked at a
    MB at a time."""
    if isinstance(src, DatabaseRows) or codecs.lookup(src.encoding).name != "utf-8":
        return False
    if isinstance(src, FolderRows):
        return True
    if src.is_parquet or not isinstance(src.path, Path):
        return False
    with src.path.open("rb") as fh:
        return not all(chunk.isascii() for chunk in iter(lambda: fh.read(1 << 20), b""))


def _read(src: Source, columns: dict[str, str], repetitive: tuple[str, ...]) -> pa.Table:
    """The ``columns`` of the transactions, every row, as the commands read them."""
    if isinstance(src, FolderRows):
        return read_folder(src, columns, repetitive)[0]
    if isinstance(src, DatabaseRows):  # a table or query
        return read_rows(src, columns, repetitive)
    return read_columns(src, columns, repetitive)


def _payment_days(start: np.ndarray, end: np.ndarray, amount: np.ndarray, as_of_day: int,
                  billing: int) -> np.ndarray:
    """The distinct days of the payments of the contracts with a price, started before the
    as-of date (``engine.data.load.expand_contracts``'s days)."""
    used = (amount > 0) & (start < as_of_day)
    start, stop = start[used], np.minimum(end[used], as_of_day)
    periods = np.maximum(-((start - stop) // billing), 1)
    row = np.repeat(np.arange(len(start)), periods)
    k = np.arange(len(row)) - np.repeat(np.cumsum(periods) - periods, periods)
    return np.unique(start[row] + k * billing)



