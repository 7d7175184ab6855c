"""One-time buyers' potential value under the formulas (README "One-time buyers").

A one-time buyer has no repeat purchase to go by, so their own margin per period is 0. What a
customer like them is expected to be worth is measured instead, from the history before the
as-of date (no look-ahead): at reference dates one horizon or more before the as-of date, the
customers who were then one-time buyers are grouped by how long ago their one purchase day was,
and the margin each went on to earn over the next H periods, discounted as potential value is,
is averaged per group. Today's one-time buyer gets the average of their group. The amount of
the one purchase plays no part: high spend alone does not make a customer valuable.

    c_j        = as_of - (H + j) L,  j = 0 .. lookback_periods - 1
    one-time   all purchases before c_j on one day f
    group      g = min((c_j - 1 - f) // L, H): the period of f counted back from c_j, with
               H or more pooled into one group
    outcome    y = sum over t = 1..H of (margin in [c_j + (t-1) L, c_j + t L)) / (1 + d)^t
    V_g        mean of y over the group's observations (customer, reference date); a group
               with fewer than min_customers observations uses groups g and older together;
               fewer still: 0

The reference dates lie on period boundaries of the as-of date, so period t after c_j is the
as-of period H + j - t, and the outcomes come from the per-customer period totals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.data.load import EPOCH
from engine.value.features import CODE, SECOND_DAY
from engine.value.periods import PeriodTotals


@dataclass(frozen=True)
class NewcomerGroup:
    name: str
    observations: int  # (customer, reference date) pairs: one-time buyers then
    measured: float  # their mean discounted margin over the next H periods (0 without any)
    value: float  # the value applied to today's one-time buyers of the group
    pooled: bool  # too few observations: groups g and older together (or 0)
    too_few: bool = False  # pooled, and too few even with the older groups: 0


@dataclass(frozen=True)
class Newcomers:
    groups: tuple[NewcomerGroup, ...]  # g = 0 .. H
    reference_dates: tuple[dt.date, ...]

    def value_of(self, tenure_days: np.ndarray, period_days: int) -> np.ndarray:
        """V_g of a one-time buyer today, from the days since their purchase day."""
        top = len(self.groups) - 1
        group = np.minimum((tenure_days - 1) // period_days, top)
        return np.asarray(np.array([g.value for g in self.groups])[group], dtype=np.float64)

    def describe(self, money: Callable[[float], str]) -> str:
        """Each group's value and how many earlier one-time buyers measured it."""
        last = len(self.groups) - 1

        def how(k: int, g: NewcomerGroup) -> str:
            if not g.pooled:
                return ""
            if not g.too_few:
                return ", pooled with older ones"
            return (", fewer than retention.min_customers" if k == last else  # none older
                    ", fewer than retention.min_customers even with older ones")

        return "; ".join(f"{g.name} {money(g.value)} ({g.observations:,} earlier{how(k, g)})"
                         for k, g in enumerate(self.groups))


def periods_needed(horizon: int, lookback: int) -> int:
    """Period columns the outcomes need: up to as-of period H + lookback - 2."""
    return horizon + lookback - 1


def group_name(g: int, horizon: int) -> str:
    if g == 0:
        return "bought in the last period"
    if g == horizon:
        return f"{g} or more periods ago"
    return f"{g} period{'s' if g > 1 else ''} ago"


def measure_newcomers(frame: pd.DataFrame, totals: PeriodTotals, *, as_of: dt.date,
                      horizon: int, discount_per_period: float, lookback: int,
                      min_customers: int) -> Newcomers:
    """V_g for g = 0 .. H from the scored customers' purchase days and period margins."""
    L, H = totals.period_days, horizon
    if totals.periods < periods_needed(H, lookback):
        raise ValueError("period totals too short for the one-time buyers' outcomes")
    as_of_day = (as_of - EPOCH).days
    first = as_of_day - frame["tenure_days"].to_numpy()
    second = frame[SECOND_DAY].to_numpy()
    codes = frame[CODE].to_numpy()
    discount = (1.0 + discount_per_period) ** -np.arange(1, H + 1, dtype=np.float64)
    obs = np.zeros(H + 1, dtype=np.int64)
    total = np.zeros(H + 1)
    dates = []
    for j in range(lookback):  # a few reference dates; each a vectorised pass over customers
        c = as_of_day - (H + j) * L
        dates.append(EPOCH + dt.timedelta(days=c))
        once = np.flatnonzero((first < c) & (second >= c))
        if len(once) == 0:
            continue
        group = np.minimum((c - 1 - first[once]) // L, H)
        columns = H + j - np.arange(1, H + 1)  # as-of period of the t-th period after c
        outcome = totals.margin[np.ix_(codes[once], columns)] @ discount
        obs += np.bincount(group, minlength=H + 1)
        total += np.bincount(group, weights=outcome, minlength=H + 1)
    groups = []
    for g in range(H + 1):
        measured = total[g] / obs[g] if obs[g] else 0.0
        pooled = bool(obs[g] < min_customers)
        value, older = measured, int(obs[g:].sum())
        if pooled:
            value = float(total[g:].sum() / older) if older >= min_customers else 0.0
        groups.append(NewcomerGroup(group_name(g, H), int(obs[g]), float(measured),
                                    float(value), pooled, pooled and older < min_customers))
    return Newcomers(tuple(groups), tuple(dates))
