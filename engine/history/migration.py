"""The tier migration matrix of ``cvm report``: the latest run of the newest as-of date
against the run it looked back on (engine.history.lookback: the latest run dated before its
as-of date), the comparison its own value-change attributes made (previous_tier,
tier_change). Not the run recorded before it: after a run re-made on the same as-of date that
is the run it replaced; nor the last recorded: an older date re-made after a newer run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select

from engine.history.lookback import looked_back
from engine.history.store import Store
from engine.history.tables import runs
from engine.history.values import read_values

NEW = "not in the earlier run"
GONE = "not in the later run"


@dataclass(frozen=True)
class TierMigration:
    """counts[i][j]: customers in tier rows[i] in the earlier run and columns[j] in the later.
    ``before`` None: the latest run looked back on no run (none dated before its as-of date);
    then rows, columns and counts are empty."""

    before: str | None  # "run 3 as of 2025-10-01"
    after: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]


def tier_migration(store: Store, tiers: Sequence[str]) -> TierMigration | None:
    """None with fewer than two runs recorded."""
    with store.reading() as conn:
        if conn.execute(select(func.count()).select_from(runs)).scalar_one() < 2:
            return None
        # the newest as-of date's latest run: a date re-made after a newer run is not it
        after, after_as_of = conn.execute(select(runs.c.id, runs.c.as_of).order_by(
            runs.c.as_of.desc(), runs.c.id.desc()).limit(1)).one()
        # what that run looked back on: a date re-made after it is not its comparison
        earlier = conn.execute(looked_back(_date(after_as_of),
                                           recorded_before=after)).all()
        label = f"run {after} as of {str(after_as_of)[:10]}"
        if not earlier:
            return TierMigration(None, label, (), (), ())
        before, before_as_of = earlier[-1]
        # each run's tiers from its values block (engine.history.values), not row by row
        frames = [read_values(conn, int(key)).select(["customer_id", "value_tier"]).to_pandas()
                  .set_axis(["customer_id", "tier"], axis=1) for key in (before, after)]
    both = frames[0].merge(frames[1], on="customer_id", how="outer", suffixes=("_0", "_1"))
    known = list(tiers)
    seen = set(both["tier_0"].dropna()) | set(both["tier_1"].dropna())
    names = known + sorted(seen - set(known))  # tiers renamed since: listed after
    table = pd.crosstab(both["tier_0"].fillna(NEW), both["tier_1"].fillna(GONE))
    rows = [t for t in [*names, NEW] if t in table.index]
    columns = [t for t in [*names, GONE] if t in table.columns]
    table = table.reindex(index=rows, columns=columns, fill_value=0)
    return TierMigration(f"run {before} as of {str(before_as_of)[:10]}", label,
                         tuple(rows), tuple(columns),
                         tuple(tuple(int(x) for x in r) for r in table.to_numpy()))


def _date(value: object) -> dt.date:
    """The as-of date as a date (SQLite may give text back)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
