"""Money totals, summed exactly and rounded once (README "Allocation summary").

The action list's cost and expected value carry four decimals (``SCALE``); a contact may cost
half a cent. Summing such floats per group and rounding each group's sum on its own made the
channel rows of one run add up to 604.25 and its campaign rows to 604.26 (604.255 exactly),
and ``cvm report`` and ``cvm plan`` disagree by a cent. So a total is summed as an integer of
ten-thousandths (exact whatever the order) and rounded to the cent once, half up; the rows of
a breakdown are their exact figures rounded down to the cent, and the cents left over go to
the rows with the largest remainders (ties: the first row), so that the rows add up to the
total shown, each within a cent of its exact figure.
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
    left over given to the parts with the largest remainders."""
    exact = np.asarray(parts, dtype=np.int64)
    if target is None:
        target = cents(int(exact.sum()))
    base = exact // _PER_CENT
    left = exact - base * _PER_CENT
    short = int(target - base.sum())
    order = np.argsort(-left, kind="stable")
    shown = base.copy()
    if short > 0:
        shown[order[:short]] += 1
    elif short < 0:  # a target below the floors (not from ``cents``): take from the smallest
        shown[order[::-1][:-short]] -= 1
    return [int(c) / 100 for c in shown]


@dataclass(frozen=True)
class Breakdown:
    """One amount of the allocated contacts as shown at every level: the total, per channel,
    per campaign and per campaign and channel (the rows of the allocation summary, and of a
    campaign's brief), each level adding up to the total, a campaign's channels to the
    campaign."""

    total: float
    channel: dict[str, float]
    campaign: dict[str, float]
    cell: dict[tuple[str, str], float]


def breakdown(campaign: pd.Series, channel: pd.Series, amounts: pd.Series,
              channels: Sequence[str], campaigns: Sequence[str]) -> Breakdown:
    """The amounts of the allocated contacts (their campaign and channel, one row each) summed
    exactly per campaign and channel, and shown: rows in ``channels`` and ``campaigns`` order
    (a remainder's tie goes to the first)."""
    exact = pd.Series(np.rint(np.asarray(amounts, dtype=np.float64) * SCALE).astype(np.int64),
                      index=amounts.index)
    sums = exact.groupby([campaign.astype(str), channel.astype(str)], sort=False).sum()
    found = {(str(k[0]), str(k[1])): int(v) for k, v in sums.items()}
    per_channel = [sum(v for (_, ch), v in found.items() if ch == c) for c in channels]
    per_campaign = [sum(v for (cp, _), v in found.items() if cp == c) for c in campaigns]
    total = cents(sum(per_channel))
    shown_channel = dict(zip(channels, apportion(per_channel, total), strict=True))
    shown_campaign = dict(zip(campaigns, apportion(per_campaign, total), strict=True))
    cell: dict[tuple[str, str], float] = {}
    for camp in campaigns:
        keys = [(camp, ch) for ch in channels if (camp, ch) in found]
        cell |= dict(zip(keys, apportion([found[k] for k in keys],
                                         round(shown_campaign[camp] * 100)), strict=True))
    return Breakdown(total / 100, shown_channel, shown_campaign, cell)
