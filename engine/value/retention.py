"""Retention rate measured from the data: of the customers active (with a purchase) in one
period, the share also active in the next period, pooled over the last few period pairs,
overall and per value band. r is thus the probability that a customer active in a period is
active again in the next one; the value formulas pair it with the margin of an active period.

Periods are counted back from the as-of date: period 0 is the ``period_days`` days before it,
period 1 the ones before that, and so on. For the pair (period j+1 -> period j), customers
active in period j+1 are banded by the quantiles of their margin of purchases up to the end of
period j+1 (among those active customers), so the band never uses what happened later. The
band is set by purchases, refunds not deducted: a refund lowers a customer's margin, and with
it their value, but cannot move them into a band with a better rate.

``pooled`` is the one pooling rule, also used by the report for its month-end rates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.data.load import EPOCH, Transactions
from engine.errors import InputError, Problem
from engine.project.config import Config, RetentionConfig
from engine.project.location import config_shown
from engine.value.periods import PeriodTotals, bought_to_date, period_totals


@dataclass(frozen=True)
class RetentionSegment:
    name: str
    active: int  # customer-periods active in the "from" period
    retained: int  # of those, active again in the next period
    rate: float  # the rate applied to this segment's customers
    measured: float  # retained / active (applied rate differs when the sample is too small)
    pooled: bool  # True when too few customers: the overall rate is applied instead


@dataclass(frozen=True)
class Retention:
    overall: float
    active: int
    retained: int
    pairs: int
    segments: tuple[RetentionSegment, ...]
    cut_points: tuple[float, ...]  # band limits (margin of purchases) applied today

    def segment_of(self, purchase_margin: np.ndarray) -> np.ndarray:
        """0-based band index of each customer today (0 when not banded), from the margin of
        their purchases to date (refunds not deducted)."""
        if not self.cut_points:
            return np.zeros(len(purchase_margin), dtype=np.int64)
        return np.searchsorted(np.asarray(self.cut_points), purchase_margin, side="right")


def band_name(band: int, bands: int) -> str:
    return f"value band {band + 1} of {bands}"


def pairs_available(first_day: int, end: int, *, period_days: int, lookback: int) -> int:
    """Period pairs that can be measured at day ``end``: the oldest purchase limits them."""
    return min(lookback, (int(end) - 1 - int(first_day)) // period_days)


def pooled(active: Sequence[np.ndarray], basis: Sequence[np.ndarray] | None = None,
           bands: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Customer-periods active and retained per band, pooled over the period pairs.

    ``active[j]``: who was active in period j (0 = the latest), j = 0 .. pairs. For each pair
    (j+1 -> j) the customers active in period j+1 are counted, and retained when active in
    period j too. With ``bands`` > 1 they are banded by the quantiles of ``basis[j+1]`` (their
    margin of purchases up to the end of period j+1) among themselves.
    """
    seg_active = np.zeros(bands, dtype=np.int64)
    seg_kept = np.zeros(bands, dtype=np.int64)
    for j in range(len(active) - 1):
        src = active[j + 1]
        if not src.any():  # nobody bought in that period: the pair says nothing
            continue
        kept = src & active[j]
        band = np.zeros(len(src), dtype=np.int64)
        if bands > 1 and basis is not None:
            cum = basis[j + 1]
            cut = np.quantile(cum[src], np.arange(1, bands) / bands)
            band = np.searchsorted(cut, cum, side="right")
        seg_active += np.bincount(band[src], minlength=bands)
        seg_kept += np.bincount(band[kept], minlength=bands)
    return seg_active, seg_kept


def measure(tx: Transactions, cfg: RetentionConfig, *, period_days: int,
            totals: PeriodTotals | None = None) -> Retention:
    """Measure retention; ``totals`` are computed here unless given with enough periods."""
    buy = tx.amount > 0
    pairs = pairs_available(int(tx.day[buy].min()), tx.as_of_day, period_days=period_days,
                            lookback=cfg.lookback_periods)
    if pairs < 1:
        raise InputError(Problem(
            f"the data spans less than two periods of period_days={period_days} days, so "
            "retention (active in one period and again in the next) cannot be measured",
            file=config_shown(), key="period_days", hint="lower period_days"))
    if totals is None or totals.periods < pairs + 1 or totals.period_days != period_days:
        totals = period_totals(tx, period_days, pairs + 1)
    bands = cfg.bands if cfg.by == "value_band" else 1
    act = [totals.active[:, j] for j in range(pairs + 1)]
    # margin of purchases up to the end of period j: the sum over period j and all older ones
    later = bought_to_date(totals)
    seg_active, seg_kept = pooled(act, [later[:, j] for j in range(pairs + 1)], bands)

    total_active, total_kept = int(seg_active.sum()), int(seg_kept.sum())
    overall = total_kept / total_active if total_active else 0.0
    segments = []
    for b in range(bands):
        measured = seg_kept[b] / seg_active[b] if seg_active[b] else 0.0
        pooled_rate = bool(seg_active[b] < cfg.min_customers)
        name = band_name(b, bands) if bands > 1 else "all customers"
        segments.append(RetentionSegment(name, int(seg_active[b]), int(seg_kept[b]),
                                         overall if pooled_rate else float(measured),
                                         float(measured), pooled_rate))
    cut_points: tuple[float, ...] = ()
    if bands > 1:
        hist = later[:, 0]
        base = hist[act[0]] if act[0].any() else hist[hist != 0]
        if len(base) == 0:
            base = hist
        cut_points = tuple(float(x) for x in np.quantile(base, np.arange(1, bands) / bands))
    return Retention(overall, total_active, total_kept, pairs, tuple(segments), cut_points)


def require_sample(tx: Transactions, config: Config) -> None:
    """Retention starts from the customers active in periods 1 .. pairs: with no purchase there
    it is 0 of 0, not a rate of 0 (an as-of date far after the data, a lookback in a gap)."""
    buy_days = tx.day[tx.amount > 0].astype(np.int64)
    L = config.period_days
    pairs = pairs_available(int(np.min(buy_days)), tx.as_of_day, period_days=L,
                            lookback=config.retention.lookback_periods)
    period = (tx.as_of_day - 1 - buy_days) // L
    if ((period >= 1) & (period <= pairs)).any():
        return
    start = tx.as_of - dt.timedelta(days=(pairs + 1) * L)
    end = tx.as_of - dt.timedelta(days=L + 1)
    last = EPOCH + dt.timedelta(days=int(np.max(buy_days)))
    key = "as_of" if config.as_of is not None else "retention.lookback_periods"
    raise InputError(config.problem(
        key, f"no purchase in the {pairs} period{'s' if pairs > 1 else ''} of period_days={L} "
        f"days that retention starts from ({start} to {end}, the periods before the last one), "
        "so retention (active in one period and again in the next) cannot be measured; the last "
        f"purchase is on {last}", hint="set as_of closer to the data (the default is the day "
        "after the last purchase), or raise retention.lookback_periods to reach back to the "
        "purchases"))


def none_retained(config: Config, retention: Retention, gaps: np.ndarray) -> Problem | None:
    """A warning when no customer active in a period was active in the next: a measured
    retention of 0 makes ``clv_simple`` and ``clv_discounted`` 0 for every customer (and with
    them a campaign's value at stake). ``gaps``: each customer's average days between purchase
    days (NaN for a one-time buyer), for the hint."""
    if retention.retained or not retention.active:
        return None
    L, n, pairs = config.period_days, retention.active, retention.pairs
    repeat = gaps[np.isfinite(gaps)]
    median = float(np.median(repeat)) if len(repeat) else 0.0
    if not len(repeat):
        hint = ("no customer bought on more than one day: retention needs repeat purchases "
                "(more history, or a longer period_days)")
    elif median > L:
        hint = (f"the median of the customers' average days between purchase days is "
                f"{median:,.0f}: a period_days at least that long measures how many come back")
    else:  # they come back within a period, and none in the next: too little history
        hint = (f"the median of the customers' average days between purchase days is "
                f"{median:,.0f}, within a period: more history, or a higher "
                "retention.lookback_periods, measures more period pairs")
    return config.problem("period_days", (
        f"retention measured 0%: none of the {n:,} customer-period{'s' * (n != 1)} active "
        f"over {pairs} period pair{'s' * (pairs != 1)} was active again in the next period of "
        f"period_days={L} days, so clv_simple and clv_discounted are 0 for every customer "
        "(and so is a campaign's value at stake where it is clv_discounted)"), hint=hint)
