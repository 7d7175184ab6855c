"""Expected responses per campaign and channel, learnt from the history (README "Learning").

Per campaign, over the runs counted, a customer's *window* is one run's attribution window;
rates are per window, and what a figure is worth is counted in distinct customers (the holdout
keeps the same customers run after run: ten customers in three runs are ten, not thirty).

    h   holdout rate (x_h / w_h)                      measured once n_h >= 30 distinct customers
    t   rate of everyone assigned outside the holdout, contacted or not (intention to treat)
    k   share of the assigned windows that were contacted; q: rate of the others
    b   (h - (1 - k) q) / k, within 0 .. 1            what the contacted would have done alone
    m   x_c / w_c - b                                 measured uplift of a contact on channel c
    u   (s r + n_c m) / (s + n_c)                     posterior: the declared rate r is the prior
                                                      of the uplift, worth s customers
    used  (s r + n_c max(m, 0)) / (s + n_c)           never below the prior's share (no lock-out)

Without a measured holdout, m is the raw rate x_c / w_c ("posterior"); nothing contacted: r
("declared"). Over channels, the mean of m weighted by windows is (t - h) / k, the intention
to treat effect per contact (the Bloom estimator), so the level of the uplift is causal
whoever the allocation chose to contact. This module holds the formula; engine.history.learn
counts the tallies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MIN_HOLDOUT = 30  # distinct holdout customers below which the baseline is not measured
DECLARED, POSTERIOR, INCREMENTAL = "declared", "posterior", "incremental"
HISTORY = "the history"  # Learned.source when the figures were read from the history
# A source that read nothing: "none: " and why (learning's and the contact policies' alike)
NO_HISTORY_FLAG = "none: --no-history"
NO_HISTORY_YET = "none: no history yet"


def why_none(source: str) -> str:
    """A source as printed after a figure: why nothing was read ("no history yet"), or the
    source itself ("the history")."""
    return source.removeprefix("none: ")


def posterior_mean(declared: float, prior: float, customers: int, measured: float) -> float:
    """(s r + n m) / (s + n); the declared rate when there is neither prior nor data."""
    if prior + customers <= 0:
        return declared
    return (prior * declared + customers * measured) / (prior + customers)


@dataclass(frozen=True)
class Tally:
    """A group of customers over the runs counted: distinct customers, customer windows (one
    per run the customer was in), windows in which the customer converted."""

    customers: int = 0
    windows: int = 0
    converted: int = 0

    def rate(self) -> float:
        return self.converted / self.windows if self.windows else 0.0


@dataclass(frozen=True)
class Counts:
    """What the history measured for one campaign: per channel the customers contacted on it,
    all those contacted, all those assigned outside the holdout (contacted or not), and the
    holdout."""

    channels: Mapping[str, Tally] = field(default_factory=dict)
    contacted: Tally = Tally()
    assigned: Tally = Tally()
    holdout: Tally = Tally()
    runs: int = 0  # runs of the campaign counted (their attribution windows over)
    # per recorded run of the campaign whose window is not over: the first as-of date counting it
    waiting: tuple[dt.date, ...] = ()


@dataclass(frozen=True)
class Figure:
    channel: str
    declared: float
    contacted: int  # distinct customers contacted on the channel
    windows: int
    converted: int
    measured: float | None  # uplift of a contact (incremental), raw rate (posterior), or None
    posterior: float
    response: float  # the figure the allocation uses


@dataclass(frozen=True)
class CampaignFigures:
    campaign: str
    figure: str  # declared, posterior or incremental
    counts: Counts
    baseline: float | None  # h, the holdout's conversion rate, when measured
    contacted_baseline: float | None  # b, when measured and someone was contacted
    channels: tuple[Figure, ...]

    @property
    def holdout(self) -> int:
        return self.counts.holdout.customers

    @property
    def holdout_windows(self) -> int:
        return self.counts.holdout.windows

    @property
    def holdout_converted(self) -> int:
        return self.counts.holdout.converted

    def rates(self) -> np.ndarray:
        return np.array([f.response for f in self.channels])

    def as_dict(self) -> dict[str, Any]:
        c = self.counts

        def r6(x: float | None) -> float | None:
            return None if x is None else round(x, 6)

        share = c.contacted.windows / c.assigned.windows if c.assigned.windows else None
        return {"runs_counted": c.runs, "runs_waiting": len(c.waiting),
                "next_counted_from": c.waiting[0].isoformat() if c.waiting else None,
                "figure": self.figure, "holdout": c.holdout.customers,
                "holdout_windows": c.holdout.windows, "holdout_converted": c.holdout.converted,
                "holdout_rate": r6(self.baseline), "assigned": c.assigned.customers,
                "assigned_windows": c.assigned.windows,
                "assigned_converted": c.assigned.converted,
                "contacted": c.contacted.customers, "contacted_share": r6(share),
                "contacted_baseline": r6(self.contacted_baseline),
                "channels": {f.channel: {"declared": f.declared, "contacted": f.contacted,
                                         "windows": f.windows, "converted": f.converted,
                                         "measured": r6(f.measured),
                                         "posterior": round(f.posterior, 6),
                                         "response": round(f.response, 6)}
                             for f in self.channels}}


def contacted_baseline(counts: Counts, h: float) -> float | None:
    """b = (h - (1 - k) q) / k within 0 .. 1: the holdout is a random draw of the same audience
    as the assigned, so its rate mixes, in the same shares, the would-be-contacted (without a
    contact) and the others, whom the campaign did not touch (their rate q is measured)."""
    a, c = counts.assigned, counts.contacted
    if c.windows == 0 or a.windows == 0:
        return None
    k = c.windows / a.windows
    rest = a.windows - c.windows
    q = (a.converted - c.converted) / rest if rest else 0.0
    return min(1.0, max(0.0, (h - (1 - k) * q) / k))


def figures(campaign: str, declared: Sequence[tuple[str, float]], counts: Counts | None,
            prior: float) -> CampaignFigures:
    """One campaign's figures per channel (``declared``: channel ids and declared rates)."""
    counts = counts or Counts()
    contacted = counts.contacted.windows > 0
    measured = counts.holdout.customers >= MIN_HOLDOUT
    h = counts.holdout.rate() if measured else None
    b = contacted_baseline(counts, h) if h is not None else None
    out = []
    for channel, rate in declared:
        got = counts.channels.get(channel, Tally())
        m = None if got.windows == 0 else got.rate() - (b or 0.0)
        u = rate if m is None else posterior_mean(rate, prior, got.customers, m)
        used = u if m is None or b is None else \
            posterior_mean(rate, prior, got.customers, max(m, 0.0))
        out.append(Figure(channel, rate, got.customers, got.windows, got.converted, m, u, used))
    kind = DECLARED if not contacted else INCREMENTAL if b is not None else POSTERIOR
    return CampaignFigures(campaign, kind, counts, h, b, tuple(out))


@dataclass(frozen=True)
class Learned:
    """The figures of every campaign of a run, and where they came from (manifest)."""

    enabled: bool = False
    prior_customers: int = 0
    source: str = "none"
    runs: int = 0  # runs counted for any of the campaigns
    campaigns: Mapping[str, CampaignFigures] = field(default_factory=dict)
    waiting: int = 0  # earlier runs that assigned some of them, counted for none: windows open
    earlier: int = 0  # runs read: the latest per as-of date before it, whatever they assigned
    data_end: dt.date | None = None  # the transactions' last day: a window is counted once
    # they cover it

    def rates(self) -> dict[str, np.ndarray]:
        """Per campaign, the response per channel (channel order) the allocation uses."""
        return {k: v.rates() for k, v in self.campaigns.items()}

    def as_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "prior_customers": self.prior_customers,
                "source": self.source,
                # null when the history was not read (no history, --no-history, learning off)
                "runs_earlier": self.earlier if self.source == HISTORY else None,
                "runs_counted": self.runs,
                "runs_waiting": self.waiting,
                "campaigns": {k: self.campaigns[k].as_dict() for k in sorted(self.campaigns)}}

    def summary(self) -> str:
        """One line for the run's terminal summary."""
        if not self.enabled:
            return f"learning: off ({self.source})"
        kinds = [c.figure for c in self.campaigns.values()]
        return (f"learning: {_plural(len(kinds), 'campaign')}, {kinds.count(INCREMENTAL)} on "
                f"incremental response, {kinds.count(POSTERIOR)} on a posterior, "
                f"{kinds.count(DECLARED)} on the declared rates ({self._said()})")

    def notes(self) -> list[str]:
        """The run summary's notes: a response learnt without a measured baseline (the raw
        purchase rate of the contacted) at twice its declared rate or more, which counts
        purchases the campaign did not cause (README "Learning")."""
        out = []
        for name in sorted(self.campaigns):
            got = self.campaigns[name]
            if got.figure != POSTERIOR:
                continue
            for f in got.channels:
                if f.measured is None or f.declared <= 0 or f.response < 2 * f.declared:
                    continue
                out.append(
                    f"learning: {name}'s {f.channel} response {f.response:.4g} is "
                    f"{f.response / f.declared:.1f} times its declared {f.declared:g}: the raw "
                    f"purchase rate of {_plural(f.contacted, 'customer')} contacted, with no "
                    f"baseline measured (the holdout has {got.holdout:,}, "
                    f"{MIN_HOLDOUT} measure one); it counts purchases the campaign did not "
                    "cause")
        return out

    def _said(self) -> str:
        """How many runs were measured, or why none was."""
        if self.source != HISTORY:
            return why_none(self.source)
        said = f"{_runs(self.runs)} measured"
        if self.runs or self.waiting:
            return said + self._waiting()
        if not self.earlier:
            return said + ": no run in the history is dated before this run's as-of date"
        return (said + f": the {_runs(self.earlier)} read (the latest per as-of date before "
                "this run's) assigned none of these campaigns")

    def _waiting(self) -> str:
        """The campaigns on the declared rates for now because no run of theirs is over."""
        dates = sorted(c.counts.waiting[0] for c in self.campaigns.values()
                       if c.counts.waiting and not c.counts.runs)
        if not dates:
            return ""
        one = len(dates) == 1
        return (f"; {_plural(len(dates), 'campaign')} waiting for "
                f"{'its attribution window' if one else 'their attribution windows'}, "
                f"{'' if one else 'the first '}{counted(dates[0], self.data_end)}")


def _plural(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _runs(runs: int) -> str:
    return _plural(runs, "run")


def runs_said(learned: Learned, found: CampaignFigures) -> str:
    """Where a campaign's figures came from, and from how many runs (``cvm explain``)."""
    if learned.source != HISTORY:
        return why_none(learned.source)
    c = found.counts
    if not c.runs and not c.waiting:
        return f"{learned.source}: no earlier run assigned this campaign"
    said = f"{learned.source}: " + (f"{_runs(c.runs)} of this campaign measured" if c.runs
                                    else "no run of this campaign measured yet")
    if c.waiting:
        first = "" if len(c.waiting) == 1 else "the first "
        said += (f"; {len(c.waiting):,} more recorded, {first}"
                 f"{counted(c.waiting[0], learned.data_end)}, once its attribution window is "
                 "over")
    return said


def counted(day: dt.date, data_end: dt.date | None) -> str:
    """When a window ending on ``day`` is counted: from that day, or once the transactions,
    which end on ``data_end``, reach it."""
    if data_end is not None and data_end < day:
        return f"counted once the transactions reach {day.isoformat()} (they end " \
            f"{data_end.isoformat()})"
    return f"counted from {day.isoformat()}"


def _customers(n: int) -> str:
    return _plural(n, "customer")


def basis(found: CampaignFigures, read: bool = True) -> str:
    """Which figure a campaign used and from how many distinct customers (``read``: whether
    the history was read; if not, nothing more is said of what it measured)."""
    c = found.counts
    if found.figure == DECLARED:
        if not read:
            return "the declared rates"
        return "the declared rates (" + ("no contact measured yet" if c.holdout.windows else
                                         "nothing measured yet") + ")"
    if found.figure == POSTERIOR:
        held = c.holdout.customers
        return (f"posterior of the raw response from {_customers(c.contacted.customers)} "
                f"contacted (the holdout's {_customers(held)} {'is' if held == 1 else 'are'} "
                f"too few for a baseline: {MIN_HOLDOUT} needed)")
    return (f"incremental from {_customers(c.contacted.customers)} contacted of "
            f"{c.assigned.customers:,} assigned, against a holdout of {c.holdout.customers:,} "
            f"({c.holdout.converted:,} of {c.holdout.windows:,} windows converted: "
            f"{found.baseline or 0:.4f}; the contacted's baseline, had they not been "
            f"contacted: {found.contacted_baseline or 0:.4f})")


def describe(found: CampaignFigures, channels: Sequence[str] = (), read: bool = True) -> str:
    """One campaign's figures in words (``channels``: only these, in this order)."""
    chosen = [f for f in found.channels if not channels or f.channel in channels]
    if channels:
        chosen.sort(key=lambda f: list(channels).index(f.channel))

    def why(f: Figure) -> str:
        if f.measured is None:
            return " (declared, not contacted)" if found.figure != DECLARED else ""
        # rounded as printed: "-0.0000, counted as 0" would read oddly
        floored = round(f.measured, 4) < 0
        measured = f"uplift {f.measured:+.4f}" + (", counted as 0" if floored else "") \
            if found.figure == INCREMENTAL else f"rate {f.measured:.4f}"  # a rate has no sign
        return (f" (declared {f.declared:g}; {_customers(f.contacted)}, {f.converted:,} of "
                f"{f.windows:,} windows converted, measured {measured})")

    return f"{basis(found, read)}: " + ", ".join(f"{f.channel} {f.response:.4f}{why(f)}"
                                           for f in chosen)


def explain_lines(learned: Learned, campaign: str | None, channels: Sequence[str]) -> list[str]:
    """What ``cvm explain`` prints about the expected response of the customer's campaign."""
    found = learned.campaigns.get(campaign or "")
    if found is None:
        return []
    return ["", f"Expected response, campaign {campaign} ({runs_said(learned, found)}): "
                f"{describe(found, channels, read=learned.source == HISTORY)}"]


def compare_rows(before: Learned, after: Learned) -> list[list[str]]:
    """``cvm plan``: per campaign, the figure on each side; none when neither side learnt."""
    names = sorted(set(before.campaigns) | set(after.campaigns))
    learnt = [k for k in names if any(
        side.campaigns[k].figure != DECLARED for side in (before, after) if k in side.campaigns)]

    def words(side: Learned, k: str) -> str:
        got = side.campaigns.get(k)
        if got is None:
            return "(not in this version)"
        c = got.counts
        size = {DECLARED: "", POSTERIOR: f" from {c.contacted.customers:,} contacted",
                INCREMENTAL: f" from {c.contacted.customers:,} contacted, holdout "
                             f"{c.holdout.customers:,}"}[got.figure]
        return f"{got.figure}{size}: " + ", ".join(
            f"{f.channel} {f.response:.4f}" for f in got.channels)

    return [[k, words(before, k), words(after, k)] for k in learnt]
