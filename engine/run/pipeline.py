"""The main job without side effects: score -> stage -> decide -> allocate.

``compute`` takes the project (read and checked by ``engine.run.build``) and returns everything
``cvm run`` writes and ``cvm plan`` compares; it reads no project file and writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from engine.activation import money
from engine.activation.actions_schema import NAMES
from engine.activation.allocate import NO_CHANNEL, Allocation, Options, allocate, build_options
from engine.activation.contact import ContactLog
from engine.activation.enforce import Blocked, enforce
from engine.activation.holdout import in_holdout
from engine.activation.learned import Learned
from engine.decimals import figure, round_half_up
from engine.errors import InputError
from engine.history import with_changes
from engine.history.learn import (
    holds_rows_for,
    learning_since,
    read_learned,
    rows_learning_reads,
    run_campaigns,
)
from engine.policy.decisions import decide
from engine.policy.lifecycle import assign_stages
from engine.project.channels import ChannelSetup, stakes_without_model
from engine.project.config import Config
from engine.project.contact_policies import NONE, ContactPolicies
from engine.project.project import Project
from engine.project.schema import CHANGE_COLUMNS, attribute_types
from engine.value.formulas import as_shown
from engine.value.score import Scored, score

Progress = Callable[[str], None]
NO_ACTION = "no_action"


Setup = Project  # the former name: the checked files of a project, now with its config


@dataclass(frozen=True)
class Computed:
    config: Config
    setup: Project
    scored: Scored
    table: pd.DataFrame  # the value table with lifecycle_stage and stage_rule
    decisions: pd.DataFrame  # one row per customer
    actions: pd.DataFrame  # one row per actioned customer, columns of actions_schema
    allocation: Allocation | None
    contact: dict[str, object] = field(default_factory=dict)  # contact policies (manifest)
    learned: Learned = field(default_factory=Learned)  # expected responses used (manifest)
    timings: dict[str, float] = field(default_factory=dict)
    blocked: Blocked | None = None  # who had an option blocked by a contact policy (cvm plan)


def types_for(config: Config) -> dict[str, str]:
    return attribute_types(consents=config.data.consents, extra=config.data.attributes,
                           subscriptions=config.subscriptions is not None)


def staged(config: Config, setup: Project, scored: Scored, *, history: bool = True,
           until: int | None = None) -> pd.DataFrame:
    """The value table as the policies read it: what changed since the last run
    (``with_changes``; the contacts `cvm serve` gave up to id ``until``), then the lifecycle
    stages and segments. ``cvm run`` and ``cvm validate --audience`` both take it from here."""
    table = with_changes(config, scored, use_history=history, until=until)
    as_shown(table, [c.name for c in CHANGE_COLUMNS])  # as the value figures (rescore)
    return assign_stages(table, setup.rulebook)


def kept_for_learning(scored: Scored, setup: Project, *, history: bool = True) -> Scored:
    """``scored`` holding only the transaction rows learning reads (none on a first run, or
    with ``--no-history``): they are held through the allocation and the writing."""
    since = learning_since(setup, history=history, before=scored.as_of)
    return replace(scored, transactions=rows_learning_reads(scored.transactions, since))


def holds_what_learning_reads(scored: Scored, setup: Project, *, history: bool = True) -> bool:
    """Whether ``scored`` holds every row learning reads for ``setup`` now: a value table
    kept from an earlier computation, or made for another side of a plan."""
    return holds_rows_for(scored.transactions,
                          learning_since(setup, history=history, before=scored.as_of))


def compute(setup: Project, *, scored: Scored | None = None,
            progress: Progress | None = None, history: bool = True,
            decided: Callable[[pd.DataFrame, pd.DataFrame], None] | None = None,
            until: int | None = None) -> Computed:
    """Value, stages, decisions and the action list of ``setup`` (built by
    ``engine.run.build``); ``scored``: the value table when the caller has it already;
    ``decided(table, decisions)``: called with the final value table and decisions before the
    allocation (``cvm run`` writes their files meanwhile; neither is changed after);
    ``until``: the highest id of the contacts `cvm serve` gave that the look-backs read
    (engine.history.live; None: all)."""
    config = setup.config
    timings: dict[str, float] = {}

    def step(name: str) -> float:
        if progress is not None:
            progress(name)
        return time.perf_counter()

    if scored is None:
        scored = score(config, progress=progress, tiers=setup.tiers)
        timings.update(scored.timings)
        scored = kept_for_learning(scored, setup, history=history)
    start = step("lifecycle")
    table = staged(config, setup, scored, history=history, until=until)
    timings["lifecycle"] = time.perf_counter() - start
    start = step("decide")
    decisions = decide(table, setup.rulebook)
    timings["decide"] = time.perf_counter() - start
    if decided is not None:
        decided(table, decisions)
    start = step("allocate")
    log = ContactLog()
    if history or setup.contacts.policies:  # the opt-outs always, the contacts for policies
        from engine.history.contacts import read_contacts

        log = read_contacts(config, as_of=scored.as_of, window=setup.contacts.window,
                            use_history=history, until=until)
    used = run_campaigns(decisions)
    if unvalued := stakes_without_model(  # models.use auto, the fit failed: no model column
            setup.channels, scored.model.reason.rstrip("."),
            "name a column of the formulas (clv_discounted, potential_value, total_value), "
            "or see why the model cannot be fitted with cvm fit",
            [c for c in used if setup.channels.campaign(c).value_at_stake not in table]):
        raise InputError(unvalued)
    learned = read_learned(config, scored.transactions, setup.channels, as_of=scored.as_of,
                           campaigns=used, use_history=history)
    actions, alloc, contact, blocked = _allocated(table, decisions, setup.channels, progress,
                                                  setup.contacts, log, learned.rates())
    timings["allocate"] = time.perf_counter() - start
    return Computed(config, setup, scored, table, decisions, actions, alloc, contact, learned,
                    timings, blocked)


def actions_for(table: pd.DataFrame, decisions: pd.DataFrame, channels: ChannelSetup,
                progress: Progress | None = None) -> tuple[pd.DataFrame, Allocation]:
    """The action list of these decisions (no contact policies): ``cvm test``'s channel."""
    frame, alloc, _, _ = _allocated(table, decisions, channels, progress)
    return frame, alloc


@dataclass(frozen=True)
class _Audience:
    """The actioned customers as the allocation reads them: their decisions, the value-table
    columns it needs, campaign ids, value at stake and holdout share."""

    dec: pd.DataFrame
    tab: pd.DataFrame
    camp_ids: np.ndarray
    stake: np.ndarray
    shares: np.ndarray


def _audience(table: pd.DataFrame, decisions: pd.DataFrame, channels: ChannelSetup
              ) -> _Audience:
    action = decisions["action"].astype(object)
    rows = np.flatnonzero((action.notna() & (action != NO_ACTION)).to_numpy())
    dec = decisions.iloc[rows].reset_index(drop=True)
    # object columns: a categorical cannot take new values on pandas 2 (fillna, setitem)
    campaigns = dec["campaign"].astype(object).fillna(dec["policy_id"].astype(object))
    dec = dec.assign(campaign=campaigns)
    camp_ids = campaigns.to_numpy(dtype=object)
    # the columns the allocation reads, of the actioned customers: not a copy of the whole
    # value table's rows (at 10M customers, gigabytes beside the options)
    read = ["customer_id", "value_tier", "lifecycle_stage", "preferred_channel",
            *(ch.consent for ch in channels.channels if ch.consent is not None),
            *(channels.campaign(str(camp)).value_at_stake for camp in pd.unique(camp_ids))]
    tab = table[[c for c in dict.fromkeys(read) if c in table]].iloc[rows] \
        .reset_index(drop=True)
    stake = np.zeros(len(dec))
    shares = np.zeros(len(dec))
    for camp in pd.unique(camp_ids):
        where = camp_ids == camp
        spec = channels.campaign(str(camp))
        stake[where] = np.maximum(tab[spec.value_at_stake].fillna(0.0).to_numpy()[where], 0.0)
        shares[where] = spec.holdout_share
    return _Audience(dec, tab, camp_ids, stake, shares)


def options_of(computed: Computed, customer_id: str) -> Options | None:
    """The allocation's options of one customer of ``computed`` (before the contact
    policies), as the run built them; None: no action to allocate (``cvm explain``)."""
    found = np.flatnonzero(computed.table["customer_id"].to_numpy(dtype=object) == customer_id)
    if not len(found):
        return None
    row = found[:1]
    aud = _audience(computed.table.iloc[row], computed.decisions.iloc[row],
                    computed.setup.channels)
    if not len(aud.dec):
        return None
    return build_options(aud.dec, aud.tab, computed.setup.channels, aud.stake,
                         computed.learned.rates())


def _allocated(table: pd.DataFrame, decisions: pd.DataFrame, channels: ChannelSetup,
               progress: Progress | None = None, contacts: ContactPolicies = NONE,
               log: ContactLog | None = None, rates: dict[str, np.ndarray] | None = None
               ) -> tuple[pd.DataFrame, Allocation, dict[str, object], Blocked]:
    aud = _audience(table, decisions, channels)
    dec, tab, camp_ids, stake, shares = aud.dec, aud.tab, aud.camp_ids, aud.stake, aud.shares
    ids = tab["customer_id"].to_numpy()
    holdout = in_holdout(ids, camp_ids, shares, channels.salt)
    contact = np.flatnonzero(~holdout)
    channel = np.full(len(dec), None, dtype=object)
    cost = np.zeros(len(dec))
    ev = np.zeros(len(dec))
    response = np.zeros(len(dec))
    reason = np.full(len(dec), "", dtype=object)
    opts = build_options(dec.iloc[contact], tab.iloc[contact], channels, stake[contact], rates)
    opts, suppressed, summary, blocked = enforce(opts, contacts, log or ContactLog(), channels)
    alloc = allocate(opts, channels, progress=progress)
    got = alloc.channel != NO_CHANNEL
    idx = contact[got]
    names = np.array([ch.id for ch in channels.channels], dtype=object)
    costs = np.array([ch.cost_per_contact for ch in channels.channels])
    channel[idx] = names[alloc.channel[got]]
    cost[idx] = costs[alloc.channel[got]]
    ev[idx] = opts.ev[np.flatnonzero(got), alloc.channel[got]]
    response[idx] = opts.response[np.flatnonzero(got), alloc.channel[got]]
    reason[contact] = alloc.reason
    status = np.where(holdout, "holdout", np.where(channel != None, "allocated",  # noqa: E711
                                                   "not_served")).astype(object)
    status[contact[suppressed]] = "suppressed"
    reason = np.where(holdout, "holdout group: not contacted, to measure the campaign", reason)
    reason = np.where(status == "allocated", dec["reason"].astype(object).to_numpy(), reason)
    # the text columns as they are: pandas 3 would scan each for its str dtype and copy it
    # to Arrow (about a second at 1M actions), and the writers convert them once anyway
    frame = pd.DataFrame({
        "run_id": "",
        "customer_id": _text(ids),
        "campaign": _text(camp_ids),
        "action": _text(dec["action"].astype(object).to_numpy()),
        "policy_id": _text(dec["policy_id"].astype(object).to_numpy()),
        "priority": dec["priority"].to_numpy(dtype=np.int64),
        "channel": _text(channel),
        "cost": round_half_up(cost, 4),
        "expected_value": round_half_up(ev, 4),
        "expected_response": round_half_up(response, 6),
        "value_at_stake": round_half_up(stake, 2),
        "service_level": _text(dec["service_level"].astype(object).to_numpy()),
        "offer": _text(dec["offer"].astype(object).to_numpy()),
        "value_tier": _text(tab["value_tier"].astype(object).to_numpy()),
        "lifecycle_stage": _text(tab["lifecycle_stage"].astype(object).to_numpy()),
        "holdout": holdout,
        "status": _text(status.astype(object)),
        "reason": _text(reason.astype(object)),
    })
    return frame[list(NAMES)], alloc, summary, blocked


def _text(values: np.ndarray) -> pd.Series:
    """An object column kept as objects (no inference of a dtype: the same on pandas 2 and 3)."""
    return pd.Series(values, dtype=object, copy=False)


def allocation_summary(actions: pd.DataFrame, channels: ChannelSetup) -> pd.DataFrame:
    """Contacts, cost and expected value per channel, per campaign, and per both. The amounts
    are summed exactly and rounded once (engine.activation.money): the channel rows and the
    campaign rows each add up to the run's total, a campaign's channel rows to the campaign."""
    # the columns summed: each selection below copies these, not the whole action list
    actions = actions[["campaign", "status", "channel", "cost", "expected_value"]]
    done = actions[actions["status"] == "allocated"]
    ids = [ch.id for ch in channels.channels]
    camps = [str(c) for c in sorted(actions["campaign"].unique())]
    shown = {key: money.breakdown(done["campaign"], done["channel"], done[key], ids, camps)
             for key in ("cost", "expected_value")}
    rows: list[dict[str, object]] = []
    for ch in channels.channels:
        part = done[done["channel"] == ch.id]
        rows.append(_summary_row("channel", "(all)", ch.id, part, ch.budget, ch.capacity,
                                 {k: b.channel[ch.id] for k, b in shown.items()}))
    for camp in camps:
        spec = channels.campaign(camp)
        part = done[done["campaign"] == camp]
        rows.append(_summary_row("campaign", camp, "(all)", part, spec.budget, None,
                                 {k: b.campaign[camp] for k, b in shown.items()}))
        for ch in channels.channels:
            sub = part[part["channel"] == ch.id]
            if len(sub):
                rows.append(_summary_row("campaign_channel", camp, ch.id, sub, None, None,
                                         {k: b.cell[camp, ch.id] for k, b in shown.items()}))
    frame = pd.DataFrame(rows)
    frame["capacity"] = frame["capacity"].astype("Int64")
    return frame


def _summary_row(level: str, campaign: str, channel: str, part: pd.DataFrame,
                 budget: float | None, capacity: int | None,
                 amounts: dict[str, float]) -> dict[str, object]:
    exact = money.units(part["cost"]) / money.SCALE  # the budget's share: of the exact cost
    return {
        "level": level, "campaign": campaign, "channel": channel, "contacts": len(part),
        "cost": amounts["cost"], "budget": budget,
        "budget_used_share": figure(exact / budget, 4) if budget else None,
        "capacity": capacity,
        "capacity_used_share": figure(len(part) / capacity, 4) if capacity else None,
        "expected_value": amounts["expected_value"],
    }
