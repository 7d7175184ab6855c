"""The contact policies applied to the allocation's options, before the prices and the walk:
a blocked option is never chosen, so the capacity and budget it would have used go to
someone else; a customer left with no option keeps a row, status ``suppressed``, with the
policies' reasons (README "Contact policies"). The built-in opt-out rule is enforced here
too, with or without a contact policy file (engine.activation.contact.suppress)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.activation.allocate import Options
from engine.activation.contact import ContactLog, suppress
from engine.project.channels import ChannelSetup
from engine.project.contact_policies import ContactPolicies


@dataclass(frozen=True)
class Blocked:
    """The customers with an allowed option that a contact policy or an opt-out blocks: on
    which channels, and the policies' reasons (``cvm plan`` says why a channel moved)."""

    customer_id: np.ndarray  # object
    channels: np.ndarray  # bool (customers, channels of the setup)
    reason: np.ndarray  # object: the policies that blocked an allowed option, "; "-joined

    @classmethod
    def none(cls, channels: int) -> Blocked:
        return cls(np.zeros(0, dtype=object), np.zeros((0, channels), dtype=bool),
                   np.zeros(0, dtype=object))


def enforce(opts: Options, policies: ContactPolicies, log: ContactLog, setup: ChannelSetup
            ) -> tuple[Options, np.ndarray, dict[str, object], Blocked]:
    """The options without the blocked ones, who was suppressed entirely, the manifest's
    summary (the file, where the contacts came from, customers suppressed per policy and by
    the built-in opt-out rule, once the history knows an opt-out), and who had an option
    blocked."""
    n = len(opts.ev)
    if not policies.policies and not len(log.opted_out_customer):
        return opts, np.zeros(n, dtype=bool), {}, Blocked.none(len(setup.channels))
    allowed = np.isfinite(opts.ev)
    campaign = np.asarray(opts.campaigns, dtype=object)[opts.campaign] if n else \
        np.zeros(0, dtype=object)
    found = suppress(policies, log, opts.customer_id, campaign,
                     [ch.id for ch in setup.channels], allowed)
    ev = np.where(found.blocked, -np.inf, opts.ev)
    suppressed = allowed.any(axis=1) & ~np.isfinite(ev).any(axis=1)
    why = opts.why_none.copy()
    why[suppressed] = found.reason[suppressed]
    summary: dict[str, object] = {
        "file": policies.file, "contacts_from": log.source, "runs_counted": log.runs,
        "contacts_counted": len(log.contact_customer),
        "live_contacts_counted": log.live,  # of them, those `cvm serve` gave
        "responses_counted": len(log.response_customer),
        "customers_suppressed": int(suppressed.sum()),
        "customers_blocked_per_policy": found.counts,
    }
    hit = found.blocked & allowed
    rows = np.flatnonzero(hit.any(axis=1))
    blocked = Blocked(np.asarray(opts.customer_id, dtype=object)[rows], hit[rows],
                      found.reason[rows])
    return replace(opts, ev=ev, why_none=why), suppressed, summary, blocked
