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
import math
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from engine.data.load import EPOCH, Transactions
from engine.history.changes import columns, fetch
from engine.history.columnar import read_actions
from engine.history.store import Store
from engine.history.tables import responses, run_actions, runs
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
    ("significant", "True when the margin interval excludes 0."),
    ("verdict", "significant, not significant, or too early to tell (and why)."),
)
NAMES = tuple(c[0] for c in COLUMNS)


def measure(store: Store, tx: Transactions, setup: ChannelSetup) -> pd.DataFrame:
    """One row per run and campaign (columns: NAMES), in run then campaign order."""
    meta, snap, got = read_measured(store, tx)
    out = []
    cache: Sums = {}
    end_day = tx.as_of_day  # the transactions run to the day before
    about = {run: (run_id, as_of) for run, run_id, as_of in meta}
    answers = by_campaign(got)
    for (run_key, campaign), group in groups(snap):
        run_id, as_of = about[run_key]
        day0 = (pd.Timestamp(str(as_of)).date() - EPOCH).days
        days = setup.campaign(campaign).attribution_days
        out.append(_row(run_key, run_id, str(as_of), campaign, days, group,
                        answers.get(campaign, got.iloc[:0]), tx, day0, end_day, cache))
    return pd.DataFrame(out, columns=list(NAMES))


def groups(snap: pd.DataFrame) -> list[tuple[tuple[int, str], pd.DataFrame]]:
    """The actioned customers per (run, campaign), in run then campaign order: one pass."""
    return [((int(r), str(k)), g) for (r, k), g in snap.groupby(["run", "campaign"],
                                                                 sort=True, observed=True)]


def by_campaign(got: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {str(k): g for k, g in got.groupby("campaign", sort=False)}


def read_measured(store: Store, tx: Transactions, *, before: dt.date | None = None
                  ) -> tuple[list[tuple[int, str, object]], pd.DataFrame, pd.DataFrame]:
    """The runs measured (the latest per as-of date; only those dated before ``before`` if
    given) as (run, run_id, as_of) in run order; their actioned customers (run, code: the
    customer's code in ``tx``, -1 if none, customer_id: only where the code is -1, campaign,
    channel, holdout, status, cost); the imported conversions (customer_id, campaign, date,
    day, code)."""
    with store.reading() as conn:
        latest = select(func.max(runs.c.id), runs.c.as_of)
        if before is not None:
            latest = latest.where(runs.c.as_of < before)
        chosen = fetch(conn, latest.group_by(runs.c.as_of))
        keys = sorted(int(r) for r, _ in chosen)
        meta = fetch(conn, select(runs.c.id, runs.c.run_id, runs.c.as_of)
                     .where(runs.c.id.in_(keys))) if keys else []
        snap = read_actions(conn, run_actions, keys, codes_in=tx.id_array)
        answers = fetch(conn, select(responses.c.customer_id, responses.c.campaign,
                                     responses.c.response_date)
                        .where(responses.c.outcome == "converted"))
    got = columns(answers, ["customer_id", "campaign", "date"]).astype(
        {"customer_id": object, "campaign": object})
    got["day"] = (pd.to_datetime(got["date"]) - pd.Timestamp(EPOCH)).dt.days
    got["code"] = pd.Index(tx.customer_ids).get_indexer(got["customer_id"].to_numpy(dtype=object))
    return sorted((int(r), str(i), a) for r, i, a in meta), snap, got


Sums = dict[tuple[int, int], tuple[np.ndarray, ...]]


def _sums(tx: Transactions, codes: np.ndarray, first: int, last: int,
          cache: Sums) -> tuple[np.ndarray, ...]:
    """Per customer (``codes``; -1: no transaction at all): purchases, revenue, margin on days
    first .. last - 1 (one pass over the transactions per window, shared by the campaigns)."""
    if (first, last) not in cache:
        rows = _window(tx, first, last, cache)
        n = len(tx.customer_ids)
        code, amount, margin = tx.code[rows], tx.amount[rows], tx.margin[rows]
        cache[(first, last)] = (
            np.bincount(code[amount > 0], minlength=n),
            np.bincount(code, weights=amount, minlength=n),
            np.bincount(code, weights=margin, minlength=n))
    bought, revenue, margin = cache[(first, last)]
    ok = codes >= 0
    at = np.maximum(codes, 0)
    return tuple(np.where(ok, a[at], 0) for a in (bought, revenue, margin))


def outcomes(group: pd.DataFrame, answers: pd.DataFrame, tx: Transactions, day0: int,
             days: int, cache: Sums) -> tuple[np.ndarray, ...]:
    """Per customer of ``group`` (rows of read_measured's actioned customers): converted
    (1.0 or 0.0: a purchase in the transactions or an imported conversion of the campaign,
    ``answers``, on days day0 .. day0 + days - 1), revenue and margin in that window, and the
    margin over the same number of days before it (the CUPED covariate). The one definition
    of a conversion: cvm measure and learning (engine.history.learn) both use it."""
    codes = group["code"].to_numpy(dtype=np.int64)
    bought, revenue, margin = _sums(tx, codes, day0, day0 + days, cache)
    _, _, before = _sums(tx, codes, day0 - days, day0, cache)
    inside = answers[(answers["day"] >= day0) & (answers["day"] < day0 + days)]
    # by code (customer_id is kept only for customers absent from the transactions)
    known = np.zeros(len(tx.customer_ids) + 1, dtype=bool)
    known[inside["code"].to_numpy(dtype=np.int64)] = True  # -1: the spare last slot
    responded = known[codes] & (codes >= 0)
    lost = codes < 0
    if lost.any():
        responded[lost] = pd.Index(pd.unique(inside["customer_id"].to_numpy(dtype=object))
                                   ).get_indexer(group["customer_id"].to_numpy(dtype=object)
                                                 [lost]) >= 0
    converted = ((bought > 0) | responded).astype(float)
    return converted, revenue, margin, before


def _window(tx: Transactions, first: int, last: int, cache: Sums) -> np.ndarray | slice:
    """The rows dated first .. last - 1: a slice of the rows in day order (sorted once and
    kept in ``cache``; a file in date order needs no sort), not a pass over every row per
    window."""
    if (-1, -1) not in cache:
        ordered = bool(np.all(tx.day[1:] >= tx.day[:-1])) if len(tx.day) else True
        order = np.arange(0) if ordered else np.argsort(tx.day, kind="stable")
        cache[(-1, -1)] = (np.array([ordered]), order, tx.day if ordered else tx.day[order])
    ordered_, order, days = cache[(-1, -1)]
    lo, hi = (int(k) for k in np.searchsorted(days, [first, last], side="left"))
    return slice(lo, hi) if bool(ordered_[0]) else order[lo:hi]


def _row(run: int, run_id: str, as_of: str, campaign: str, days: int, group: pd.DataFrame,
         answers: pd.DataFrame, tx: Transactions, day0: int, end_day: int, cache: Sums
         ) -> dict[str, Any]:
    converted, revenue, margin, before = outcomes(group, answers, tx, day0, days, cache)
    held = group["holdout"].fillna(False).to_numpy(dtype=bool)
    t, h = ~held, held
    conv = uplift(converted[t], converted[h])
    marg = uplift(margin[t], margin[h], before[t], before[h])
    cost = float(group["cost"].fillna(0.0).to_numpy(dtype=float)[t].sum())
    incremental = marg.uplift * int(t.sum())
    left = day0 + days - end_day
    if left > 0:
        verdict = (f"too early to tell: the window ends "
                   f"{EPOCH + dt.timedelta(days=day0 + days - 1)}, the transactions "
                   f"{EPOCH + dt.timedelta(days=end_day - 1)}")
    elif t.sum() < MIN_GROUP or h.sum() < MIN_GROUP:
        verdict = (f"too early to tell: fewer than {MIN_GROUP} customers in a group "
                   f"(minimum detectable effect {_money(marg.mde)} per customer)")
    else:
        verdict = "significant" if marg.significant else "not significant"

    def r(v: float, k: int = 4) -> float | None:
        return round(v, k) if math.isfinite(v) else None

    return {
        "run": run, "run_id": run_id, "as_of": as_of, "campaign": campaign,
        "window_days": days, "treated": int(t.sum()),
        "contacted": int((group["status"] == "allocated").sum()), "holdout": int(h.sum()),
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
        "significant": bool(verdict == "significant"), "verdict": verdict,
    }


def _money(v: float) -> str:
    return f"{v:,.2f}" if math.isfinite(v) else "unknown"
