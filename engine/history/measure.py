"""What each campaign of each recorded run earned against its holdout (README "Measuring
campaigns: `cvm measure`").

Per run (the latest recorded per as-of date, as for contacts) and campaign: the treated group
is everyone assigned to the campaign outside its holdout, contacted or not (intention to
treat); the holdout group its holdout. Over the campaign's attribution window after the run
(``attribution_days``: days as_of .. as_of + days - 1) each customer has a conversion (a
purchase in the transactions, or an imported response ``converted`` for the campaign, in the
window), revenue and margin (the transactions'); the margin over the same number of days
before the run is the CUPED covariate. Figures come from engine.history.uplift.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from engine.data.load import EPOCH, Transactions
from engine.history.measure_verdict import judge
from engine.history.measured import Measured, Sums, by_campaign, groups, outcomes, read_with_days
from engine.history.store import Store
from engine.history.uplift import uplift
from engine.project.channels import ChannelSetup

# name, description: the columns of measure.csv, declared once
COLUMNS: tuple[tuple[str, str], ...] = (
    ("run", "The run's number in the history."),
    ("run_id", "The run's id."),
    ("as_of", "The run's as-of date."),
    ("campaign", "The campaign."),
    ("window_days", "The attribution window (days after the run)."),
    ("treated", "Customers assigned outside the holdout (contacted or not)."),
    ("contacted", "Of them, customers allocated a channel."),
    ("holdout", "Customers in the holdout."),
    ("conversion_treated", "Share of the treated who converted in the window."),
    ("conversion_holdout", "Share of the holdout who converted in the window."),
    ("conversion_uplift", "conversion_treated - conversion_holdout."),
    ("conversion_low", "Lower end of its 95% interval."),
    ("conversion_high", "Upper end of its 95% interval."),
    ("revenue_treated", "Revenue per treated customer in the window."),
    ("revenue_holdout", "Revenue per holdout customer in the window."),
    ("margin_treated", "Margin per treated customer in the window."),
    ("margin_holdout", "Margin per holdout customer in the window."),
    ("margin_uplift", "Margin uplift per customer, CUPED-adjusted with the pre-run margin."),
    ("margin_low", "Lower end of its 95% interval."),
    ("margin_high", "Upper end of its 95% interval."),
    ("cuped_theta", "The CUPED coefficient (0: no adjustment)."),
    ("mde", "Minimum detectable margin uplift per customer (80% power, 5% level)."),
    ("incremental_margin", "margin_uplift x treated."),
    ("cost", "Contact cost of the treated."),
    ("return_on_spend", "incremental_margin / cost (empty without a cost)."),
    ("significant", "True when the margin interval excludes 0, False when it holds 0; empty "
                    "(not judged) while the verdict is too early to tell."),
    ("verdict", "significant, not significant, or too early to tell (and why)."),
)
NAMES = tuple(c[0] for c in COLUMNS)


def measure(store: Store, tx: Transactions, setup: ChannelSetup) -> pd.DataFrame:
    """One row per run and campaign (columns: NAMES), in run then campaign order."""
    cache: Sums = {}
    m = read_with_days(store, tx, cache, ("bought", "code", "amount", "margin"))
    out = []
    end_day = tx.as_of_day  # the transactions run to the day before
    about = {run: (run_id, as_of) for run, run_id, as_of in m.runs}
    answers = by_campaign(m.answers)
    for run_key, campaign, rows in groups(m):
        run_id, as_of = about[run_key]
        day0 = (pd.Timestamp(str(as_of)).date() - EPOCH).days
        days = setup.campaign(campaign).attribution_days
        out.append(_row(run_key, run_id, str(as_of), campaign, days, m, rows,
                        answers.get(campaign, m.answers.iloc[:0]), tx, day0, end_day, cache))
    return pd.DataFrame(out, columns=list(NAMES))


def _row(run: int, run_id: str, as_of: str, campaign: str, days: int, m: Measured,
         rows: np.ndarray, answers: pd.DataFrame, tx: Transactions, day0: int, end_day: int,
         cache: Sums) -> dict[str, Any]:
    converted, revenue, margin, before = outcomes(m, rows, answers, tx, day0, days, cache)
    held = m.holdout[rows]
    t, h = ~held, held
    conv = uplift(converted[t], converted[h])
    marg = uplift(margin[t], margin[h], before[t], before[h])
    cost = float(m.cost[rows][t].sum())
    incremental = marg.uplift * int(t.sum())
    verdict, significant = judge(marg, int(t.sum()), int(h.sum()), day0, days, end_day)

    def r(v: float, k: int = 4) -> float | None:
        return round(v, k) if math.isfinite(v) else None

    return {
        "run": run, "run_id": run_id, "as_of": as_of, "campaign": campaign,
        "window_days": days, "treated": int(t.sum()),
        "contacted": int(m.allocated[rows].sum()), "holdout": int(h.sum()),
        "conversion_treated": r(conv.treated_mean), "conversion_holdout": r(conv.holdout_mean),
        "conversion_uplift": r(conv.uplift), "conversion_low": r(conv.low),
        "conversion_high": r(conv.high),
        "revenue_treated": r(float(revenue[t].mean()) if t.any() else math.nan, 2),
        "revenue_holdout": r(float(revenue[h].mean()) if h.any() else math.nan, 2),
        "margin_treated": r(float(margin[t].mean()) if t.any() else math.nan, 2),
        "margin_holdout": r(float(margin[h].mean()) if h.any() else math.nan, 2),
        "margin_uplift": r(marg.uplift, 2), "margin_low": r(marg.low, 2),
        "margin_high": r(marg.high, 2), "cuped_theta": r(marg.theta),
        "mde": r(marg.mde, 2), "incremental_margin": r(incremental, 2),
        "cost": round(cost, 2),
        "return_on_spend": r(incremental / cost) if cost > 0 else None,
        "significant": significant, "verdict": verdict,
    }
