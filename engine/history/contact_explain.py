"""What the contact policies say about one customer, for ``cvm explain`` (README "Contact
policies"): per policy, whether it forbids a contact now and on which channels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from engine.activation.contact import suppress
from engine.history.contacts import read_contacts
from engine.project.contact_policies import ContactPolicies

if TYPE_CHECKING:
    from engine.project.config import Config


def contact_lines(config: Config, policies: ContactPolicies, *, customer_id: str,
                  campaign: str | None, channels: Sequence[str], as_of: dt.date,
                  use_history: bool = True) -> list[str]:
    """Lines for a terminal: the contacts counted and each policy's verdict on the customer's
    channels (``channels``: the deciding policy's, in order; empty: no contact decided)."""
    if not policies.policies:
        return ["", "Contact policies: none (no policies/contact_policies.yaml)"]
    log = read_contacts(config, as_of=as_of, window=policies.window, use_history=use_history)
    mine = log.contact_customer == customer_id
    lines = ["", f"Contact policies ({policies.file}; contacts from {log.source}: "
             f"{int(mine.sum())} counted for this customer)"]
    chans = list(channels) or sorted({p.channel for p in policies.policies if p.channel})
    for pol in policies.policies:
        one = type(policies)((pol,), policies.file)
        found = suppress(one, log, np.array([customer_id], dtype=object),
                         np.array([campaign or ""], dtype=object), chans,
                         np.ones((1, len(chans)), dtype=bool))
        hit = [ch for ch, b in zip(chans, found.blocked[0], strict=True) if b]
        verdict = (f"blocks {', '.join(hit)}: {found.reason[0]}" if hit
                   else "allows a contact")
        lines.append(f"  {pol.id:<24} {pol.kind} ({pol.scope}): {verdict}")
    return lines
