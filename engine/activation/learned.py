"""Expected responses per campaign and channel, learnt from the history (README "Learning").

A campaign's response on a channel starts from the channel's declared ``response_rate`` (the
prior) and moves to what the history measured (a Beta-Binomial posterior):

    prior           Beta(a, b), a = s x r, b = s x (1 - r)   r: declared rate, s: prior_customers
    posterior mean  p = (s x r + x) / (s + n)                n contacted on the channel, x converted
    holdout rate    h = x_h / n_h                             the campaign's holdout, once n_h >= 30
    used            p - h (at least 0) when h is measured ("incremental"), else p ("posterior"),
                    or r when nothing was measured ("declared")

The allocation multiplies the figure used by the preference lift, as it did the declared rate.
This module holds the figures and the formula; engine.history.learn counts n, x, n_h and x_h.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MIN_HOLDOUT = 30  # holdout customers below which the baseline is not measured (= cvm measure)
DECLARED, POSTERIOR, INCREMENTAL = "declared", "posterior", "incremental"


def posterior_mean(declared: float, prior: float, contacted: int, converted: int) -> float:
    """(s r + x) / (s + n); the declared rate when there is neither prior nor data."""
    if prior + contacted <= 0:
        return declared
    return (prior * declared + converted) / (prior + contacted)


@dataclass(frozen=True)
class Counts:
    """What the history measured for one campaign: per channel contacted and converted, and
    its holdout (customers and conversions), over the runs whose window is over."""

    contacted: Mapping[str, int] = field(default_factory=dict)
    converted: Mapping[str, int] = field(default_factory=dict)
    holdout: int = 0
    holdout_converted: int = 0


@dataclass(frozen=True)
class Figure:
    channel: str
    declared: float
    contacted: int
    converted: int
    posterior: float
    response: float  # the figure the allocation uses


@dataclass(frozen=True)
class CampaignFigures:
    campaign: str
    figure: str  # declared, posterior or incremental
    holdout: int
    holdout_converted: int
    baseline: float | None  # the holdout's conversion rate, when measured
    channels: tuple[Figure, ...]

    def rates(self) -> np.ndarray:
        return np.array([f.response for f in self.channels])

    def as_dict(self) -> dict[str, Any]:
        return {"figure": self.figure, "holdout": self.holdout,
                "holdout_converted": self.holdout_converted,
                "holdout_rate": None if self.baseline is None else round(self.baseline, 6),
                "channels": {f.channel: {"declared": f.declared, "contacted": f.contacted,
                                         "converted": f.converted,
                                         "posterior": round(f.posterior, 6),
                                         "response": round(f.response, 6)}
                             for f in self.channels}}


def figures(campaign: str, declared: Sequence[tuple[str, float]], counts: Counts | None,
            prior: float) -> CampaignFigures:
    """One campaign's figures per channel (``declared``: channel ids and declared rates)."""
    counts = counts or Counts()
    measured = counts.holdout >= MIN_HOLDOUT
    baseline = counts.holdout_converted / counts.holdout if measured else None
    out = []
    for channel, rate in declared:
        n, x = counts.contacted.get(channel, 0), counts.converted.get(channel, 0)
        p = posterior_mean(rate, prior, n, x)
        used = max(0.0, p - baseline) if baseline is not None else p
        out.append(Figure(channel, rate, n, x, p, used))
    kind = INCREMENTAL if measured else POSTERIOR if any(counts.contacted.values()) \
        else DECLARED
    return CampaignFigures(campaign, kind, counts.holdout, counts.holdout_converted,
                           baseline, tuple(out))


@dataclass(frozen=True)
class Learned:
    """The figures of every campaign of a run, and where they came from (manifest)."""

    enabled: bool = False
    prior_customers: int = 0
    source: str = "none"
    runs: int = 0
    campaigns: Mapping[str, CampaignFigures] = field(default_factory=dict)

    def rates(self) -> dict[str, np.ndarray]:
        """Per campaign, the response per channel (channel order) the allocation uses."""
        return {k: v.rates() for k, v in self.campaigns.items()}

    def as_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "prior_customers": self.prior_customers,
                "source": self.source, "runs_counted": self.runs,
                "campaigns": {k: self.campaigns[k].as_dict() for k in sorted(self.campaigns)}}

    def summary(self) -> str:
        """One line for the run's terminal summary."""
        if not self.enabled:
            return f"learning: off ({self.source})"
        kinds = [c.figure for c in self.campaigns.values()]
        return (f"learning: {len(kinds)} campaigns, {kinds.count(INCREMENTAL)} on incremental "
                f"response, {kinds.count(POSTERIOR)} on a posterior, {kinds.count(DECLARED)} "
                f"on the declared rates ({self.runs} runs measured)")


def describe(found: CampaignFigures, channels: Sequence[str] = ()) -> str:
    """One campaign's figures in words (``channels``: only these, in this order)."""
    chosen = [f for f in found.channels if not channels or f.channel in channels]
    if channels:
        chosen.sort(key=lambda f: list(channels).index(f.channel))
    how = {DECLARED: "the declared rates (nothing measured yet)",
           POSTERIOR: "posterior from the history",
           INCREMENTAL: f"incremental: posterior minus the holdout's {found.baseline or 0:.4f} "
                        f"({found.holdout_converted:,} of {found.holdout:,})"}[found.figure]
    parts = [f"{f.channel} {f.response:.4f}" + (
        f" (declared {f.declared:g}; {f.converted:,} of {f.contacted:,} contacted converted)"
        if found.figure != DECLARED else "") for f in chosen]
    return f"{how}: " + ", ".join(parts)


def explain_lines(learned: Learned, campaign: str | None, channels: Sequence[str]) -> list[str]:
    """What ``cvm explain`` prints about the expected response of the customer's campaign."""
    found = learned.campaigns.get(campaign or "")
    if found is None:
        return []
    return ["", f"Expected response, campaign {campaign} ({learned.source}; "
                f"{learned.runs} runs measured): {describe(found, channels)}"]


def compare_rows(before: Learned, after: Learned) -> list[list[str]]:
    """``cvm plan``: per campaign, the figure on each side; none when neither side learnt."""
    names = sorted(set(before.campaigns) | set(after.campaigns))
    learnt = [k for k in names if any(
        side.campaigns[k].figure != DECLARED for side in (before, after) if k in side.campaigns)]

    def words(side: Learned, k: str) -> str:
        got = side.campaigns.get(k)
        return "(not in this version)" if got is None else f"{got.figure}: " + ", ".join(
            f"{f.channel} {f.response:.4f}" for f in got.channels)

    return [[k, words(before, k), words(after, k)] for k in learnt]
