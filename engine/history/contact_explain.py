"""What the contact policies say about one customer, for ``cvm explain`` (README "Contact
policies"): their opt-out (the built-in rule), and per policy, whether it forbids a contact now
and on which channels; as lines for the terminal and as the ``contact_policies`` object of
``cvm explain --json``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from engine.activation.contact import opted_out, suppress
from engine.activation.ids import positions_of
from engine.activation.learned import HISTORY, why_none
from engine.history.contacts import read_contacts
from engine.project.contact_policies import OPTED_OUT, ContactPolicies

if TYPE_CHECKING:
    from engine.project.config import Config


def contact_verdicts(config: Config, policies: ContactPolicies, *, customer_id: str,
                     campaign: str | None, channels: Sequence[str], as_of: dt.date,
                     use_history: bool = True) -> dict[str, Any] | None:
    """The contacts counted for the customer, their opt-out (the built-in rule: None when
    they did not opt out) and each policy's verdict on their channels (``channels``: the
    deciding policy's, in order; empty: no contact decided); None without contact policies
    and opt-out."""
    log = read_contacts(config, as_of=as_of, window=policies.window, use_history=use_history)
    out, text = opted_out(log, positions_of([log.opted_out_customer], pa.array(
        [customer_id], type=pa.string()))[0], 1) if len(log.opted_out_customer) else \
        (np.zeros(1, dtype=bool), None)
    gone = str(text(out)[0]) if text is not None and out[0] else None
    if not policies.policies and gone is None:
        return None
    chans = list(channels) or sorted({p.channel for p in policies.policies if p.channel})
    verdicts = []
    for pol in policies.policies:
        one = type(policies)((pol,), policies.file)
        found = suppress(one, log, np.array([customer_id], dtype=object),
                         np.array([campaign or ""], dtype=object), chans,
                         np.ones((1, len(chans)), dtype=bool), built_in=False)
        hit = [ch for ch, b in zip(chans, found.blocked[0], strict=True) if b]
        verdicts.append({"id": pol.id, "kind": pol.kind, "scope": pol.scope,
                         "allows": not hit, "blocks": hit,
                         "reason": str(found.reason[0]) if hit else None})
    return {"file": policies.file, "contacts_from": log.source,
            # no policy: no contact counted (None), the opt-outs alone were read
            "contacts_counted": log.contacts_of(customer_id) if policies.policies else None,
            "channels": chans, "opted_out": gone, "verdicts": verdicts}


def contact_lines(config: Config, policies: ContactPolicies, *, customer_id: str,
                  campaign: str | None, channels: Sequence[str], as_of: dt.date,
                  use_history: bool = True) -> list[str]:
    """Lines for a terminal: the contacts counted and each policy's verdict."""
    found = contact_verdicts(config, policies, customer_id=customer_id, campaign=campaign,
                             channels=channels, as_of=as_of, use_history=use_history)
    if found is None:
        return ["", "Contact policies: none (no policies/contact_policies.yaml)"]
    return lines_of(found)


def lines_of(found: dict[str, Any]) -> list[str]:
    source = found["contacts_from"]
    counted = (f"no contacts counted: {why_none(source)}" if source != HISTORY else
               "no contacts counted: the file holds no policy, only the opt-outs are read"
               if found["contacts_counted"] is None else
               f"contacts from {source}: {found['contacts_counted']} counted for this customer")
    lines = ["", f"Contact policies ({found['file']}; {counted})" if found["file"] else
             "Contact policies: none (no policies/contact_policies.yaml)"]
    # one column for the names, as wide as the longest (at least the 24 of the other lists)
    width = max([24, *(len(v["id"]) for v in found["verdicts"])])
    if found["opted_out"]:  # the built-in rule: blocks every channel, before any policy
        lines.append(f"  {OPTED_OUT:<{width}} built in (every contact): blocks every channel: "
                     f"{found['opted_out']}")
    for v in found["verdicts"]:
        verdict = (f"blocks {', '.join(v['blocks'])}: {v['reason']}" if v["blocks"]
                   else "allows a contact")
        lines.append(f"  {v['id']:<{width}} {v['kind']} ({v['scope']}): {verdict}")
    return lines
