"""The tier migration matrix between the last two recorded runs, for ``cvm report``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select

from engine.history.store import Store
from engine.history.tables import runs
from engine.history.values import read_values

NEW = "not in the earlier run"
GONE = "not in the later run"


@dataclass(frozen=True)
class TierMigration:
    """counts[i][j]: customers in tier rows[i] in the earlier run and columns[j] in the later."""

    before: str  # "run 3 as of 2025-10-01"
    after: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]


def tier_migration(store: Store, tiers: Sequence[str]) -> TierMigration | None:
    """None with fewer than two runs recorded."""
    with store.reading() as conn:
        last = conn.execute(select(runs.c.id, runs.c.as_of).order_by(runs.c.id.desc())
                            .limit(2)).all()
        if len(last) < 2:
            return None
        (after, after_as_of), (before, before_as_of) = last
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
    return TierMigration(f"run {before} as of {before_as_of}", f"run {after} as of {after_as_of}",
                         tuple(rows), tuple(columns),
                         tuple(tuple(int(x) for x in r) for r in table.to_numpy()))
