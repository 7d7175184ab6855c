"""The report's view of ``cvm measure``: each campaign of each recorded run against its
holdout, or None (no history, or no campaign recorded). Never creates a history."""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

from engine.data.load import load_transactions
from engine.errors import InputError
from engine.history import open_history
from engine.history.measure import measure
from engine.history.measure_verdict import interval_text

if TYPE_CHECKING:
    import pandas as pd

    from engine.project.project import Project

HEAD = ["run (as of)", "campaign", "treated / holdout", "conversion uplift",
        "margin uplift per customer (95% interval)", "incremental margin (cost)",
        "incremental revenue",
        "return on spend", "verdict"]


def report_measure(project: Project) -> dict[str, Any] | None:
    """The section (None: nothing measured). The channels are the project's (the report
    reads them if it can: their problems are said here, when a history needs them)."""
    config = project.config
    store = open_history(config, create=False)
    if store is None:
        return None
    try:
        if project.deferred:
            raise InputError(list(project.deferred))
        setup = project.channels
        # every transaction: the results lie after the runs' as-of dates
        table = measure(store, load_transactions(dataclasses.replace(config, as_of=None)),
                        setup)
    finally:
        store.close()
    return measure_rows(table)


def measure_rows(table: pd.DataFrame) -> dict[str, Any] | None:
    """The section's head and rows, as the report shows them (None: no campaign)."""
    if table.empty:
        return None

    def num(v: Any, fmt: str) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "-"
        text = fmt.format(v)  # a value shown as zero reads 0 or +0, never -0
        if text.startswith("-") and not any(c in "123456789" for c in text):
            text = ("+" if "{:+" in fmt else "") + text[1:]
        return text

    rows = [[f"{r.run} ({r.as_of})", str(r.campaign), f"{r.treated:,} / {r.holdout:,}",
             num(None if r.conversion_uplift is None else 100 * r.conversion_uplift,
                 "{:+.2f} pt"),
             interval_text(_num(r.margin_uplift), _num(r.margin_low), _num(r.margin_high),
                           r.treated, r.holdout, " to "),
             num(r.incremental_margin, "{:,.2f}") + f" ({r.cost:,.2f})",
             num(r.incremental_revenue, "{:,.2f}"),
             num(r.return_on_spend, "{:,.2f}"), str(r.verdict)]
            for r in table.itertuples(index=False)]
    return {"head": HEAD, "rows": rows}


def _num(v: Any) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
