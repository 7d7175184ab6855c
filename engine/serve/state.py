"""The service's state: the project and the latest run, with every customer's answers (worked
out when first asked for, then kept), in one immutable object. A reload builds a new one beside
it and swaps a single reference (``Holder``), so a request sees the old state or the new one,
never a mix, and none fails.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.activation.contact import ContactLog, suppress
from engine.history.contacts import read_contacts
from engine.policy.explain import Explanation, explain
from engine.policy.lifecycle import assign_segments
from engine.policy.matchers import policy_matcher
from engine.project.channels import channel_ids
from engine.project.contact_policies import OPTED_OUT
from engine.project.project import Project
from engine.project.rulebook import NO_ACTION
from engine.run.build import load_project
from engine.run.pipeline import types_for
from engine.serve.answers import (
    ContactVerdict,
    contact_verdicts,
    next_best_action,
    plain,
    profile,
    trigger_refusal,
)
from engine.serve.given import Given, read_given, with_given
from engine.serve.opt_outs import OptOuts
from engine.serve.ready import Answers, Ready, dumps
from engine.serve.rundata import RunData, manifest_stamp, read_run, run_folder

# context may name these attribute kinds (dates and the derived stage, never code)
CONTEXT_KINDS = ("number", "text", "boolean")
DERIVED = ("customer_id", "lifecycle_stage", "stage_rule", "segments")
DECIDED = ("action", "policy_id", "campaign", "offer", "service_level", "service_policy",
           "reason")


@dataclass(frozen=True)
class ServeState:
    project: Project
    run: RunData
    ready: Answers
    channels: tuple[str, ...]
    context_types: Mapping[str, str]
    stamp: tuple[int, int] | None
    loaded_at: str
    # every opt-out of the history, as known now (reread while serving): id -> why
    opt_outs: OptOuts = field(default_factory=lambda: OptOuts(None))
    # the contacts the service gave since the run (counted at once), and the run's contact log
    given: Given = field(default_factory=lambda: Given(dt.date.min))
    log: ContactLog = field(default_factory=ContactLog)
    # verdicts counted again with contacts given since the run (a cache, by customer and those)
    _recounted: dict[tuple[Any, ...], tuple[ContactVerdict, ...]] = field(
        default_factory=dict, repr=False)
    # the answers on a channel, built on first use (a cache: the same bytes every time)
    _on_channel: dict[tuple[str, str], tuple[bytes, Mapping[str, Any]]] = field(
        default_factory=dict, repr=False)

    @property
    def run_id(self) -> str:
        return self.run.run_id

    def nba_bytes(self, customer_id: str, channel: str | None
                  ) -> tuple[bytes, Mapping[str, Any]]:
        """The answer without context, as JSON, and its decision (what the interaction
        records: on a channel it may differ from the one without)."""
        ready = self.ready[customer_id]
        now = self._now(ready)
        if now is not ready:  # opted out, or given a contact, since the load
            body = self.answer(now, channel, None, ready.explanation, ready.decided)
            return dumps(body), body["decision"]
        if channel is None:
            return ready.nba, ready.decision
        key = (customer_id, channel)
        found = self._on_channel.get(key)
        if found is None:
            body = self.answer(ready, channel, None, ready.explanation, ready.decided)
            found = (dumps(body), body["decision"])
            self._on_channel[key] = found
        return found

    def answer(self, ready: Ready, channel: str | None, context: Mapping[str, Any] | None,
               why: Explanation, decided: Mapping[str, Any] | None = None) -> dict[str, Any]:
        loaded = self.ready.get(str(ready.record["customer_id"]))
        return next_best_action(why, self.project.rulebook, channel=channel,
                                verdicts=ready.verdicts, run_id=self.run_id,
                                loaded=None if loaded is None else loaded.verdicts,
                                as_of=self.run.as_of, context=context, batch=ready.batch,
                                decided=decided,
                                refused=self.refused({**ready.record, **(context or {})},
                                                     channel) or self.unserved(
                                    channel, why.service_level))

    def unserved(self, channel: str | None, level: str) -> str | None:
        """Why no action is given to the customer on ``channel``: it does not serve their
        service level (policies/channels.yaml), as the batch allocation never gives it them
        (cvm explain says the same). Not a trigger's action: a trigger names its channel."""
        spec = next((c for c in self.project.channels.channels if c.id == channel), None)
        if spec is None or level in spec.service_levels:
            return None
        return (f"{channel} does not serve service level {level} (it serves "
                f"{', '.join(spec.service_levels)})")

    def refused(self, record: Mapping[str, Any], channel: str | None) -> str | None:
        """Why the customer may not be contacted on ``channel``: the channel's consent
        attribute (policies/channels.yaml) is not true, as the batch allocation reads it."""
        spec = next((c for c in self.project.channels.channels if c.id == channel), None)
        if spec is None or spec.consent is None:
            return None
        value = plain(record.get(spec.consent))
        if value is not None and bool(value):
            return None
        return (f"no consent on {channel}: {spec.consent} is "
                f"{'missing' if value is None else plain(value)}")

    def withheld(self, customer_id: str, channel: str | None,
                 campaign: str | None) -> str | None:
        """Why a trigger's action may not be given to the customer on ``channel``, as an
        action on a channel is not (``trigger_refusal``): a trigger's action is a contact
        beside the run's, so the run's own contact of the customer (allocated, on the as-of
        date) counts too, with those the service gave; a customer not in the run has no
        consent known, and only the contacts given here counted."""
        ready = self.ready.get(customer_id)
        opted = self.opt_outs.get(customer_id)
        gave = self.given.of(customer_id)
        if ready is not None:
            ready = self._now(ready)
            row = ready.batch or {}
            own = ((str(row["channel"]), str(row.get("campaign") or "") or None),) \
                if row.get("status") == "allocated" and row.get("channel") else ()
            verdicts = self._counted(customer_id, gave + own,
                                     str(ready.decided.get("campaign") or ""), opted) \
                if own else ready.verdicts
        else:
            verdicts = self._counted(customer_id, gave, "", opted) if gave else () \
                if opted is None else (_opted_out_verdict(self.channels, opted),)
        return trigger_refusal(verdicts, channel, campaign,
                               None if channel is None else
                               self.refused({} if ready is None else ready.record, channel))

    def _counted(self, customer_id: str, gave: tuple[tuple[str, str | None], ...],
                 campaign: str, opted: str | None) -> tuple[ContactVerdict, ...]:
        """The customer's verdicts with the contacts ``gave`` counted beside the run's log
        (0 days before its as-of date), the opt-out said first; made once per contacts."""
        key = (customer_id, gave, campaign, opted)
        found = self._recounted.get(key)
        if found is None:
            found = tuple(v for v in _verdicts(
                self.project, with_given(self.log, customer_id, gave),
                np.array([customer_id], dtype=object), np.array([campaign], dtype=object),
                self.channels, {})(0) if v.kind != "built_in")
            if opted is not None:
                found = (_opted_out_verdict(self.channels, opted), *found)
            self._recounted[key] = found
        return found

    def with_context(self, customer_id: str, channel: str | None,
                     context: Mapping[str, Any]) -> dict[str, Any]:
        """The answer had the customer's attributes been ``context``: decided again, live, by
        durable-rules (the stage too), as ``cvm explain`` decides."""
        ready = self._now(self.ready[customer_id])
        record = {k: v for k, v in ready.record.items()
                  if k not in DERIVED[1:] and not k.startswith("segment_")}
        record.update(context)
        if "recency_ratio" not in context and ({"recency_days", "avg_interpurchase_days"}
                                               & set(context)):
            record["recency_ratio"] = _recency_ratio(record, context)
        return self.answer(ready, channel, context, explain(record, self.project.rulebook))

    def _now(self, ready: Ready) -> Ready:
        """The customer's answers with the opt-out known now (one imported since the load
        blocks every channel, said first) and the contacts given since the run counted."""
        cid = str(ready.record["customer_id"])
        opted, gave = self.opt_outs.get(cid), self.given.of(cid)
        if opted == ready.opted and gave == ready.gave:
            return ready
        verdicts = self._counted(cid, gave, str(ready.decided.get("campaign") or ""), opted) \
            if gave != ready.gave else tuple(v for v in ready.verdicts if v.kind != "built_in")
        if gave == ready.gave and opted is not None:
            verdicts = (_opted_out_verdict(self.channels, opted), *verdicts)
        return dataclasses.replace(ready, opted=opted, gave=gave, verdicts=verdicts)


def load_state(folder: Path, *, config_file: Path | None = None, run: Path | None = None,
               opt_outs: OptOuts | None = None, given: Given | None = None) -> ServeState:
    """Read the project and its latest run and prepare every customer's answers (worked out
    when first asked for: ``Answers``), with every opt-out of the history (``opt_outs``,
    reread now; else read once from the project's) and the contacts given since the run (the
    history's, and ``given``'s not yet in it)."""
    project = load_project(folder, config_file)
    where = run_folder(project.config, run)
    stamp = manifest_stamp(where)
    data = read_run(where, project.config)
    if opt_outs is None:
        opt_outs = OptOuts(project.config)
        try:
            opt_outs.refresh()
        finally:
            opt_outs.close()
    else:
        opt_outs.refresh()
    as_of = dt.date.fromisoformat(data.as_of)
    read = read_given(project.config, as_of)
    given = given.since(as_of, read) if given is not None else Given(as_of, read)
    return build_state(project, data, stamp, opt_outs, given)


def build_state(project: Project, data: RunData, stamp: tuple[int, int] | None = None,
                opt_outs: OptOuts | None = None, given: Given | None = None) -> ServeState:
    opt_outs = opt_outs if opt_outs is not None else OptOuts(None)
    given = given if given is not None else Given(dt.date.fromisoformat(data.as_of))
    rulebook = project.rulebook
    table = data.table
    if rulebook.segments and not all(f"segment_{s.id}" in table for s in rulebook.segments):
        table = assign_segments(table, rulebook)
    matched = policy_matcher(rulebook).match_table(table)
    ids = table["customer_id"].astype(str).to_numpy(dtype=object)
    records = table.to_dict("records")
    decisions = data.decisions.to_dict("records")
    batch = {str(r["customer_id"]): r for r in data.actions.to_dict("records")}
    channels = tuple(channel_ids(project.folder, project.channels) or ())
    # one reading of the opt-outs for the verdicts and for what they hold (``Ready.opted``):
    # one swapped meanwhile then differs from it, and the answers are made again with it
    known = opt_outs.known
    # the contacts counted, read only for the policies (the opt-outs are ``known``)
    log = read_contacts(project.config, as_of=dt.date.fromisoformat(data.as_of),
                        window=project.contacts.window) \
        if project.contacts.policies and channels else ContactLog()
    campaign = pd.Series(data.decisions["campaign"].to_numpy(dtype=object)).fillna("")
    verdicts = _verdicts(project, log, ids, campaign.to_numpy(dtype=object), channels, known)

    def make(i: int) -> Ready:
        record, cid = records[i], str(ids[i])
        why = explain(record, rulebook, hits=frozenset(np.flatnonzero(matched[i]).tolist()))
        row = batch.get(cid)
        prof = profile(record, decisions[i], row, data.run_id, data.as_of)
        decided, verdict = run_decision(decisions[i]), verdicts(i)
        body = next_best_action(why, rulebook, channel=None, verdicts=verdict,
                                run_id=data.run_id, as_of=data.as_of, batch=row,
                                decided=decided)
        return Ready(record, why, verdict, prof, dumps(body), body["decision"], decided, row,
                     known.get(cid))

    ready = Answers(ids, records, make)
    types = {k: v for k, v in types_for(project.config).items()
             if v in CONTEXT_KINDS and k not in DERIVED}
    return ServeState(project, data, ready, channels, types, stamp,
                      dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), opt_outs,
                      given, log)


def run_decision(row: Mapping[str, str]) -> dict[str, Any]:
    """The run's decision of a customer (a decisions.csv row), as the answers give it."""
    found = {k: row.get(k) or None for k in DECIDED}
    if found["action"] == NO_ACTION:
        found["campaign"] = None  # the run leaves it empty there too
    return found


def _verdicts(project: Project, log: ContactLog, ids: np.ndarray, campaign: np.ndarray,
              channels: tuple[str, ...], opted: Mapping[str, str]
              ) -> Callable[[int], tuple[ContactVerdict, ...]]:
    """A customer's verdicts (by row): each contact policy's on the decided campaign
    (``campaign``), on the contacts ``log`` holds (the batch run's: the history before the
    run's as-of date), every policy at once (the per-customer part when asked for); first
    the built-in opt-out rule's, for a customer who opted out
    (``opted``: every opt-out the history holds, whatever its date), on every channel."""
    policies = project.contacts
    if not channels or (not policies.policies and not opted):
        return lambda i: ()
    allowed = np.ones((len(ids), len(channels)), dtype=bool)
    blocked: dict[str, np.ndarray] = {}
    reasons: dict[str, np.ndarray] = {}
    own: dict[str, np.ndarray] = {}  # a policy about one campaign, on a contact of it
    own_reasons: dict[str, np.ndarray] = {}
    for pol in policies.policies:
        one = type(policies)((pol,), policies.file)
        found = suppress(one, log, ids, campaign, channels, allowed, built_in=False)
        blocked[pol.id], reasons[pol.id] = found.blocked, found.reason
        if pol.campaign:
            found = suppress(one, log, ids, np.full(len(ids), pol.campaign, dtype=object),
                             channels, allowed, built_in=False)
            own[pol.id], own_reasons[pol.id] = found.blocked, found.reason
    names = np.array(channels, dtype=object)

    def of(i: int) -> tuple[ContactVerdict, ...]:
        each = contact_verdicts(
            policies, {p: tuple(names[b[i]]) for p, b in blocked.items()},
            {p: str(r[i]) for p, r in reasons.items()},
            {p: tuple(names[b[i]]) for p, b in own.items()},
            {p: str(r[i]) for p, r in own_reasons.items()})
        why = opted.get(str(ids[i]))
        return each if why is None else (_opted_out_verdict(channels, why), *each)

    return of


def _opted_out_verdict(channels: tuple[str, ...], why: str) -> ContactVerdict:
    """The built-in opt-out rule's verdict: every channel blocked, for every campaign."""
    return ContactVerdict(OPTED_OUT, "built_in", "every contact", None,
                          "an opted_out response stops every contact, for good",
                          channels, why, channels, why)


class Holder:
    """The current state, swapped whole by ``swap`` (one reference assignment: atomic)."""

    def __init__(self, state: ServeState) -> None:
        self.state = state
        self.failure: str | None = None  # why the last reload failed (None: it did not)
        self._lock = threading.Lock()  # one reload at a time
        # held while triggers' actions are checked and given (engine.serve.app), and at the
        # swap: a contact is counted by the state that gives it, and carried to the next
        self.giving = threading.Lock()

    def reload(self, folder: Path, *, config_file: Path | None = None,
               run: Path | None = None) -> ServeState:
        with self._lock:
            new = load_state(folder, config_file=config_file, run=run,
                             opt_outs=self.state.opt_outs, given=self.state.given)
            with self.giving:  # those given while it was built come along
                new.given.absorb()
                self.state, self.failure = new, None
            return new


def _recency_ratio(record: Mapping[str, Any], context: Mapping[str, Any]) -> float | None:
    """recency_days / avg_interpurchase_days as the run derives it (engine.value.features):
    the gap from the purchase days themselves, not the table's rounded figure (a ratio at a
    rule's limit would pass it), unless the context gives one; None without a gap."""
    recency = record.get("recency_days")
    gap = context.get("avg_interpurchase_days")
    if gap is None:
        first, last = record.get("first_purchase"), record.get("last_purchase")
        frequency = record.get("frequency")
        try:
            days = (pd.Timestamp(last) - pd.Timestamp(first)).days
            gap = days / frequency if isinstance(frequency, int) and frequency > 0 else None
        except (TypeError, ValueError):
            gap = None
    if not isinstance(recency, (int, float)) or not isinstance(gap, (int, float)) or \
            not gap > 0:
        return None
    return float(recency) / float(gap)

