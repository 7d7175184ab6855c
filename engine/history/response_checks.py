"""What ``cvm responses import`` checks of a file's responses against the project and the
history, so that no row that can never count is kept silently (README "Responses").

A campaign that no recorded run used, that ``policies/campaigns.yaml`` does not declare and
that no policy names is refused (a misspelling: no run can ever be measured with it). A
customer in no recorded run is kept (a later run may hold them, and a response counts for
the contact policies from then on) but said, with the count and the first ids; so is a
response no run's measure can count (dated before the run that assigned its customer to its
campaign, or to a campaign no run assigned its customer to, dated before the latest run). A
response
dated after today is refused; surrounding spaces are dropped (as the transactions reader drops
them) and said. Revenue is compared in cents, the unit money is shown in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
from sqlalchemy import MetaData, select

from engine.data.tabular import Source
from engine.errors import InputError, Problem, clip, did_you_mean
from engine.history import block_format
from engine.history.columnar import read_blocks
from engine.history.store import Store
from engine.history.tables import run_actions, runs
from engine.history.values import FORMAT as VALUES_FORMAT
from engine.history.values import table as values_table

SHOWN = 20  # campaigns listed in a hint
SHOWN_IDS = 5  # customer ids named in a warning


def source(path: Path, display: str) -> Source:
    """The responses file as a table source: named on the command line and read with fixed
    settings (comma-separated UTF-8), so no hint names a cvm.yaml setting."""
    return Source(path, display, "FILE", setting_at="the command line", configured=False)


def row_problem(path: Path, display: str, row: int, column: str, message: str,
                hint: str | None = None, *, severity: str = "error") -> Problem:
    """A problem at 0-based data row ``row`` of the responses file (its line for a CSV)."""
    problem = source(path, display).row_problem(row, column, message, hint)
    return Problem(problem.message, file=problem.file, line=problem.line, key=problem.key,
                   hint=problem.hint, severity=severity)


def recorded(store: Store | None) -> tuple[list[int], set[str]]:
    """The recorded runs and the campaigns they assigned customers to."""
    if store is None:
        return [], set()
    with store.reading() as conn:
        keys = [int(k) for k in conn.execute(select(runs.c.id).order_by(runs.c.id)).scalars()]
        block, _, _ = read_blocks(conn, run_actions, keys, ["campaign"])
    found: set[str] = set()
    for chunk in block.column("campaign").chunks:
        plain = chunk.dictionary_decode() if pa.types.is_dictionary(chunk.type) else chunk
        found.update(v for v in pc.unique(plain).to_pylist() if v)
    return keys, found


def check_campaigns(src: Source, campaigns: pa.ChunkedArray, known: Collection[str]) -> None:
    """Refuse a campaign no run, campaigns.yaml, policy or trigger knows (InputError at its first
    row). ``campaigns``: as read, trimmed, an empty one null (the emptiness check's)."""
    unknown = _mask(pc.and_(pc.is_valid(campaigns), pc.invert(pc.is_in(
        campaigns, value_set=pa.array(sorted(known), pa.string())))))
    if not unknown.any():
        return
    row = int(np.argmax(unknown))
    found = str(campaigns[row].as_py())
    names = sorted(known)
    listed = ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more"
                                         if len(names) > SHOWN else "")
    hints = [f"{int(unknown.sum()):,} rows have this problem" if unknown.sum() > 1 else None,
             f"the campaigns known: {listed}" if names else "no campaign is known yet: "
             "declare it in policies/campaigns.yaml"]
    close = did_you_mean(found, names)
    hint = (f"{close} " if close else "") + "; ".join(h for h in hints if h)
    raise InputError(src.row_problem(
        row, "campaign", f"found {found!r}, expected a campaign of a recorded run, of "
        "policies/campaigns.yaml, of a policy or of a trigger", hint))


def _mask(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def check_not_after(src: Source, table: pa.Table, seconds: np.ndarray, today: dt.date) -> None:
    """Refuse a response dated after ``today`` (a response is something a customer did; a
    future one is a wrong year, and would count for every run until then)."""
    limit = (today - dt.date(1970, 1, 1)).days * 86_400 + 86_400  # today's times included
    after = seconds >= limit
    if not after.any():
        return
    row = int(np.argmax(after))
    value = table.column("date")[row].as_py()
    found = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else \
        value.isoformat() if isinstance(value, dt.date) else clip(value)
    count = int(after.sum())
    more = f"{count:,} rows have this problem; " if count > 1 else ""
    raise InputError(src.row_problem(
        row, "date", f"found {found}, expected a date on or before today ({today})",
        f"{more}a response is something a customer did: check the year (and the machine's "
        f"date, if today is not {today})"))


def readable_seconds(table: pa.Table) -> np.ndarray:
    """The dates that can be read as YYYY-MM-DD (or are dates already), in seconds, the
    others far in the past: so that a date after today is found when another row's date
    cannot be read (each is a problem of its own, reported in file order)."""
    column = table.column("date")
    kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if not (pa.types.is_timestamp(kind) or pa.types.is_date(kind) or pa.types.is_string(kind)
            or pa.types.is_large_string(kind)):  # bytes, numbers: the date check says so
        return np.full(table.num_rows, np.iinfo(np.int64).min, dtype=np.int64)
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        stamps = column.cast(kind).cast(pa.timestamp("s")) if not pa.types.is_timestamp(kind) \
            else pc.floor_temporal(column.cast(kind), unit="second").cast(
                pa.timestamp("s", tz=kind.tz))
    else:
        text = pc.utf8_trim_whitespace(column.cast(kind).cast(pa.string()))
        stamps = pc.strptime(pc.utf8_slice_codeunits(text, 0, 10), format="%Y-%m-%d",
                             unit="s", error_is_null=True)
    seconds = pc.cast(stamps, pa.int64()).fill_null(np.iinfo(np.int64).min)
    return np.asarray(seconds.to_numpy(zero_copy_only=False), dtype=np.int64)


def padded(src: Source, table: pa.Table, columns: Sequence[str]) -> list[Problem]:
    """A warning per text column whose values have surrounding spaces: they are read without
    them, as the transactions reader reads ids, so a padded id is the transactions' customer
    (said, not changed silently)."""
    said = []
    for column in columns:
        raw = table.column(column)
        if pa.types.is_dictionary(raw.type):
            raw = pc.cast(raw, raw.type.value_type)
        if not (pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type)):
            continue  # numbers or dates as ids: no spaces to drop
        trimmed = pc.utf8_trim_whitespace(raw)
        spaced = _mask(pc.not_equal(trimmed, raw))
        if not spaced.any():
            continue
        row, count = int(np.argmax(spaced)), int(spaced.sum())
        said.append(dataclasses.replace(src.row_problem(
            row, column, f"{count:,} row{'s have' if count > 1 else ' has'} a value with "
            f"surrounding spaces ({clip(raw[row].as_py())}): read as "
            f"{clip(trimmed[row].as_py())}", "values are read without surrounding spaces, as "
            "the transactions' are (an id ' C1 ' there is the customer 'C1'): remove the "
            "spaces to silence this"), severity="warning"))
    return said


def cents(revenue: np.ndarray | float) -> np.ndarray:
    """Revenue in whole cents, the unit money is shown in, half a cent away from zero (one
    rule wherever revenue is compared or shown: numpy, the databases and Python's format each
    round halves their own way): a float32 10.1 (10.100000381) is 1,010; 0.125 is 13."""
    scaled = np.abs(np.asarray(revenue, dtype=np.float64) * 100)
    # 1.005 is stored as 1.00499999999999989: a half written in decimals is a half here, as
    # the customer's text said (the tolerance is far below a cent, far above a double's error)
    return np.sign(revenue) * np.floor(scaled + 0.5 + 1e-7 + scaled * 1e-13)


def money_text(revenue: float) -> str:
    """A revenue as shown (``1,234.57``): in whole cents by ``cents``' rule."""
    return f"{float(cents(revenue)) / 100:,.2f}"


def unrecorded_rows(store: Store, keys: list[int], frame: pd.DataFrame) -> np.ndarray:
    """The rows whose customer is in none of the runs ``keys`` (a mask). Each run's ids are
    read from its values block, the id column alone."""
    ids = pa.array(frame["customer_id"].to_numpy(), type=pa.string())
    if not keys:
        return np.zeros(len(ids), dtype=bool)
    distinct = pc.unique(ids)
    seen = np.zeros(len(distinct), dtype=bool)
    blocks = values_table(MetaData())
    options = ipc.IpcReadOptions(included_fields=[0])  # customer_id
    with store.reading() as conn:
        for run, fmt, data in conn.execute(select(blocks.c.run, blocks.c.format, blocks.c.data)
                                           .where(blocks.c.run.in_(keys))):
            block_format.check("values", int(run), int(fmt), (VALUES_FORMAT,))
            run_ids = block_format.read_block(data, options)
            seen |= np.asarray(pc.is_in(distinct, value_set=run_ids.column(0).combine_chunks())
                               .to_numpy(zero_copy_only=False), dtype=bool)
    missing = pc.filter(distinct, pa.array(~seen))
    return np.asarray(pc.is_in(ids, value_set=missing).to_numpy(zero_copy_only=False),
                      dtype=bool)


def unrecorded_customers(frame: pd.DataFrame, rows: np.ndarray, path: Path,
                         display: str) -> Problem | None:
    """A warning naming the rows ``rows`` (``unrecorded_rows``: their customer is in no
    recorded run); None when there is none."""
    if not rows.any():
        return None
    missing = pd.unique(frame["customer_id"].to_numpy(dtype=object)[rows])
    names = [str(v) for v in missing[:SHOWN_IDS]]
    shown = ", ".join(names) + (f" and {len(missing) - SHOWN_IDS:,} more"
                                if len(missing) > SHOWN_IDS else "")
    count = int(rows.sum())
    return row_problem(
        path, display, int(np.argmax(rows)), "customer_id",
        f"{count:,} row{'s' if count > 1 else ''} name{'' if count > 1 else 's'} a customer "
        f"in no recorded run ({shown}): kept",
        "a response counts once a run holds its customer (contact policies, last_outcome; "
        "an opt-out stops cvm serve's contacts at once), and in cvm measure only for the "
        "runs that assigned the customer to the campaign; "
        "check the ids if they should match the transactions'", severity="warning")


def _plain(col: pa.ChunkedArray) -> pa.ChunkedArray:
    return pa.chunked_array([c.dictionary_decode() if pa.types.is_dictionary(c.type) else c
                             for c in col.chunks], pa.string())


def first_assigned(store: Store, frame: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Per row, the as-of date (ISO text) of the first run that assigned its customer to its
    campaign (the latest run of that as-of date), "" where no recorded run did; and the
    latest as-of date of a recorded run ("": none). Only the actions of the file's customers
    are kept."""
    never = np.full(len(frame), "", dtype=object)
    with store.reading() as conn:
        latest = dict(conn.execute(select(runs.c.as_of, runs.c.id).order_by(runs.c.id)).all())
        if not latest:
            return never, ""
        block, run_of, _ = read_blocks(conn, run_actions, sorted(latest.values()),
                                       ["customer_id", "campaign"])
    ids = _plain(block.column("customer_id"))
    mine = _mask(pc.and_(pc.is_in(ids, value_set=pa.array(
        frame["customer_id"].unique(), pa.string())), pc.is_valid(block.column("campaign"))))
    last = str(max(latest))
    if not mine.any():
        return never, last
    as_of = {key: str(day) for day, key in latest.items()}
    assigned = pd.DataFrame({
        "customer_id": ids.filter(pa.array(mine)).to_numpy(zero_copy_only=False),
        "campaign": _plain(block.column("campaign")).filter(pa.array(mine))
        .to_numpy(zero_copy_only=False),
        "first": pd.Series(run_of[mine]).map(as_of).to_numpy(dtype=object),
    }).groupby(["customer_id", "campaign"], sort=False)["first"].min()
    # ISO dates compare as text
    return frame.join(assigned, on=["customer_id", "campaign"])["first"].fillna("") \
        .to_numpy(dtype=object), last


def before_assignment(frame: pd.DataFrame, first: np.ndarray, path: Path,
                      display: str) -> Problem | None:
    """A warning naming the rows dated before the first run that assigned their customer to
    their campaign (``first``: ``first_assigned``'s): they count in no run's measure, and a
    wrong year is the likely cause."""
    early = np.asarray(frame["response_date"].to_numpy(dtype=object) < first, dtype=bool)
    if not early.any():
        return None
    row, count = int(np.argmax(early)), int(early.sum())
    return row_problem(
        path, display, row, "date",
        f"{count:,} row{'s are' if count > 1 else ' is'} dated before the first run that "
        f"assigned their customer to the campaign ({frame['customer_id'].iloc[row]}, "
        f"{frame['campaign'].iloc[row]}: a run as of {first[row]}): kept",
        "cvm measure counts a response from its run's as-of date on, so these count in no "
        "run's measure (last_outcome and the contact policies of later runs read them); check "
        "the year", severity="warning")


def never_assigned(frame: pd.DataFrame, first: np.ndarray, last: str, unrecorded: np.ndarray,
                   campaigns: Collection[str], path: Path, display: str) -> Problem | None:
    """A warning naming the rows dated before the latest run's as-of date ``last`` whose
    customer is in a recorded run and whose campaign a recorded run assigned (``campaigns``),
    but no run to that customer: no run counts them in its measure, nor can a later one (it
    counts from its own as-of date, that one or later). A response on or after it is not said
    (the next run, or a run again of that date, may assign it), nor is a campaign no run
    assigned (a trigger's, one not run yet)."""
    rows = ((first == "") & ~unrecorded
            & (frame["response_date"].to_numpy(dtype=object) < last)
            & frame["campaign"].isin(list(campaigns)).to_numpy())
    if not rows.any():
        return None
    row, count = int(np.argmax(rows)), int(rows.sum())
    return row_problem(
        path, display, row, "campaign",
        f"{count:,} row{'s answer' if count > 1 else ' answers'} a campaign that no recorded "
        f"run assigned {'their' if count > 1 else 'its'} customer to, dated before the "
        f"latest run's as-of date {last} ({frame['customer_id'].iloc[row]}, "
        f"{frame['campaign'].iloc[row]}): kept",
        "cvm measure counts a response only in the runs that assigned its customer to its "
        "campaign (a holdout included), from the run's as-of date on, so these count in no "
        "run's measure (last_outcome and the contact policies of later runs read them); check "
        "the customer id and the campaign", severity="warning")


def assignment_warnings(store: Store, keys: list[int], campaigns: Collection[str],
                        frame: pd.DataFrame, path: Path, display: str) -> tuple[Problem, ...]:
    """What ``cvm responses import`` says of the rows the recorded runs ``keys`` (assigning
    ``campaigns``) cannot measure: a customer in no run, a response dated before its
    assignment, a campaign never assigned to its customer."""
    unrecorded = unrecorded_rows(store, keys, frame)
    first, last = first_assigned(store, frame)
    return tuple(p for p in (unrecorded_customers(frame, unrecorded, path, display),
                             before_assignment(frame, first, path, display),
                             never_assigned(frame, first, last, unrecorded, campaigns, path,
                                            display))
                 if p is not None)
