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

import itertools
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from engine.data.load import EPOCH, Transactions
from engine.history.changes import fetch
from engine.history.lookback import looked_back
from engine.history.measure_verdict import judge
from engine.history.measured import (
    WHAT,
    Measured,
    Sums,
    by_campaign,
    groups,
    outcomes,
    read_with_days,
)
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
    m = read_with_days(store, tx, cache, ("bought", "code", "amount", "margin"),
                       ahead=expected_windows(store, setup))
    end_day = tx.as_of_day  # the transactions run to the day before
    about = {run: (run_id, as_of) for run, run_id, as_of in m.runs}
    answers = by_campaign(m.answers)

    def jobs() -> Iterator[tuple[Any, ...]]:
        for run_key, campaign, rows in groups(m):
            run_id, as_of = about[run_key]
            day0 = (pd.Timestamp(str(as_of)).date() - EPOCH).days
            days = setup.campaign(campaign).attribution_days
            yield (run_key, run_id, str(as_of), campaign, days, m, rows,
                   answers.get(campaign, m.answers.iloc[:0]), tx, day0, end_day, cache)

    out: list[dict[str, Any]] = []
    pending = jobs()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        while batch := list(itertools.islice(pending, THREADS)):
            # groups whose window sums are all made (guessed) only read the cache: a group
            # per core (numpy's gathers and sums run without Python's lock), each row the
            # same; a group that may make (and forget) a window sum runs alone
            if len(batch) > 1 and all(_made(cache, job[9], job[4]) for job in batch):
                out += pool.map(lambda job: _row(*job), batch)
            else:
                out += [_row(*job) for job in batch]
    return pd.DataFrame(out, columns=list(NAMES))


THREADS = 2  # groups measured at a time once their window sums are made


def _made(cache: Sums, day0: int, days: int) -> bool:
    """Whether every window sum a group of a run as of ``day0`` asks for is in ``cache``."""
    return all((day0, day0 + days, name) in cache for name in WHAT) \
        and (day0 - days, day0, "margin") in cache


def expected_windows(store: Store, setup: ChannelSetup) -> list[tuple[int, int, tuple[str, ...]]]:
    """The window sums measure will ask for, made while the history is read (the second core
    reads, this one sums): per run looked back on (oldest first) and attribution window of
    the campaigns declared (and the defaults'), the window after the run (purchases, revenue,
    margin) and the one before it (margin). Read apart from the runs measured, it is a guess:
    a window it misses is made when asked for, one it adds costs its sums only. At most
    AHEAD (run, window) pairs: each window's sums are kept (8 bytes a customer and figure)
    until measure ends or needs room for one not guessed."""
    days = sorted({setup.defaults.attribution_days,
                   *(c.attribution_days for c in setup.campaigns.values())})
    with store.reading() as conn:
        dates = [as_of for _, as_of in fetch(conn, looked_back(None))]
    out: list[tuple[int, int, tuple[str, ...]]] = []
    for as_of in dates:
        day0 = (pd.Timestamp(str(as_of)).date() - EPOCH).days
        for d in days:
            out.append((day0, day0 + d, WHAT))
            out.append((day0 - d, day0, ("margin",)))
    return out[:2 * AHEAD]


AHEAD = 16  # (run, window length) pairs whose windows are made while reading: 64 sums at most


def _row(run: int, run_id: str, as_of: str, campaign: str, days: int, m: Measured,
         rows: np.ndarray, answers: pd.DataFrame, tx: Transactions, day0: int, end_day: int,
         cache: Sums) -> dict[str, Any]:
    rows, n_t = treated_first(m, rows)
    converted, revenue, margin, before = outcomes(m, rows, answers, tx, day0, days, cache)
    # the group's rows are the treated then the holdout (each as recorded): every figure of
    # either is a slice (a view), not a subset copied by a mask, as the same values in the same
    # order (the same sums)
    t, h = slice(0, n_t), slice(n_t, len(rows))
    n_h = len(rows) - n_t
    conv = uplift(converted[t], converted[h])
    marg = uplift(margin[t], margin[h], before[t], before[h])
    cost = float(m.cost[rows[t]].sum())
    incremental = marg.uplift * n_t
    verdict, significant = judge(marg, n_t, n_h, day0, days, end_day)

    def r(v: float, k: int = 4) -> float | None:
        return round(v, k) if math.isfinite(v) else None

    return {
        "run": run, "run_id": run_id, "as_of": as_of, "campaign": campaign,
        "window_days": days, "treated": n_t,
        "contacted": int(np.count_nonzero(m.allocated[rows])), "holdout": n_h,
        "conversion_treated": r(conv.treated_mean), "conversion_holdout": r(conv.holdout_mean),
        "conversion_uplift": r(conv.uplift), "conversion_low": r(conv.low),
        "conversion_high": r(conv.high),
        "revenue_treated": r(float(revenue[t].mean()) if n_t else math.nan, 2),
        "revenue_holdout": r(float(revenue[h].mean()) if n_h else math.nan, 2),
        "margin_treated": r(float(margin[t].mean()) if n_t else math.nan, 2),
        "margin_holdout": r(float(margin[h].mean()) if n_h else math.nan, 2),
        "margin_uplift": r(marg.uplift, 2), "margin_low": r(marg.low, 2),
        "margin_high": r(marg.high, 2), "cuped_theta": r(marg.theta),
        "mde": r(marg.mde, 2), "incremental_margin": r(incremental, 2),
        "cost": round(cost, 2),
        "return_on_spend": r(incremental / cost) if cost > 0 else None,
        "significant": significant, "verdict": verdict,
    }


def treated_first(m: Measured, rows: np.ndarray) -> tuple[np.ndarray, int]:
    """A group's rows as the treated (outside the holdout) then the holdout, each in the order
    recorded, and how many are treated: one stable partition of the group."""
    held = m.holdout[rows]
    n_held = int(np.count_nonzero(held))
    if n_held == 0 or n_held == len(rows):
        return rows, len(rows) - n_held
    # a stable sort of one byte a row (a radix sort): each side keeps the recorded order
    return rows[np.argsort(held.view(np.uint8), kind="stable")], len(rows) - n_held
