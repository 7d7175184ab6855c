"""``cvm validate``: the values of each local data file's first rows, checked by the functions
the commands that read every row use (the same words, file, line and column), so that a wrong
``date_format``, a decimal comma, a consent written 'maybe' or a column mapped to the wrong
values is said before ``cvm run`` stops at it. The first ``FIRST_ROWS`` rows only, which a
file of millions reads in milliseconds: ``cvm validate --audience`` reads every row.

What is checked is what the loaders refuse of a single row (engine.data.load,
engine.value.customers): the customer id (present, no control character, not too long), the
date, the amount, the cost or margin, the quantity, a contract's end (and not before its
start), and the customers file as its loader reads it (a customer once, dates, consents,
attributes). What depends on every row (the as-of date, whether any purchase is left) is
engine.value.every_row's."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from engine.data.contracts import end_days
from engine.data.folder import mixed_types, parts
from engine.data.header import NoRows
from engine.data.preflight import transaction_columns
from engine.data.tabular import Source, read_first
from engine.data.typed_columns import (
    NO_DATE,
    as_date_seconds,
    as_number,
    as_text,
    check_ids,
    refuse_empty_rows,
)
from engine.errors import InputError, Problem
from engine.project.config import Config
from engine.project.database_source import DatabaseSource
from engine.value.customers import load_customers

FIRST_ROWS = 1_000
DAY = 86_400


def check_first_rows(config: Config, *, skip: Collection[str] = (),
                     skip_database: bool = False) -> list[Problem]:
    """The problems of the first rows of the local transactions (every file of a folder), of
    a database table or query, and of the customers file; ``skip``: files (as shown) with a
    problem already (their header); ``skip_database``: the source has one (its columns)."""
    data = config.data
    problems: list[Problem] = []
    if isinstance(data.transactions, DatabaseSource) and not skip_database:
        problems += _problems(partial(_database_rows, config, data.transactions))
    if isinstance(data.transactions, Path):
        src = Source(data.transactions, config.display(data.transactions), "data.transactions",
                     data.delimiter, data.encoding, config.where("data.transactions"),
                     numbers=data.numbers)
        files = parts(src)[0] if data.transactions.is_dir() else [(None, src)]
        firsts: list[tuple[str | None, Any]] = []
        for name, part in files:
            if part.display not in skip:
                problems += _problems(partial(_transactions, config, part, firsts, name))
        if len(firsts) > 1:  # run puts the folder's files together
            problems += _problems(partial(_together, src, firsts, transaction_columns(config)))
    if isinstance(data.customers, Path) and config.display(data.customers) not in skip:
        problems += _problems(partial(load_customers, config, first=FIRST_ROWS))
    return problems


def _problems(check: Callable[[], object]) -> list[Problem]:
    try:
        check()
    except InputError as exc:
        return list(exc.problems)
    return []


def _database_rows(config: Config, source: DatabaseSource) -> None:
    """The first rows of a table or query, in the order the commands read them (named by
    their key and order id, as theirs)."""
    from dataclasses import replace

    from engine.data.database import read_rows, rows_source

    rows = rows_source(source)
    table = read_rows(rows, transaction_columns(config), first=FIRST_ROWS)
    # "N of the first 1,000 rows" only when there may be more
    _checked_rows(config, replace(rows, first_rows=FIRST_ROWS)
                  if table.num_rows == FIRST_ROWS else rows, table)


def _transactions(config: Config, file: Source, firsts: list[tuple[str | None, Any]],
                  name: str | None) -> None:
    """What ``load_transactions`` refuses of a row, on the first rows of one file: every
    column's first problem (the loader stops at the first column with one), in row order.
    The rows read are added to ``firsts`` under the file's name in its folder."""
    try:
        src, table = read_first(file, transaction_columns(config), FIRST_ROWS)
    except NoRows:
        if file.folder is None:
            raise
        return  # a folder's file without rows: skipped, as the commands skip it
    firsts.append((name, table))
    _checked_rows(config, src, table)


def _together(folder: Source, firsts: list[tuple[str | None, Any]],
              wanted: Mapping[str, str]) -> None:
    """The folder's files' first rows put together as ``read_folder`` puts every row: a
    column held as numbers in one file and as text in another is refused there."""
    import pyarrow as pa

    # run reads the repeated text columns dictionary-coded in every file; read here as they
    # are written (plain in a CSV file, coded in a Parquet one), they are compared decoded
    plain = [(name, table.unify_dictionaries().cast(pa.schema([
        pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
        for f in table.schema]))) for name, table in firsts]
    try:
        pa.concat_tables([t for _, t in plain], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise InputError(mixed_types(folder.display, plain, wanted)) from None


def _checked_rows(config: Config, src: Source, table: Any) -> None:
    cols = config.data.columns
    date_format = config.data.date_format
    empty = _problems(lambda: refuse_empty_rows(src, table, "date", cols["date"]))
    found: list[Problem] = []
    found += _problems(lambda: check_ids(src, as_text(
        src, table, "customer_id", cols["customer_id"], required=True).combine_chunks(),
        cols["customer_id"]))
    days: list[Any] = []
    found += _problems(lambda: days.append(as_date_seconds(
        src, table, "date", cols["date"], date_format=date_format, required=True) // DAY))
    found += _problems(lambda: as_number(src, table, "amount", cols["amount"], required=True))
    for key in ("cost", "margin", "quantity"):
        if key in cols:
            found += _problems(partial(as_number, src, table, key, cols[key], required=False))
    subs = config.subscriptions
    if subs is not None:
        ends: list[Any] = []
        found += _problems(lambda: ends.append(as_date_seconds(
            src, table, "end", subs.end, date_format=date_format, required=False)))
        if days and ends:  # an end before its start needs both read
            found += _problems(lambda: end_days(src, subs.end, ends[0], days[0], NO_DATE))
    # an empty row's empty values are not said again, column by column
    found = empty + [p for p in found if not empty or row_of(p) != row_of(empty[0])]
    if found:
        raise InputError(sorted(found, key=lambda p: (p.line or 0, row_of(p))))


def row_of(problem: Problem) -> int:
    """The data row a problem names ('row 12, column ...'; a Parquet file and a table have no
    line)."""
    found = re.match(r"row (\d+)", problem.key or "")  # 'row 3 (n = 3, order id O3), ...'
    return int(found.group(1)) if found else 0
