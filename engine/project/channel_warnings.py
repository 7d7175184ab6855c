"""Warnings about the channels and campaigns beside the policies that use them (cvm
validate): a campaign's budget below the cost of one contact on each of its channels, a consent
read that nothing uses."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from engine.errors import Problem
from engine.project.channels import CHANNELS_FILE, ChannelSetup


def low_campaign_budgets(setup: ChannelSetup, channels_of: Mapping[str, set[str]]
                         ) -> list[Problem]:
    """A campaign whose budget is below the cost of one contact on every channel its
    policies name (``channels_of``: campaign -> channel ids): it can contact no one."""
    from dataclasses import replace

    problems = []
    for cid, where in setup.budget_at.items():
        budget = setup.campaigns[cid].budget
        costs = sorted((ch.cost_per_contact, ch.id) for ch in setup.channels
                       if ch.id in channels_of.get(cid, set()))
        if budget is None or not costs or costs[0][0] <= budget + 1e-9 * max(1.0, budget):
            continue
        cost, cheapest = costs[0]
        problems.append(replace(
            where, message=f"budget {budget:g} is below the cost of one contact on every "
            f"channel of campaign {cid!r} (the cheapest: {cheapest}, {cost:g})",
            hint=f"raise the budget to at least {cost:g}, or give its policies a cheaper "
            "channel"))
    return problems


def unrequired_consents(consents: Collection[str], setup: ChannelSetup,
                        tested: Collection[str], at: Callable[[str], Problem]) -> list[Problem]:
    """A consent of ``data.consents`` that no channel requires and no condition tests
    (``tested``: the attributes the rules, segments, policies and triggers read) is read and
    then ignored: the run contacts its customers whatever it says. ``at(key)``: a problem at
    that setting of cvm.yaml."""
    from dataclasses import replace

    required = {ch.consent for ch in setup.channels}
    problems = []
    for name in consents:
        attribute = f"consent_{name}"
        if attribute in required or attribute in tested:
            continue
        problems.append(replace(
            at(f"data.consents.{name}"), severity="warning",
            message=f"{attribute} is read from the customers file, but no channel requires it "
            "and no rule, segment, policy or trigger tests it: customers are contacted "
            "whatever it says",
            hint=f"add `consent: {attribute}` to the channel it is for in {CHANNELS_FILE}"))
    return problems
