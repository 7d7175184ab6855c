"""Money totals are summed exactly and rounded once (engine.activation.money): the allocation
summary's channel rows and campaign rows add up to the same total, a campaign's channel rows to
the campaign, and `cvm plan` shows that total and those channel costs (issue 13's re-trial:
604.25 and 604.26 from 604.255; the report 604.31 and the plan 604.32). Since session 27 the
total is the sum of the campaigns, each rounded on its own (tests/test_campaign_amounts_own.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pandas as pd

from engine.activation import money
from engine.plan.dry_run import _channels, _spend
from engine.project.channels import Campaign, Channel, ChannelSetup
from engine.run.pipeline import allocation_summary


def _channel(cid: str, cost: float) -> Channel:
    return Channel(cid, cid, cost, 1_000_000, None, 0.5, 0.1, (), None, (), "")


SETUP = ChannelSetup(channels=(_channel("email", 0.02), _channel("push", 0.005)),
                     preference_lift=0.0, salt="", files=(), campaigns={},
                     defaults=Campaign("d", "d", None, 0.1, "total_value", "", ()))


def _actions(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame({"campaign": [r[0] for r in rows], "status": "allocated",
                         "channel": [r[1] for r in rows], "cost": [r[2] for r in rows],
                         "expected_value": [r[2] * 3 for r in rows]})


# three campaigns with one push contact each (half a cent each: 0.015 in all) and 604.24 of
# email contacts (30,212 at 0.02): 604.255 exactly; the campaigns 302.125, 302.125 and 0.005,
# each shown half up, 604.27 in all
ROWS = ([("a", "push", 0.005), ("b", "push", 0.005), ("c", "push", 0.005)]
        + [(camp, "email", 0.02) for camp in ("a", "b") for _ in range(15_106)])


def _level(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    return frame[frame["level"] == level]


def test_every_level_of_the_summary_adds_up_to_the_total() -> None:
    summary = allocation_summary(_actions(ROWS), SETUP)
    # 302.125, 302.125, 0.005 and 906.375, 906.375, 0.015, each rounded half up
    for key, total in (("cost", 604.27), ("expected_value", 1812.78)):
        assert round(_level(summary, "channel")[key].sum(), 2) == total, key
        assert round(_level(summary, "campaign")[key].sum(), 2) == total, key
        cells = _level(summary, "campaign_channel").groupby("campaign")[key].sum().round(2)
        assert cells.to_dict() == _level(summary, "campaign").set_index("campaign")[
            key].to_dict(), key
    # a channel is the sum of its campaigns' cells: 604.24 exactly, and 3 x 0.005 each
    # rounded up in its campaign
    assert _level(summary, "channel")["cost"].tolist() == [604.24, 0.03]
    assert _level(summary, "campaign")["cost"].tolist() == [302.13, 302.13, 0.01]


def test_the_plan_shows_the_summarys_total_and_channel_costs() -> None:
    actions = _actions(ROWS)
    summary = allocation_summary(actions, SETUP)
    spent = _spend(actions)
    assert spent["cost"] == round(_level(summary, "channel")["cost"].sum(), 2) == 604.27
    comp: Any = SimpleNamespace(actions=actions, setup=SimpleNamespace(channels=SETUP))
    rows = _channels(comp, comp)
    assert rows["cost_after"].tolist() == _level(summary, "channel")["cost"].tolist()
    assert rows["contacts_after"].tolist() == [30_212, 3]


def test_money_rounds_an_exact_total_once() -> None:
    assert money.units([0.1] * 10) == 10_000  # no float drift: 1.0 exactly
    assert money.amount(6_042_550) == 604.26  # half up
    assert money.amount(-6_042_550) == -604.26
    assert money.apportion([50, 50, 50]) == [0.01, 0.01, 0.0]
    assert money.apportion([6_042_400, 150]) == [604.24, 0.02]
    assert money.apportion([6_042_400, 150], 60_427) == [604.25, 0.02]  # 1.5 cents short
    assert money.apportion([6_042_400, 150], 60_421) == [604.21, 0.0]  # 4 cents over
    assert money.apportion([6_042_400, 0, 150], 60_430) == [604.28, 0.0, 0.02]
    assert money.apportion([], 0) == []


def test_a_brief_shows_the_summarys_campaign_and_channel_amounts() -> None:
    from engine.render.brief_data import campaign_contexts

    actions = _actions(ROWS).assign(policy_id="p", value_at_stake=1.0, reason="p",
                                    lifecycle_stage="s", value_tier="t", offer=None)
    actions["customer_id"] = [f"C{k}" for k in range(len(actions))]
    summary = allocation_summary(actions, SETUP)
    rulebook: Any = SimpleNamespace(policies=[])
    briefs = campaign_contexts(actions, rulebook, SETUP, run={})
    cells = _level(summary, "campaign_channel")
    for brief in briefs:
        camp = brief["campaign"]["id"]
        row = _level(summary, "campaign").set_index("campaign").loc[camp]
        assert brief["budget"]["used"] == brief["expected"]["cost"] == row["cost"]
        assert brief["expected"]["value"] == row["expected_value"]
        mine = cells[cells["campaign"] == camp].set_index("channel")
        assert {c["id"]: (c["cost"], c["expected_value"]) for c in brief["channels"]} == {
            ch: (r["cost"], r["expected_value"]) for ch, r in mine.iterrows()}
    assert [b["budget"]["used"] for b in briefs] == [302.13, 302.13, 0.01]


def test_the_plan_shares_each_sides_cents_in_that_sides_channel_order() -> None:
    """A proposal that only reorders two channels of half a cent each: each side's channel
    costs are its own summary's (the before side was shared in the proposal's order, so the
    tie's cent moved from one channel to the other; review of session 27)."""
    swapped = ChannelSetup(channels=(_channel("push", 0.005), _channel("email", 0.005)),
                           preference_lift=0.0, salt="", files=(), campaigns={},
                           defaults=SETUP.defaults)
    same = ChannelSetup(channels=(_channel("email", 0.005), _channel("push", 0.005)),
                        preference_lift=0.0, salt="", files=(), campaigns={},
                        defaults=SETUP.defaults)
    actions = _actions([("a", "email", 0.005), ("a", "push", 0.005)])
    before: Any = SimpleNamespace(actions=actions, setup=SimpleNamespace(channels=same))
    after: Any = SimpleNamespace(actions=actions, setup=SimpleNamespace(channels=swapped))
    rows = _channels(before, after).set_index("channel")
    for label, setup in (("before", same), ("after", swapped)):
        summary = _level(allocation_summary(actions, setup), "channel").set_index("channel")
        assert rows[f"cost_{label}"].to_dict() == summary["cost"].to_dict(), label
