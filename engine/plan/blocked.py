"""Why a customer's channel moved between the two sides of a dry-run when a contact policy is
the cause: the channel the customer had is now blocked, or the one they get was blocked before
(``engine.activation.enforce.Blocked``, kept by each side's computation). Else the allocation
itself moved them (capacity, budget or competition), which ``dry_run`` says."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from engine.run.pipeline import Computed

Block = tuple[frozenset[str], str]  # the channels blocked, the policies' reasons
NAMED = re.compile(r"contact policy ([^:;]+):")


def moved_by(changes: pd.DataFrame, before: Computed, after: Computed) -> list[str | None]:
    """Per changed customer: the contact policy that moved their channel, or None."""
    ids = changes["customer_id"].to_numpy()
    was, now = _blocks(before, ids), _blocks(after, ids)
    of_b, of_a = _channel_of(before), _channel_of(after)
    return [_moved(cb, ca, w, n, of_b, of_a) for cb, ca, w, n in
            zip(changes["channel_before"], changes["channel_after"], was, now, strict=True)]


def _moved(cb: object, ca: object, was: Block | None, now: Block | None,
           of_b: Mapping[str, str | None], of_a: Mapping[str, str | None]) -> str | None:
    if not isinstance(cb, str) or not isinstance(ca, str) or cb == ca:
        return None
    if now is not None and cb in now[0] and not (was is not None and cb in was[0]):
        return f"same action; {cb} is now blocked: {_naming(now[1], cb, of_a)}"
    if was is not None and ca in was[0] and not (now is not None and ca in now[0]):
        return f"same action; {ca} is no longer blocked (before: {_naming(was[1], ca, of_b)})"
    return None


def _naming(reason: str, channel: str, channel_of: Mapping[str, str | None]) -> str:
    """The parts of a customer's reason whose policy blocks ``channel`` (a policy of every
    channel, or of that one); the whole reason when none is told apart."""
    kept = [part for part in reason.split("; ")
            if (m := NAMED.match(part)) and channel_of.get(m.group(1), channel) in
            (None, channel)]
    return "; ".join(kept) or reason


def _channel_of(comp: Computed) -> dict[str, str | None]:
    return {p.id: p.channel for p in comp.setup.contacts.policies}


def _blocks(comp: Computed, ids: np.ndarray) -> list[Block | None]:
    found = comp.blocked
    if found is None or not len(found.customer_id):
        return [None] * len(ids)
    names = np.array([ch.id for ch in comp.setup.channels.channels], dtype=object)
    at = pd.Index(found.customer_id).get_indexer(ids)
    return [None if i < 0 else (frozenset(names[found.channels[i]].tolist()),
                                str(found.reason[i])) for i in at]
