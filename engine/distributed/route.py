"""The first pass: every input file's rows routed to the partition of their customer.

One task per input file reads it with the engine's reader (``engine.data.tabular``), checks
the customer ids, dates, amounts, costs, margins and quantities there (so a bad row is
reported with the user's file and row, not the partition's), and writes its rows to
``<scratch>/part-<k>/in-<file index>.parquet``, ``k`` the hash of the trimmed customer id
modulo the number of partitions. Every row of a customer lands in one
partition, in the order the files and rows were read: per customer, the same rows in the same
order as one process reading the files one after the other. It returns the distinct days of
its purchases (positive amounts): the as-of date and the checks that read only the days are
decided from them once, over all partitions.
"""

from __future__ import annotations

import datetime as dt
import socket
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine.data.contracts import end_days
from engine.data.empty_tail import dropped
from engine.data.folder import listing, mixed_types
from engine.data.header import NoRows
from engine.data.load import DAY, EPOCH
from engine.data.object_store import empty_prefix, files_under
from engine.data.spaced_ids import Spaced, spaced_ids
from engine.data.tabular import Source, read_columns
from engine.data.typed_columns import NO_DATE, as_date_seconds, as_number, as_text, check_ids
from engine.errors import InputError, Problem
from engine.project.as_of_today import dated_after_today
from engine.project.config import Config
from engine.project.object_store import ObjectPath

REPETITIVE = ("date", "category", "channel", "end")


@dataclass(frozen=True)
class Routed:
    """What one input file held: rows, and the distinct days of rows and of purchases."""

    rows: int
    days: np.ndarray  # int32 distinct days of every row
    buy_days: np.ndarray  # int32 distinct days of the rows with a positive amount
    spaced: Spaced | None = None  # its ids read without their surrounding spaces
    empty_tail: int = 0  # rows of separators only at its end, not read
    without_rows: str | None = None  # a folder's file without rows: its name there, skipped
    ahead: tuple[int, int, str] | None = None  # its rows dated after today (as_of_today)


Input = Path | ObjectPath  # a local file, or an object each worker reads from the store


def input_files(config: Config) -> tuple[list[tuple[Input, int]], list[str]]:
    """The transactions with their sizes: one file, or the data files of a folder (sorted by
    name; a ``name=value`` folder tree of a partitioned dataset is walked), local or on a
    store (a prefix: engine.data.object_store); and the folder's other files, skipped."""
    path = config.data.transactions
    if isinstance(path, ObjectPath):
        found, skipped = files_under(path)
        if not found:
            raise InputError(empty_prefix(path))
        return list(found), skipped
    files, skipped = _local_files(config)
    return [(f, f.stat().st_size) for f in files], skipped


def _local_files(config: Config) -> tuple[list[Path], list[str]]:
    path = config.data.transactions
    if not isinstance(path, Path):  # refused before any work (job.check_supported)
        raise TypeError("the Dask engine reads files, not a database")
    if path.is_file():
        return [path], []
    if not path.is_dir():
        raise InputError(Problem("file not found", file=config.display(path), hint=(
            f"check data.transactions at {config.where('data.transactions')} (paths are "
            "relative to the project folder)")))
    files, skipped = listing(path)  # the order one process reads them in (engine.data.folder)
    if not files:
        raise InputError(Problem(
            "the folder holds no data file", file=config.display(path),
            hint=f"check data.transactions at {config.where('data.transactions')}: a Parquet "
            "dataset is a folder of .parquet files (CSV files work too)"))
    return files, skipped


def name_in_folder(config: Config, path: Input) -> str:
    """A file's name in the folder or prefix of the transactions, as one process names it."""
    folder = config.data.transactions
    if isinstance(path, ObjectPath) and isinstance(folder, ObjectPath):
        return path.url.removeprefix(folder.url.rstrip("/") + "/")
    assert isinstance(path, Path) and isinstance(folder, Path)
    return path.relative_to(folder).as_posix()


def source_of(config: Config, path: Input) -> Source:
    data = config.data
    folder = None if path == data.transactions or not isinstance(
        data.transactions, Path | ObjectPath) else config.display(data.transactions)
    return Source(path, config.display(path), "data.transactions", data.delimiter,
                  data.encoding, config.where("data.transactions"), folder=folder,
                  numbers=data.numbers)


def part_folder(scratch: Path, part: int) -> Path:
    return scratch / f"part-{part:05d}"


def partition_of(ids: pa.ChunkedArray | pa.Array, partitions: int) -> np.ndarray:
    """The partition of each id: a fixed hash (the same in every process and on every
    machine) of the id as the engine codes it, trimmed."""
    text = pc.utf8_trim_whitespace(pc.cast(ids, pa.string()))
    hashed = pd.util.hash_array(np.asarray(text.to_numpy(zero_copy_only=False), dtype=object))
    return np.asarray(hashed % np.uint64(partitions), dtype=np.int64)


def route_file(config: Config, index: int, path: Input, scratch: Path,
               partitions: int) -> Routed:
    """Check one input file and write its rows to the partitions (a Dask task)."""
    src = source_of(config, path)
    cols, subs = config.data.columns, config.subscriptions
    # subscriptions: a contract's end travels with it (checked here, at the user's row)
    try:
        table = read_columns(src, {**cols, "end": subs.end} if subs else cols,
                             repetitive=REPETITIVE)
    except NoRows:
        if src.folder is None:
            raise
        none = np.empty(0, dtype=np.int32)  # skipped, as one process skips it
        return Routed(0, none, none, without_rows=name_in_folder(config, path))
    empty_tail = dropped(table)
    # the checks of engine/data/load.py, here where the row is the user's row
    ids = as_text(src, table, "customer_id", cols["customer_id"], required=True)
    spaced = spaced_ids(src, table.column("customer_id"), ids, cols["customer_id"])
    check_ids(src, ids, cols["customer_id"])  # where the partition's file is the engine's
    seconds = as_date_seconds(src, table, "date", cols["date"],
                              date_format=config.data.date_format, required=True)
    amount = as_number(src, table, "amount", cols["amount"], required=True)
    day = (seconds // DAY).astype(np.int32)
    if subs:
        end_days(src, subs.end, as_date_seconds(src, table, "end", subs.end,
                                                date_format=config.data.date_format,
                                                required=False), day, NO_DATE)
    for optional in ("cost", "margin", "quantity"):  # in load.py's order, after the end
        if optional in cols:
            as_number(src, table, optional, cols[optional], required=False)
    part = partition_of(ids, partitions)
    order = np.argsort(part, kind="stable")  # rows keep their order within a partition
    bounds = np.searchsorted(part[order], np.arange(partitions + 1))
    for k in range(partitions):
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        if hi > lo:
            folder = part_folder(scratch, k)
            try:  # in the command's folder: never made again once removed
                folder.mkdir(exist_ok=True)
            except FileNotFoundError:
                raise InputError(Problem(
                    f"the scratch folder {scratch} is not there for this worker (on "
                    f"{socket.gethostname()})", key="--scratch", hint="give --scratch a "
                    "folder every worker can read and write, mounted at the same path (the "
                    "default, a temporary folder of the command's machine, is its own)"
                )) from None
            pq.write_table(table.take(pa.array(order[lo:hi])),
                           folder / f"in-{index:06d}.parquet")
    ahead = dated_after_today(day, EPOCH, lambda row: src.place(row, cols["date"])) \
        if config.as_of is None else None
    return Routed(table.num_rows, np.unique(day), np.unique(day[amount > 0]), spaced,
                  empty_tail, ahead=ahead)


def partition_config(config: Config, scratch: Path, part: int, as_of: dt.date
                     ) -> Config | None:
    """The project's settings reading one partition's rows (None: no row went there): the
    columns under the engine's names, the as-of date decided over all partitions."""
    folder = part_folder(scratch, part)
    target = folder / "rows.parquet"  # written whole, then renamed: a task run again reuses it
    files = sorted(folder.glob("in-*.parquet")) if folder.is_dir() else []
    if not target.exists() and not files:
        return None
    if not target.exists():  # else a task run again: the rows were merged the first time
        try:
            _merge_inputs(files, target)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # as one process says it, by name
            inputs = [path for path, _ in input_files(config)[0]]  # in-NNNNNN: its index
            tables: list[tuple[str | None, pa.Table]] = [
                (name_in_folder(config, inputs[int(f.stem.removeprefix("in-"))]),
                 pq.read_table(f)) for f in files]
            raise InputError(mixed_types(config.display(config.data.transactions), tables,
                                         config.data.columns)
                             ) from None
    data = replace(config.data, transactions=target, columns={k: k for k in config.data.columns})
    subs = config.subscriptions and replace(config.subscriptions, end="end")
    return replace(config, data=data, as_of=as_of, subscriptions=subs)


def _merge_inputs(files: list[Path], target: Path) -> None:
    """A partition's input files as one, in input order (each customer's rows in the order
    read): renamed if there is one, else concatenated beside the target and renamed."""
    if len(files) == 1:
        files[0].rename(target)
        return
    tables = [pq.read_table(f) for f in files]
    staging = target.with_name("rows.tmp")
    pq.write_table(pa.concat_tables(tables, promote_options="permissive"), staging)
    staging.rename(target)
    for f in files:
        f.unlink()
