"""Contact policies enforced on the allocation's options (README "Contact policies").

In: the contact policies (engine.project.contact_policies), the past contacts and responses
(``ContactLog``, read from the history by engine.history.contacts), the options' customers,
campaigns and channels. Out: which (customer, channel) options are blocked and, per customer,
the reasons. Every step is a few numpy passes over the contacts: no loop over customers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine.activation.ids import Ids, positions_of
from engine.project.contact_policies import (
    OPTED_OUT,
    RESPONDED,
    ContactPolicies,
    ContactPolicy,
)
from engine.project.schema import OUTCOME_PRECEDENCE

__all__ = ["ContactLog", "Suppression", "opt_out_said", "opted_out", "suppress"]


def _empty(kind: str) -> np.ndarray:
    return np.zeros(0, dtype=kind)


# a text per contact: numpy objects, or a categorical (the history's: compared on its codes)
Texts: TypeAlias = "np.ndarray | pd.Categorical"


@dataclass(frozen=True)
class ContactLog:
    """Past contacts and responses, dated in days before this run's as-of date."""

    contact_customer: Ids = field(default_factory=lambda: _empty("O"))
    contact_days_ago: np.ndarray = field(default_factory=lambda: _empty("i8"))
    contact_channel: Texts = field(default_factory=lambda: _empty("O"))
    contact_campaign: Texts = field(default_factory=lambda: _empty("O"))
    response_customer: Ids = field(default_factory=lambda: _empty("O"))
    response_days_ago: np.ndarray = field(default_factory=lambda: _empty("i8"))
    response_outcome: np.ndarray = field(default_factory=lambda: _empty("O"))
    response_campaign: np.ndarray = field(default_factory=lambda: _empty("O"))
    # the opt-outs known (outcome opted_out, of the whole history): customer, date (ISO text),
    # campaign, earliest first; the built-in rule stops every contact from the next run on
    opted_out_customer: Ids = field(default_factory=lambda: _empty("O"))
    opted_out_date: np.ndarray = field(default_factory=lambda: _empty("O"))
    opted_out_campaign: np.ndarray = field(default_factory=lambda: _empty("O"))
    source: str = "none"  # what the manifest and the messages say about where it came from
    runs: int = 0  # runs whose contacts count
    live: int = 0  # contacts `cvm serve` gave that count (engine.history.live), after the runs'

    def contacts_of(self, customer_id: str) -> int:
        """The contacts counted for one customer."""
        found = pc.equal(_arrow(self.contact_customer), customer_id)
        return int(pc.sum(found).as_py() or 0)


@dataclass(frozen=True)
class Suppression:
    blocked: np.ndarray  # bool (customers, channels): the option may not be chosen
    reason: np.ndarray  # object per customer: the policies that blocked an allowed option
    counts: dict[str, int]  # customers with an allowed option it blocks, per contact policy


def suppress(policies: ContactPolicies, log: ContactLog, ids: np.ndarray,
             campaign: np.ndarray, channels: Sequence[str], allowed: np.ndarray, *,
             built_in: bool = True) -> Suppression:
    """Block the options the policies forbid, and every option of a customer who opted out
    (the built-in rule, before any policy: no file needed, none can lift it; ``built_in``
    False: the policies' verdicts alone). ``ids``, ``campaign``: per customer (rows of
    ``allowed``, the options that exist before the policies)."""
    n, k = allowed.shape
    blocked = np.zeros((n, k), dtype=bool)
    reason = np.full(n, "", dtype=object)
    counts: dict[str, int] = {}
    known = pa.array(ids, type=pa.string())  # made once: a million ids cost
    # one hash table of the ids for all three (engine.activation.ids)
    c_at, r_at, o_at = positions_of([log.contact_customer, log.response_customer,
                                     log.opted_out_customer], known)
    if built_in and len(log.opted_out_customer):
        out, text = opted_out(log, o_at, n)
        matters = out & allowed.any(axis=1)
        counts[OPTED_OUT] = int(matters.sum())
        blocked[out] = True
        reason[matters] = text(matters)
    for pol in policies.policies:
        hit, text = _evaluate(pol, log, c_at, r_at, n)
        rows = hit & ((campaign == pol.campaign) if pol.campaign else True)
        cols = np.array([pol.channel is None or ch == pol.channel for ch in channels])
        block = rows[:, None] & cols[None, :]
        # every policy blocking an allowed option is named and counted, not only the first
        # in file order: the reason then agrees with `cvm explain` (counts may overlap)
        matters = (block & allowed).any(axis=1)
        counts[pol.id] = int(matters.sum())
        blocked |= block
        if matters.any():
            add = text(matters)
            old = reason[matters]
            reason[matters] = np.where(old == "", add, old + "; " + add)
    return Suppression(blocked, reason, counts)


Text = Callable[[np.ndarray], np.ndarray]


def opt_out_said(date: object, campaign: object) -> str:
    """How an opt-out is named in a reason: its date and the campaign it answered."""
    return f"opted out on {date} (campaign {campaign})"


def opted_out(log: ContactLog, o_at: np.ndarray, n: int) -> tuple[np.ndarray, Text]:
    """Per customer: whether they opted out (a response ``opted_out`` the run knows), and the
    reason for a mask, naming their first opt-out (the log lists them earliest first)."""
    mine = np.flatnonzero(o_at >= 0)
    who, first = np.unique(o_at[mine], return_index=True)
    row = mine[first]
    out = np.zeros(n, dtype=bool)
    if len(row) == 0:  # (pandas 2.2 cannot factorize an empty MultiIndex)
        return out, lambda mask: np.full(int(np.count_nonzero(mask)), "", dtype=object)
    out[who] = True
    code = np.full(n, -1, dtype=np.int64)
    # a text per distinct (date, campaign), not per customer
    code[who], pairs = pd.MultiIndex.from_arrays(
        [log.opted_out_date[row], log.opted_out_campaign[row]]).factorize()
    texts = np.array([opt_out_said(d, c) for d, c in pairs], dtype=object)
    return out, lambda mask: texts[code[mask]]


def _evaluate(pol: ContactPolicy, log: ContactLog, c_at: np.ndarray, r_at: np.ndarray,
              n: int) -> tuple[np.ndarray, Text]:
    """Per customer: whether the policy forbids a contact now, and its reason for a mask."""
    mine = c_at >= 0
    if pol.channel:
        mine &= log.contact_channel == pol.channel
    if pol.campaign:
        mine &= log.contact_campaign == pol.campaign
    if pol.days is not None:
        mine &= log.contact_days_ago < pol.days
    head = f"contact policy {pol.id}: "
    if pol.kind == "cap":
        count = np.bincount(c_at[mine], minlength=n)
        return count >= pol.max_contacts, _texts(
            count, lambda v: f"{head}{_n(v, 'contact')} in the last {pol.days} days "
                             f"(at most {pol.max_contacts})")
    if pol.kind == "cool_down":
        last = _min_per(c_at[mine], log.contact_days_ago[mine], n)
        return last < np.iinfo(np.int64).max, _texts(
            last, lambda v: f"{head}last contact {_n(v, 'day')} ago (cool-down "
                            f"{pol.days} days)")
    if pol.kind == "no_response":
        answered = (r_at >= 0) & np.isin(log.response_outcome, RESPONDED)
        if pol.campaign:
            answered &= log.response_campaign == pol.campaign
        last = _min_per(r_at[answered], log.response_days_ago[answered], n)
        after = mine & (log.contact_days_ago < last[np.maximum(c_at, 0)])
        count = np.bincount(c_at[after], minlength=n)
        window = f" in the last {pol.days} days" if pol.days is not None else ""
        return count >= pol.max_contacts, _texts(
            count, lambda v: f"{head}{_n(v, 'contact')} without a response{window} "
                             f"(at most {pol.max_contacts})")
    quiet = (r_at >= 0) & np.isin(log.response_outcome, pol.outcomes) \
        & (log.response_days_ago < (pol.days or 0))
    if pol.campaign:
        quiet &= log.response_campaign == pol.campaign
    # the latest such response per customer: its outcome and age; of one day, the outcome
    # last_outcome reads too (OUTCOME_PRECEDENCE, not the order of import)
    rank = pd.Categorical(log.response_outcome[quiet], categories=OUTCOME_PRECEDENCE).codes
    order = np.lexsort((-rank.astype(np.int64), log.response_days_ago[quiet]))
    who, ago, what = r_at[quiet][order], log.response_days_ago[quiet][order], \
        log.response_outcome[quiet][order]
    first = np.unique(who, return_index=True)[1]
    code = np.full(n, -1, dtype=np.int64)
    outcome, names = pd.factorize(what[first])
    m = max(len(names), 1)
    distinct, code[who[first]] = np.unique(ago[first] * m + outcome, return_inverse=True)
    texts = np.array([f"{head}{names[int(v) % m]} {_n(int(v) // m, 'day')} ago (quiet for "
                      f"{pol.days} days)" for v in distinct], dtype=object)
    return code >= 0, lambda mask: texts[code[mask]]


def _arrow(ids: Ids) -> pa.Array | pa.ChunkedArray:
    if isinstance(ids, pa.Array | pa.ChunkedArray):
        return ids if ids.type == pa.string() else ids.cast(pa.string())
    return pa.array(ids, type=pa.string())


def _min_per(at: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, at, value)
    return out


def _texts(value: np.ndarray, fmt: Callable[[int], str]) -> Text:
    """Reasons for a mask, formatted once per distinct value rather than once per customer."""
    def text(mask: np.ndarray) -> np.ndarray:
        distinct, inverse = np.unique(value[mask], return_inverse=True)
        return np.array([fmt(int(v)) for v in distinct], dtype=object)[inverse]
    return text


def _n(v: int, word: str) -> str:
    return f"{v} {word}" + ("" if v == 1 else "s")
