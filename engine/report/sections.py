"""The report's non-monthly sections: value tiers, lifecycle stages and the latest ``cvm run``.

Lifecycle stages and runs come from other stages of the engine; when they are not available
(module not installed, no ``rules/lifecycle.yaml``, no run output yet) the section carries a
plain sentence saying so and what to do, instead of failing the report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from engine.data.load import EPOCH
from engine.decimals import units
from engine.errors import InputError
from engine.project.config import Config
from engine.project.rulebook import Rulebook
from engine.value.score import Scored, score

LIFECYCLE_RULES = Path("rules") / "lifecycle.yaml"
NOT_YET = "(not yet a customer)"
ALLOCATION_COLUMNS = ("campaign", "channel", "contacts", "cost", "budget", "budget_used_share",
                      "capacity", "capacity_used_share", "expected_value")
STATUSES = ("allocated", "holdout", "not_served")


@dataclass(frozen=True)
class TierRow:
    name: str
    customers: int
    customer_share: float
    total_value: float
    value_share: float
    avg_total_value: float
    clv_discounted: float


def tier_rows(scored: Scored) -> list[TierRow]:
    """Customers and value per tier, highest tier first."""
    t = scored.table
    n, total = len(t), float(t["total_value"].sum())
    rows = []
    for name in scored.tiers.names:
        part = t[t["value_tier"] == name]
        value = float(part["total_value"].sum())
        rows.append(TierRow(name, len(part), len(part) / n if n else 0.0, value,
                            value / total if total else 0.0,
                            value / len(part) if len(part) else 0.0,
                            float(part["clv_discounted"].sum())))
    return rows


def cancelled_clv(scored: Scored, currency: str) -> str:
    """What the tier table's "Sum of CLV" holds for a subscription project's customers without
    a running contract: the formula's clv_discounted values a customer as if active now (README
    "Why two margins"), so theirs is the worth of winning them back. Empty without contracts."""
    tx = scored.transactions
    if tx is None or tx.active is None:
        return ""
    t = scored.table
    at = pd.Index(tx.customer_ids).get_indexer(t["customer_id"].astype(object))
    gone = ~tx.active[at]
    if not gone.any():
        return ""
    worth = float(t["clv_discounted"].to_numpy()[gone].sum())
    return (f"Sum of CLV is the formula's clv_discounted, which values a customer as if active "
            f"now: for the {int(gone.sum()):,} subscribers without a running contract "
            f"({currency} {units(worth)} of it) it is what winning them back is worth, not value "
            "they will bring unasked. The customer equity above counts only the customers "
            "active at the as-of date, and the model's equity (clv_model) is 0 for those who "
            "left.")


@dataclass(frozen=True)
class Stages:
    """Stage counts at two dates and the flows between them; ``missing`` says why not."""

    missing: str = ""
    note: str = ""  # why there are no flows, when the stages as of ``before`` cannot be had
    names: tuple[str, ...] = ()
    before: dt.date | None = None
    after: dt.date | None = None
    count_before: tuple[int, ...] = ()
    count_after: tuple[int, ...] = ()
    flow_rows: tuple[str, ...] = ()
    flows: tuple[tuple[int, ...], ...] = ()
    # each customer's stage as of ``after``, in the value table's row order
    stage_now: pd.Series | None = field(default=None, repr=False, compare=False)


def _module(name: str) -> Any | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def lifecycle_stages(config: Config, scored: Scored, before: dt.date | None, *,
                     rulebook: Rulebook) -> Stages:
    """Stages as of the report's as-of date and as of ``before`` (a month earlier), with the
    number of customers moving from each stage to each other one. ``rulebook``: the
    project's, read with it (``engine.run.build``'s report scope reads it when the project
    has lifecycle rules)."""
    lifecycle = _module("engine.policy.lifecycle")
    if lifecycle is None:
        return Stages(missing="lifecycle stages are not available in this version of CVM "
                      "Engine (engine.policy.lifecycle is missing)")
    if not (config.project / LIFECYCLE_RULES).is_file():
        return Stages(missing=f"no {LIFECYCLE_RULES} in the project: write the stage rules "
                      "there to see the stage mix and flows")
    book = rulebook
    names = tuple(book.stage_names)
    now = _stage_of(lifecycle, scored.table, book)
    only_now = Stages(names=names, after=scored.as_of,
                      count_after=tuple(int((now == s).sum()) for s in names), stage_now=now)
    if before is None:
        return only_now
    try:
        earlier = score(dataclasses.replace(config, as_of=before), tiers=scored.tiers)
    except InputError as exc:  # e.g. too little history a month ago to measure retention
        return dataclasses.replace(only_now, note=f"no stage flows: the value table as of "
                                   f"{before} cannot be computed ({exc.problems[0].message})")
    then = _stage_of(lifecycle, earlier.table, book)
    both = pd.DataFrame({"then": then, "now": now}).fillna({"then": NOT_YET})
    rows = tuple(s for s in (*names, NOT_YET) if s in set(both["then"]) or s in names)
    table = pd.crosstab(both["then"], both["now"]).reindex(index=list(rows), columns=list(names),
                                                           fill_value=0)
    return Stages(
        names=names, before=before, after=scored.as_of,
        count_before=tuple(int((then == s).sum()) for s in names),
        count_after=tuple(int((now == s).sum()) for s in names),
        flow_rows=rows, flows=tuple(tuple(int(x) for x in r) for r in table.to_numpy()),
        stage_now=now,
    )


def _stage_of(lifecycle: Any, table: pd.DataFrame, book: Any) -> pd.Series:
    staged = lifecycle.assign_stages(table, book)
    return pd.Series(staged["lifecycle_stage"].to_numpy(), index=table["customer_id"].to_numpy(),
                     dtype=object)


@dataclass(frozen=True)
class LatestRun:
    """The allocation of the latest ``cvm run`` found in the output folder."""

    missing: str = ""
    folder: str = ""
    run_id: str = ""
    as_of: str = ""  # the run's as-of date, from manifest.json
    channels: pd.DataFrame | None = None  # one row per channel, ALLOCATION_COLUMNS
    campaigns: pd.DataFrame | None = None  # one row per campaign
    statuses: tuple[tuple[str, int], ...] = ()


def latest_run(folder: Path, shown: str) -> LatestRun:
    """Read ``allocation_summary.csv``, and the run id, as-of date and statuses beside it.

    The summary has a ``level`` column (channel, campaign, campaign_channel rows); a file
    without it is taken as campaign x channel rows and totalled here.
    """
    summary = folder / "allocation_summary.csv"
    if not summary.is_file():
        return LatestRun(missing=f"no run yet: run `cvm run` (no allocation_summary.csv in "
                         f"{shown})")
    frame = pd.read_csv(summary, dtype={"campaign": str, "channel": str})
    lacking = [c for c in ALLOCATION_COLUMNS if c not in frame.columns]
    if lacking:
        return LatestRun(missing=f"{shown}/allocation_summary.csv lacks the columns "
                         f"{', '.join(lacking)}: it was written by another version; rerun "
                         "`cvm run`")
    sums = ["contacts", "cost", "expected_value"]
    if "level" in frame.columns:
        channels = frame[frame["level"] == "channel"]
        campaigns = frame[frame["level"] == "campaign"]
    else:
        channels = frame.groupby("channel", sort=False)[sums].sum().reset_index()
        campaigns = frame.groupby("campaign", sort=False)[sums].sum().reset_index()
    channels = channels.reindex(columns=list(ALLOCATION_COLUMNS)).reset_index(drop=True)
    campaigns = campaigns.reindex(columns=list(ALLOCATION_COLUMNS)).reset_index(drop=True)
    run_id, as_of = "", ""
    statuses: tuple[tuple[str, int], ...] = ()
    acts = _actions(folder)
    if acts is not None and len(acts):
        if "run_id" in acts:
            run_id = str(acts["run_id"].iloc[0])
        if "status" in acts:
            counts = acts["status"].astype(str).value_counts()
            statuses = tuple((s, int(counts.get(s, 0))) for s in STATUSES)
            if counts.get("suppressed", 0):  # by a contact policy: the statuses add up
                statuses += (("suppressed", int(counts["suppressed"])),)
    manifest = folder / "manifest.json"
    if manifest.is_file():
        try:
            as_of = str(json.loads(manifest.read_text(encoding="utf-8")).get("as_of", ""))
        except (ValueError, AttributeError):
            as_of = ""  # an unreadable manifest only costs the date in the caption
    return LatestRun(folder=shown, run_id=run_id, as_of=as_of, channels=channels,
                     campaigns=campaigns, statuses=statuses)


def _actions(folder: Path) -> pd.DataFrame | None:
    """The run id and status columns of the action list, in whichever format it was written."""
    wanted = ["run_id", "status"]
    if (folder / "actions.csv").is_file():
        return pd.read_csv(folder / "actions.csv", usecols=lambda c: c in wanted, dtype=str)
    if (folder / "actions.parquet").is_file():
        frame = pd.read_parquet(folder / "actions.parquet")
        return frame[[c for c in wanted if c in frame.columns]]
    if (folder / "actions.jsonl").is_file():
        frame = pd.read_json(folder / "actions.jsonl", lines=True, dtype=False)
        return frame[[c for c in wanted if c in frame.columns]]
    return None


def data_end_note(last_day: int, as_of: dt.date) -> str | None:
    """A note for the page when the export ends before the day before the as-of date (an
    as_of: set later): its last months would read as a business that stopped, with nothing
    on the saved page to say otherwise (the commands' warning is on the terminal only)."""
    if last_day < 0:
        return None
    last = EPOCH + dt.timedelta(days=last_day)
    gap = (as_of - last).days - 1
    if gap <= 0:
        return None
    return (f"the transactions end on {last}, {gap + 1} days before the as-of date {as_of}: "
            "the days after it show no purchases because the export ends there, not because "
            "customers stopped buying")
