"""Why a customer is not served: what blocked their best option when its turn came in the walk
(README "Allocation"), not the state of the limits once the walk is over."""

from __future__ import annotations

import numpy as np
import pytest

from engine.activation.allocate import NO_CHANNEL, Options, allocate
from engine.activation.limits import (
    CAMPAIGN_BUDGET,
    CAMPAIGN_BUDGET_BELOW_ONE,
    CAPACITY,
    CHANNEL_BUDGET,
    CHANNEL_BUDGET_BELOW_ONE,
    Limits,
    walk,
)
from engine.project.channels import Campaign, Channel, ChannelSetup


def _channel(cid: str, cost: float, capacity: int, budget: float | None = None) -> Channel:
    return Channel(cid, cid, cost, capacity, budget, 0.5, 0.1, ("standard",), None, (), "")


def _campaign(cid: str, budget: float | None) -> Campaign:
    return Campaign(cid, cid, budget, 0.1, "v", "", ())


def test_the_reason_is_what_blocked_the_best_option_at_its_turn() -> None:
    """The reviewer's case: id005's only option (c0, 0.5 a contact) comes when campaign k1's
    budget (7) is spent while c0 still has room; c0 fills only later. On main the reason was
    "capacity: the allowed channels are full", read from the limits after the walk."""
    setup = ChannelSetup((_channel("c0", 0.5, 4), _channel("c1", 6.0, 16)), 1.5, "s",
                         _campaign("*", None), {"k0": _campaign("k0", 34.0),
                                                "k1": _campaign("k1", 7.0)}, ())
    inf = np.inf
    ev = np.array([[2, 3], [0.5, -inf], [-inf, 5], [2, 2], [3, 3], [1, -1], [3, 2], [0.5, 5],
                   [8, 5], [-inf, -inf]])
    pref = np.array([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [1, 0], [0, 1], [0, 1], [0, 1],
                     [1, 0]])
    camp = np.array([0, 0, 0, 1, 1, 1, 0, 0, 1, 0])
    ids = np.array([f"id{x:03d}" for x in range(10)], dtype=object)
    opts = Options(ev, pref, np.zeros((10, 2)), camp, ("k0", "k1"),
                   np.full(10, "no channel", dtype=object), ids)
    alloc = allocate(opts, setup)
    assert alloc.channel.tolist() == [1, 0, 1, 0, 1, NO_CHANNEL, 0, 1, 0, NO_CHANNEL]
    assert alloc.reason[5] == "budget: the campaign budget is spent"
    assert int((alloc.channel == 0).sum()) == 4  # c0 is full once the walk is over


def test_a_budget_below_the_cost_of_one_contact_is_not_called_spent() -> None:
    """A new user's channel budget of 10 at 35 a contact, and a campaign budget below its
    cheapest channel: the reason read 'budgets are spent' when nothing had been spent."""
    setup = ChannelSetup((_channel("c0", 35.0, 40, 10.0), _channel("c1", 1.0, 40)), 1.5, "s",
                         _campaign("*", None), {"k0": _campaign("k0", None),
                                                "k1": _campaign("k1", 0.5)}, ())
    ev = np.array([[50.0, -np.inf], [50.0, -np.inf], [-np.inf, 5.0], [-np.inf, 5.0]])
    opts = Options(ev, np.zeros((4, 2), dtype=np.int64), np.zeros((4, 2)),
                   np.array([0, 0, 1, 0]), ("k0", "k1"), np.full(4, "", dtype=object),
                   np.array(["a", "b", "c", "d"], dtype=object))
    alloc = allocate(opts, setup)
    assert alloc.channel.tolist() == [NO_CHANNEL, NO_CHANNEL, NO_CHANNEL, 1]
    assert alloc.reason.tolist() == [
        "budget: the channel's budget is below the cost of one contact",
        "budget: the channel's budget is below the cost of one contact",
        "budget: the campaign budget is below the cost of one contact", ""]


def _one_by_one(score: np.ndarray, use: np.ndarray, live: np.ndarray, pref: np.ndarray,
                camp: np.ndarray, limits: Limits) -> tuple[list[int], list[int]]:
    """The README's walk, option by option; the cause is read at the best option's turn (a
    campaign budget that pays none of the customer's options first, then a channel's limit
    before the campaign's budget when both block it)."""
    n, k = score.shape
    options = sorted((-score[i, c], use[i, c], i, pref[i, c], c) for i in range(n)
                     for c in range(k) if live[i, c])
    left = limits.contacts.astype(float)
    money = limits.campaign_budget.astype(float)
    chosen, cause = [NO_CHANNEL] * n, [0] * n
    for *_, i, _, c in options:
        if chosen[i] != NO_CHANNEL:
            continue
        g = camp[i]
        room = money[g] + 1e-9 * max(1.0, money[g] if np.isfinite(money[g]) else 1.0)
        if left[c] >= 1 and limits.cost[c] <= room:
            chosen[i] = c
            left[c] -= 1
            money[g] -= limits.cost[c]
        elif cause[i] == 0:  # the customer's first option to be blocked: their best one
            budget = limits.campaign_budget[g]
            tol = 1e-9 * max(1.0, budget if np.isfinite(budget) else 1.0)
            never = limits.cost[c] > budget + tol
            cheapest = min(limits.cost[d] for d in range(k) if live[i, d])
            cause[i] = CAMPAIGN_BUDGET_BELOW_ONE if cheapest > budget + tol else (
                (CAMPAIGN_BUDGET_BELOW_ONE if never else CAMPAIGN_BUDGET) if left[c] >= 1 else
                (CHANNEL_BUDGET_BELOW_ONE if limits.contacts[c] < 1 else CHANNEL_BUDGET)
                if limits.budget_binds[c] else CAPACITY)
    return chosen, [cause[i] if chosen[i] == NO_CHANNEL else 0 for i in range(n)]


@pytest.mark.parametrize("seed", range(300))
def test_the_walk_and_its_causes_match_the_walk_one_by_one(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k, n_camp = int(rng.integers(2, 25)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
    channels = tuple(_channel(f"c{c}", float(rng.choice([0.5, 1.0, 2.0, 3.0, 6.0])),
                              int(rng.integers(0, 8)),
                              None if rng.random() < 0.5 else float(rng.integers(0, 20)))
                     for c in range(k))
    campaigns = tuple(f"k{g}" for g in range(n_camp))
    setup = ChannelSetup(channels, 1.5, "s", _campaign("*", None), {
        g: _campaign(g, None if rng.random() < 0.3 else float(rng.integers(0, 25)))
        for g in campaigns}, ())
    limits = Limits.of(setup, campaigns)
    score = rng.choice([0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0], size=(n, k))
    use = np.zeros((n, k))
    live = rng.random((n, k)) < 0.8
    pref = np.argsort(rng.random((n, k)), axis=1)
    camp = rng.integers(0, n_camp, n)
    chosen, cause = walk(score, use, live, pref, camp, limits)
    expected_chosen, expected_cause = _one_by_one(score, use, live, pref, camp, limits)
    assert chosen.tolist() == expected_chosen
    assert np.where(chosen == NO_CHANNEL, cause, 0).tolist() == expected_cause


def test_a_campaign_budget_below_one_contact_is_named_before_a_full_channel() -> None:
    """A marketer's trial: a campaign budget of 0.001 whose channel another campaign filled
    was said "the allowed channels are full" (or their budgets spent), pointing at the
    channel, when raising its capacity would still send nothing."""
    setup = ChannelSetup((_channel("c1", 1.0, 1),), 1.5, "s", _campaign("*", None),
                         {"k0": _campaign("k0", None), "k1": _campaign("k1", 0.001)}, ())
    ev = np.array([[50.0], [5.0]])
    opts = Options(ev, np.zeros((2, 1), dtype=np.int64), np.zeros((2, 1)), np.array([0, 1]),
                   ("k0", "k1"), np.full(2, "", dtype=object), np.array(["a", "b"], dtype=object))
    alloc = allocate(opts, setup)
    assert alloc.channel.tolist() == [0, NO_CHANNEL]
    assert alloc.reason.tolist() == [
        "", "budget: the campaign budget is below the cost of one contact"]


def test_a_campaign_budget_that_pays_another_option_names_the_full_channel() -> None:
    """The review of the change above: b's campaign budget (0.6) pays sms (0.5), not email
    (1.0); both channels full, b's reason is the channels', not its budget's."""
    setup = ChannelSetup((_channel("email", 1.0, 1), _channel("sms", 0.5, 1)), 1.5, "s",
                         _campaign("*", None), {"k0": _campaign("k0", None),
                                                "k1": _campaign("k1", 0.6)}, ())
    ev = np.array([[50.0, -np.inf], [8.0, 4.0], [-np.inf, 50.0]])
    opts = Options(ev, np.zeros((3, 2), dtype=np.int64), np.zeros((3, 2)), np.array([0, 1, 0]),
                   ("k0", "k1"), np.full(3, "", dtype=object),
                   np.array(["a", "b", "c"], dtype=object))
    alloc = allocate(opts, setup)
    assert alloc.channel.tolist() == [0, NO_CHANNEL, 1]
    assert alloc.reason.tolist() == ["", "capacity: the allowed channels are full", ""]


def test_a_consented_channel_refused_for_the_service_level_is_not_called_unconsented() -> None:
    """A marketer's case: phone (consented) serves gold only, email serves standard but the
    customer gave no email consent: the reason read "no consented channel", and the marketer
    went looking for a consent that was there."""
    import pandas as pd

    from engine.activation.allocate import build_options

    phone = Channel("phone", "phone", 5.0, 10, None, 0.5, 0.1, ("gold",), "consent_phone", (),
                    "")
    email = Channel("email", "email", 0.1, 10, None, 0.5, 0.1, ("standard", "gold"),
                    "consent_email", (), "")
    setup = ChannelSetup((phone, email), 1.5, "s", _campaign("*", None),
                         {"k": _campaign("k", None)}, ())
    actions = pd.DataFrame({"customer_id": ["a", "b", "c"], "channels": ["phone|email"] * 3,
                            "service_level": ["standard", "standard", "gold"],
                            "campaign": ["k"] * 3})
    table = pd.DataFrame({"customer_id": ["a", "b", "c"],
                          "consent_phone": [True, False, False],
                          "consent_email": [False, False, False]})
    opts = build_options(actions, table, setup, np.array([100.0, 100.0, 100.0]))
    assert opts.why_none.tolist() == [
        "no channel: the consented channels do not serve this service level",
        "no consented channel", "no consented channel"]
