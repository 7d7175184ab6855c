"""Money totals, summed exactly and rounded once (README "Allocation summary").

The action list's cost and expected value carry four decimals (``SCALE``); a contact may cost
half a cent. Summing such floats per group and rounding each group's sum on its own made the
channel rows of one run add up to 604.25 and its campaign rows to 604.26 (604.255 exactly),
and ``cvm report`` and ``cvm plan`` disagree by a cent. So every sum is an integer of
ten-thousandths (exact whatever the order), rounded to the cent half up.

A campaign's amount is its own exact sum rounded once: it depends on its own contacts only, so
a campaign left alone keeps its figures, and its brief, when another campaign changes (the
run's total once shared out among the campaigns moved them by a cent). Its channels share it
out: each cell its exact figure rounded down to the cent, the cents left over given to the
cells with the largest remainders (ties: the first channel). A channel of the run is the sum
of its cells, and the run's total the sum of the campaigns (so of the channels too): a channel
whose contacts cost whole cents shows its exact cost, whatever the other channels' fractions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

SCALE = 10_000  # the action list's cost and expected_value: 4 decimals (engine.run.pipeline)
_PER_CENT = SCALE // 100


def units(values: object) -> int:
    """The exact sum of ``values`` (amounts of at most four decimals), in ten-thousandths."""
    amounts = np.asarray(values, dtype=np.float64)
    return int(np.rint(amounts * SCALE).astype(np.int64).sum())


def cents(total: int) -> int:
    """An exact total (ten-thousandths) rounded to the cent, half up (away from zero)."""
    sign = -1 if total < 0 else 1
    return sign * ((abs(total) + _PER_CENT // 2) // _PER_CENT)


def amount(total: int) -> float:
    """An exact total (ten-thousandths) as the amount shown: rounded to the cent once."""
    return cents(total) / 100


def apportion(parts: Sequence[int], target: int | None = None) -> list[float]:
    """The amounts shown for ``parts`` (exact, ten-thousandths) that add up to ``target``
    cents (default: their total rounded once): each part rounded down to the cent, the cents
    left over given one each to the parts with the largest remainders, or, for a target below
    the floors, taken one each from those with the smallest (ties: the first). A part of
    exactly nothing gets no cent, and no cent is taken from a positive part showing none: no
    row below zero. With the default target (what the engine asks: a campaign's channels
    sharing its amount) every row is within a cent of its exact figure; a target more cents
    away than there are parts has the cents beyond one each go to, or come from, the largest
    part (the least changed by them)."""
    exact = np.asarray(parts, dtype=np.int64)
    if target is None:
        target = cents(int(exact.sum()))
    shown = exact // _PER_CENT
    left = exact - shown * _PER_CENT
    short = int(target - shown.sum())
    live = np.flatnonzero(exact) if exact.any() else np.arange(len(exact))
    if short < 0:  # only from parts that have a cent to give
        live = live[(exact[live] <= 0) | (shown[live] > 0)]
    step = 1 if short > 0 else -1
    by_left = live[np.argsort(-left[live] if short > 0 else left[live], kind="stable")]
    first = by_left[:abs(short)]
    shown[first] += step
    for _ in range(abs(short) - len(first)):  # beyond a cent each: the largest part
        pool = live if short > 0 else live[(exact[live] <= 0) | (shown[live] > 0)]
        if not len(pool):  # a target other than 0 for no part at all: nothing to show it
            break
        shown[pool[np.argmax(np.abs(exact[pool]))]] += step
    return [int(c) / 100 for c in shown]


def run_total(campaign: pd.Series, amounts: pd.Series) -> float:
    """The run's total of ``amounts`` (one row per allocated contact): the sum of its
    campaigns' amounts, each rounded once (what the allocation summary's rows add up to)."""
    return sum(cents(v) for v in _exact(amounts).groupby(campaign.astype(str)).sum()) / 100


def _exact(amounts: pd.Series) -> pd.Series:
    return pd.Series(np.rint(np.asarray(amounts, dtype=np.float64) * SCALE).astype(np.int64),
                     index=amounts.index)


@dataclass(frozen=True)
class Breakdown:
    """One amount of the allocated contacts as shown at every level: the total, per channel,
    per campaign and per campaign and channel (the rows of the allocation summary, and of a
    campaign's brief). A campaign is its own sum rounded once, its channels' cells share it
    out (each within a cent of its exact sum); a channel is the sum of its cells; the total
    is the sum of the campaigns, and so of the channels."""

    total: float
    channel: dict[str, float]
    campaign: dict[str, float]
    cell: dict[tuple[str, str], float]


def breakdown(campaign: pd.Series, channel: pd.Series, amounts: pd.Series,
              channels: Sequence[str], campaigns: Sequence[str]) -> Breakdown:
    """The amounts of the allocated contacts (their campaign and channel, one row each) summed
    exactly per campaign and channel, and shown: rows in ``channels`` and ``campaigns`` order
    (a remainder's tie goes to the first)."""
    sums = _exact(amounts).groupby([campaign.astype(str), channel.astype(str)],
                                   sort=False).sum()
    found = {(str(k[0]), str(k[1])): int(v) for k, v in sums.items()}
    exact = dict.fromkeys(campaigns, 0)  # one pass: a campaign's cells, not every cell
    for (cp, _), v in found.items():     # looked at once per campaign
        exact[cp] = exact.get(cp, 0) + v
    own = {c: cents(exact[c]) for c in campaigns}
    in_cents: dict[tuple[str, str], int] = {}  # each campaign's channels share its amount
    for camp in campaigns:
        keys = [(camp, ch) for ch in channels if (camp, ch) in found]
        in_cents |= dict(zip(keys, (round(x * 100) for x in apportion(
            [found[k] for k in keys], own[camp])), strict=True))
    # a channel is the sum of its campaigns' cells: exact when its contacts cost whole cents,
    # and what the briefs of the campaigns that use it show
    per_channel = {c: sum(v for (_, ch), v in in_cents.items() if ch == c) for c in channels}
    return Breakdown(sum(own.values()) / 100, {c: v / 100 for c, v in per_channel.items()},
                     {c: v / 100 for c, v in own.items()},
                     {k: v / 100 for k, v in in_cents.items()})

