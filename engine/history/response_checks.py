"""What ``cvm responses import`` checks of a file's responses against the project and the
history, so that no row that can never count is kept silently (README "Responses").

A campaign that no recorded run used, that ``policies/campaigns.yaml`` does not declare and
that no policy names is refused (a misspelling: no run can ever be measured with it). A
customer in no recorded run is kept (a later run may hold them, and a response counts for
the contact policies from then on) but said, with the count and the first ids.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
from sqlalchemy import MetaData, select

from engine.data.tabular import Source
from engine.errors import InputError, Problem, did_you_mean
from engine.history import block_format
from engine.history.columnar import read_blocks
from engine.history.store import Store
from engine.history.tables import run_actions, runs
from engine.history.values import FORMAT as VALUES_FORMAT
from engine.history.values import table as values_table

SHOWN = 20  # campaigns listed in a hint
SHOWN_IDS = 5  # customer ids named in a warning


def row_problem(path: Path, display: str, row: int, column: str, message: str,
                hint: str | None = None, *, severity: str = "error") -> Problem:
    """A problem at 0-based data row ``row`` of the responses file (its line for a CSV)."""
    problem = Source(path, display, "FILE", setting_at="the command line").row_problem(
        row, column, message, hint)
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


def check_campaigns(frame: pd.DataFrame, known: Collection[str], path: Path,
                    display: str) -> None:
    """Refuse a campaign no run, campaigns.yaml or policy knows (InputError at its first
    row)."""
    unknown = ~frame["campaign"].isin(list(known)).to_numpy()
    if not unknown.any():
        return
    row = int(np.argmax(unknown))
    found = str(frame["campaign"].iloc[row])
    names = sorted(known)
    listed = ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more"
                                         if len(names) > SHOWN else "")
    hints = [f"{int(unknown.sum()):,} rows have this problem" if unknown.sum() > 1 else None,
             f"the campaigns known: {listed}" if names else "no campaign is known yet: "
             "declare it in policies/campaigns.yaml"]
    close = did_you_mean(found, names)
    hint = (f"{close} " if close else "") + "; ".join(h for h in hints if h)
    raise InputError(row_problem(
        path, display, row, "campaign", f"found {found!r}, expected a campaign of a recorded "
        "run, of policies/campaigns.yaml or of a policy", hint))


def unrecorded_customers(store: Store, keys: list[int], frame: pd.DataFrame, path: Path,
                         display: str) -> Problem | None:
    """A warning naming the rows whose customer is in none of the runs ``keys`` (None: every
    customer is in one, or no run is recorded). Each run's ids are read from its values block,
    the id column alone."""
    if not keys:
        return None
    ids = pa.array(frame["customer_id"].to_numpy(), type=pa.string())
    distinct = pc.unique(ids)
    seen = np.zeros(len(distinct), dtype=bool)
    blocks = values_table(MetaData())
    options = ipc.IpcReadOptions(included_fields=[0])  # customer_id
    with store.reading() as conn:
        for run, fmt, data in conn.execute(select(blocks.c.run, blocks.c.format, blocks.c.data)
                                           .where(blocks.c.run.in_(keys))):
            block_format.check("values", int(run), int(fmt), (VALUES_FORMAT,))
            run_ids = ipc.open_stream(pa.py_buffer(bytes(data)), options=options).read_all()
            seen |= np.asarray(pc.is_in(distinct, value_set=run_ids.column(0).combine_chunks())
                               .to_numpy(zero_copy_only=False), dtype=bool)
    if seen.all():
        return None
    missing = pc.filter(distinct, pa.array(~seen))
    rows = np.asarray(pc.is_in(ids, value_set=missing).to_numpy(zero_copy_only=False),
                      dtype=bool)
    names = [str(v) for v in missing.slice(0, SHOWN_IDS).to_pylist()]
    shown = ", ".join(names) + (f" and {len(missing) - SHOWN_IDS:,} more"
                                if len(missing) > SHOWN_IDS else "")
    count = int(rows.sum())
    return row_problem(
        path, display, int(np.argmax(rows)), "customer_id",
        f"{count:,} row{'s' if count > 1 else ''} name{'' if count > 1 else 's'} a customer "
        f"in no recorded run ({shown}): kept",
        "a response counts once a run holds its customer (contact policies, last_outcome), "
        "and in cvm measure only for the runs that assigned the customer to the campaign; "
        "check the ids if they should match the transactions'", severity="warning")
