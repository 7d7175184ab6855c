"""The report's figures from the probabilistic model: model equity by tier and by lifecycle stage
with intervals, and the reconciliation of the model's total with the formula's equity KPI.

A segment's interval is that of its sum, from the same delta method as the total's
(``ClvIntervals.segments``), never the sum of its customers' bounds: the customers share the
parameters' errors, so their bounds are not independent, and adding them double counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.data.load import Transactions
from engine.decimals import from_cents, percent, units
from engine.project.config import Config
from engine.report import charts as ch
from engine.report.equity import EquitySettings, equity_customers
from engine.report.sections import Stages
from engine.value.clv_models import ModelFit
from engine.value.score import Scored


@dataclass(frozen=True)
class SegmentEquity:
    """One segment's model equity (sum of clv_model) and its interval."""

    name: str
    customers: int
    equity: float
    lower: float
    upper: float


def segment_equity(model: ModelFit, labels: Sequence[object] | np.ndarray,
                   names: Sequence[str]) -> list[SegmentEquity]:
    """Per name (a tier, a stage), the model equity of the customers labelled so and its
    interval; ``labels``: one per value-table row, in its order. Empty without a model."""
    if not model.used or model.intervals is None:
        return []
    found = pd.Index(list(names)).get_indexer(np.asarray(labels, dtype=object).astype(str))
    group = np.where(found < 0, len(names), found).astype(np.intp)  # -1: in no named one
    bounds = model.intervals.segments(group, len(names) + 1)
    counts = np.bincount(group, minlength=len(names) + 1)
    return [SegmentEquity(name, int(counts[k]), float(bounds.estimate[k]),
                          float(bounds.lower[k]), float(bounds.upper[k]))
            for k, name in enumerate(names)]


@dataclass(frozen=True)
class Reconciliation:
    """The formula's customer equity at the as-of date beside the model's total."""

    formula: float  # the KPI: the last month's customer_equity (NaN when r is not measured)
    counted: SegmentEquity  # the model on the customers the formula sums over
    others: SegmentEquity  # the model on everyone else in the value table
    total: tuple[float, float, float]  # the model's total and its interval

    @property
    def difference(self) -> float:
        return self.total[0] - self.formula


def reconcile(model: ModelFit, table: pd.DataFrame, tx: Transactions, counted: np.ndarray,
              formula: float) -> Reconciliation | None:
    """Split the model's total over the customers the formula's equity counts (``counted``:
    per customer code) and the rest, so the two totals can be compared on the same customers.
    None without a model."""
    if not model.used or model.intervals is None or model.equity is None:
        return None
    codes = pd.Index(tx.customer_ids).get_indexer(table["customer_id"].to_numpy())
    inside = counted[codes]
    same, rest = segment_equity(model, np.where(inside, "counted", "other"),
                                ("counted", "other"))
    return Reconciliation(formula, same, rest, model.equity)


def reconciliation_rows(rec: Reconciliation) -> list[list[str]]:
    """The table of the page: measure, customers, equity, interval."""
    def money(v: float) -> str:
        return "" if v != v else units(v)

    def between(s: SegmentEquity | tuple[float, float, float]) -> str:
        lo, hi = (s.lower, s.upper) if isinstance(s, SegmentEquity) else s[1:]
        return f"{money(lo)} to {money(hi)}"

    # each figure as shown (to the unit, as its cents read), the others' the total's less the
    # same customers', so that the rows and the difference's parts add up as shown
    n = rec.counted.customers + rec.others.customers
    formula, same, total = (from_cents(v) for v in (rec.formula, rec.counted.equity,
                                                     rec.total[0]))
    others = total - same
    return [
        ["Formula (the customer equity KPI)", f"{rec.counted.customers:,}", money(formula), ""],
        ["Model, the same customers", f"{rec.counted.customers:,}", money(same),
         between(rec.counted)],
        ["Model, every other customer", f"{rec.others.customers:,}", money(others),
         between(rec.others)],
        ["Model total (sum of clv_model)", f"{n:,}", money(total), between(rec.total)],
        ["Difference: model total - formula", "",
         ("" if formula != formula else ch.signed(total - formula, "+,.0f")),
         ("" if formula != formula else
          f"{ch.signed(same - formula, '+,.0f')} on the same customers, "
          f"{ch.signed(others, '+,.0f')} from the others")],
    ]


def segment_rows(rows: list[SegmentEquity]) -> list[list[str]]:
    return [[s.name, f"{s.customers:,}", units(s.equity), f"{units(s.lower)} to {units(s.upper)}"]
            for s in rows]


def differ_text(rec: Reconciliation, r: float, d: float, horizon: int, bought: str) -> str:
    """Why the two measures differ on the same customers, in the formula's own unit: each
    customer's margin per period m, which the formula multiplies by r / (1 + d - r)."""
    if rec.formula != rec.formula or rec.formula <= 0 or not 0 < r < 1 + d:
        return ""
    times = r / (1.0 + d - r)
    margin = rec.formula / times  # the sum of m over the customers the formula counts
    model = rec.counted.equity / margin
    n = rec.counted.customers
    return (f"On the same {n:,} customer{'s' if n != 1 else ''} the model gives "
            f"{rec.counted.equity / rec.formula:.2f} times the formula. The formula values each "
            f"at r / (1 + d \u2212 r) = {times:.2f} times their margin per active period (r = "
            f"{percent(r)}, "
            "the share of the customers active a period before who are active again, the same "
            f"for everyone, and no end); the model expects of them {model:.2f} times that margin "
            f"within {horizon} periods, each customer's from their own {bought}.")


def model_context(scored: Scored, tx: Transactions, stages: Stages, figures: pd.DataFrame,
                  settings: EquitySettings, config: Config) -> dict[str, Any]:
    """The page's model tables: equity by tier and by stage with intervals, and the
    reconciliation with the formula's equity and why they differ (all empty when the
    formulas were used)."""
    model, table = scored.model, scored.table
    rec = None if not model.used or model.intervals is None else reconcile(
        model, table, tx, equity_customers(tx, settings.active_window_days),
        float(figures["customer_equity"].iloc[-1]))
    if rec is None:
        return {"model_tiers": [], "model_stages": [], "reconciliation": [],
                "interval_level": "", "equities_differ": ""}
    stage_rows = [] if stages.stage_now is None else segment_rows(
        segment_equity(model, stages.stage_now.to_numpy(), stages.names))
    return {"model_tiers": segment_rows(segment_equity(model, table["value_tier"].to_numpy(),
                                                       scored.tiers.names)),
            "model_stages": stage_rows, "reconciliation": reconciliation_rows(rec),
            "interval_level": f"{model.interval_level:.0%}",
            "equities_differ": differ_text(
                rec, float(figures["retention_rate"].iloc[-1]), settings.discount_rate_per_period,
                config.horizon_periods, "payments" if config.subscriptions else "purchases")}
