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

import datetime as dt
import itertools
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from engine.activation import money
from engine.data.load import EPOCH, Transactions
from engine.decimals import figure
from engine.history import measured
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
from engine.history.uplift import MIN_GROUP, uplift
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
    ("revenue_uplift", "Revenue uplift per customer, CUPED-adjusted with the pre-run margin."),
    ("revenue_low", "Lower end of its 95% interval."),
    ("revenue_high", "Upper end of its 95% interval."),
    ("margin_treated", "Margin per treated customer in the window."),
    ("margin_holdout", "Margin per holdout customer in the window."),
    ("margin_uplift", "Margin uplift per customer, CUPED-adjusted with the pre-run margin."),
    ("margin_low", "Lower end of its 95% interval."),
    ("margin_high", "Upper end of its 95% interval."),
    ("cuped_theta", "The margin's CUPED coefficient (0: no adjustment)."),
    ("mde", "Minimum detectable margin uplift per customer (80% power, 5% level)."),
    ("incremental_margin", "margin_uplift x treated."),
    ("incremental_revenue", "revenue_uplift x treated."),
    ("cost", "Contact cost of the treated."),
    ("return_on_spend", "incremental_margin / cost (empty without a cost, and while too "
                        "early to tell)."),
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
            days = m.window(run_key, campaign, setup)  # the run's own
            yield (run_key, run_id, str(as_of), campaign, days, m, rows,
                   answers.get(campaign, m.answers.iloc[:0]), tx, day0, end_day, cache)

    out: list[dict[str, Any]] = []
    per_run = (list(run) for _, run in itertools.groupby(jobs(), key=lambda job: job[0]))
    current = next(per_run, None)
    with ThreadPoolExecutor(max_workers=1) as pool:
        while current is not None:
            following = next(per_run, None)
            # the windows of the runs done forgotten first: their memory is reused for the
            # next run's, made on the second core while this run's groups are measured (fresh
            # pages cost more than the sums on this machine)
            _forget_but(cache, _needs(current))
            later = pool.submit(_windows, tx, cache, _needs(following)) \
                if following is not None and PIPELINE else None
            out += _costs_shown([_row(*job) for job in current])
            if later is not None:
                cache.update(later.result())
            current = following
    table = pd.DataFrame(out, columns=list(NAMES))
    table.attrs["warnings"] = [row[WARNING] for row in out if WARNING in row]
    # the runs recorded before the history kept their windows (0011_windows): today's
    table.attrs["today_s_windows"] = sorted({int(r) for r in table["run"]} - set(m.windows))
    return table


PIPELINE = True  # the next run's window sums made while a run is measured


def _needs(jobs: list[tuple[Any, ...]]) -> list[tuple[int, int, str]]:
    """The window sums a run's groups ask for (``outcomes``: after the run, purchases,
    revenue and margin; before it, margin), in a fixed order."""
    keys: set[tuple[int, int, str]] = set()
    for job in jobs:
        days, day0 = job[4], job[9]
        keys.update((day0, day0 + days, name) for name in WHAT)
        keys.add((day0 - days, day0, "margin"))
    return sorted(keys)


def _windows(tx: Transactions, cache: Sums, keys: list[tuple[int, int, str]]
             ) -> dict[tuple[int, int, str], np.ndarray]:
    """The window sums ``keys`` not in ``cache`` yet, made apart (``cache`` only read)."""
    return {k: measured.per_customer(tx, *k, cache) for k in keys if k not in cache}


def _forget_but(cache: Sums, kept: list[tuple[int, int, str]]) -> None:
    """Forget the oldest window sums past measured.KEEP, those in ``kept`` aside."""
    keep = set(kept)
    windows = [k for k in cache if k[0] <= k[1] and k not in keep]
    for k in windows[:max(len(windows) + len(keep) - measured.KEEP, 0)]:
        del cache[k]


def expected_windows(store: Store, setup: ChannelSetup) -> list[tuple[int, int, tuple[str, ...]]]:
    """The window sums measure will ask for, made while the history is read (the second core
    reads, this one sums): per run looked back on (oldest first) and attribution window of
    the campaigns declared (and the defaults'), the window after the run (purchases, revenue,
    margin) and the one before it (margin). Read apart from the runs measured, it is a guess:
    a window it misses is made when asked for, one it adds costs its sums only. The first
    AHEAD (run, window) pairs only: the later runs' windows are made while the run before is
    measured (``measure``), in the memory of the windows forgotten (fresh pages cost)."""
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


AHEAD = 1  # (run, window length) pairs whose windows are made while reading: the first run's


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
    # the revenue's uplift, with the same pre-run covariate (CUPED needs only a figure from
    # before the run: the margin predicts the revenue as it predicts the margin)
    rev = uplift(revenue[t], revenue[h], before[t], before[h])
    cost = money.units(m.cost[rows[t]])  # exact (ten-thousandths): shown by _costs_shown
    incremental = marg.uplift * n_t
    verdict, significant = judge(marg, n_t, n_h, day0, days, end_day)

    def r(v: float, k: int = 4) -> float | None:
        return figure(v, k) if math.isfinite(v) else None

    row = {
        "run": run, "run_id": run_id, "as_of": as_of, "campaign": campaign,
        "window_days": days, "treated": n_t,
        "contacted": int(np.count_nonzero(m.allocated[rows])), "holdout": n_h,
        "conversion_treated": r(conv.treated_mean), "conversion_holdout": r(conv.holdout_mean),
        "conversion_uplift": r(conv.uplift), "conversion_low": r(conv.low),
        "conversion_high": r(conv.high),
        "revenue_treated": r(float(revenue[t].mean()) if n_t else math.nan, 2),
        "revenue_holdout": r(float(revenue[h].mean()) if n_h else math.nan, 2),
        "revenue_uplift": r(rev.uplift, 2), "revenue_low": r(rev.low, 2),
        "revenue_high": r(rev.high, 2),
        "margin_treated": r(float(margin[t].mean()) if n_t else math.nan, 2),
        "margin_holdout": r(float(margin[h].mean()) if n_h else math.nan, 2),
        "margin_uplift": r(marg.uplift, 2), "margin_low": r(marg.low, 2),
        "margin_high": r(marg.high, 2), "cuped_theta": r(marg.theta),
        "mde": r(marg.mde, 2), "incremental_margin": r(incremental, 2),
        "incremental_revenue": r(rev.uplift * n_t, 2),
        "cost": cost,
        # none while too early (as ``significant``): 0.00 read as a campaign that earned nothing
        "return_on_spend": r(incremental / (cost / money.SCALE))
        if cost > 0 and significant is not None else None,
        "significant": significant, "verdict": verdict,
    }
    if len(answers) and n_h:  # imported conversions of the treated only
        alone = measured.by_response_alone(m, rows, answers, tx, day0, days, cache)
        if alone[t].any() and not measured.responded(m, rows[h], answers, tx, day0,
                                                    days).any():
            row[WARNING] = one_sided(run, as_of, campaign, int(alone[t].sum()))
    return row if day0 < end_day else _unobserved(row, answers, day0, days, end_day)


WARNING = "_warning"  # a row's warning (engine.commands.measure says it), not a column


def one_sided(run: int, as_of: str, campaign: str, alone: int) -> str:
    """The warning of a campaign whose imported conversions name treated customers only."""
    return (f"run {run} ({as_of}), campaign {campaign}: {alone:,} of the treated converted by "
            "an imported response alone (no purchase in the window), and no response of the "
            "holdout is imported: if the responses come from a tool that knows "
            "only the customers it contacted, conversion_uplift counts them against nothing "
            "(margin_uplift and revenue_uplift are measured from the transactions alike for "
            "both groups)")


# what no day of the window in the transactions can say: empty, not 0 (read as a campaign
# that earned nothing); the conversions stay when imported responses fall in the window
SPEND = ("revenue_treated", "revenue_holdout", "revenue_uplift", "revenue_low", "revenue_high",
         "margin_treated", "margin_holdout", "margin_uplift", "margin_low", "margin_high",
         "cuped_theta", "mde", "incremental_margin", "incremental_revenue", "return_on_spend",
         "significant")
CONVERSION = ("conversion_treated", "conversion_holdout", "conversion_uplift",
              "conversion_low", "conversion_high")


def _unobserved(row: dict[str, Any], answers: pd.DataFrame, day0: int, days: int,
                end_day: int) -> dict[str, Any]:
    """A run whose window starts after the last transaction: no revenue or margin is
    measured; the conversions only from the responses imported for the window, if any."""
    day = answers["day"].to_numpy()
    imported = bool(((day >= day0) & (day < day0 + days)).any())
    blank = SPEND if imported else SPEND + CONVERSION
    last = EPOCH + dt.timedelta(days=end_day - 1)
    what = "only the imported conversions are measured" if imported else \
        "nothing is measured yet"
    few = min(int(row["treated"]), int(row["holdout"])) < MIN_GROUP
    return {**row, **dict.fromkeys(blank),
            "verdict": f"too early to tell: the window starts {row['as_of']}, after the last "
                       f"transaction ({last}): {what}"
                       + (f"; fewer than {MIN_GROUP} customers in a group" if few else "")}


def _costs_shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One run's rows with their cost shown as the run's allocation summary shows its
    campaigns' (engine.run.pipeline.allocation_summary): each campaign's exact sum rounded
    once, so that measure.csv and the summary agree to the cent (the treated's cost is the
    allocated contacts' cost: no other row costs anything)."""
    for row in rows:
        row["cost"] = money.amount(int(row["cost"]))
    return rows


def treated_first(m: Measured, rows: np.ndarray) -> tuple[np.ndarray, int]:
    """A group's rows as the treated (outside the holdout) then the holdout, each in the order
    recorded, and how many are treated: one stable partition of the group."""
    held = m.holdout[rows]
    n_held = int(np.count_nonzero(held))
    if n_held == 0 or n_held == len(rows):
        return rows, len(rows) - n_held
    # each side picked by its mask, in the recorded order (what a stable sort of the flag
    # gives, without the sort's index array)
    return np.concatenate([rows[~held], rows[held]]), len(rows) - n_held
