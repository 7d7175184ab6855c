"""``discount_rate: 0`` and a measured retention rate of 1: the infinite-horizon discounted CLV
m_a r / (1 + d - r) has no finite value. The setting is refused where it is written (whether
some r will be 1 is known only once the data is read, and `cvm validate` passing must mean
that `cvm run` works); and the allocation never drops a customer without a reason, even with a
value at stake that is not a finite number."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.activation.allocate import NO_CHANNEL, allocate, build_options
from engine.cli import app
from engine.project.channels import Campaign, Channel, ChannelSetup
from tests.conftest import ROOT

CONFIG = """\
name: d0
data:
  transactions: tx.csv
  columns: {customer_id: cust, date: day, amount: amount, cost: cost}
as_of: 2024-07-01
currency: EUR
period_days: 30
horizon_periods: 4
discount_rate: 0
retention: {by: none, lookback_periods: 2, min_customers: 1}
models: {use: none}
"""
# five customers who buy in every period: everyone active is retained, r = 1
TX = "cust,day,amount,cost\n" + "".join(
    f"a{i},2024-{m}-15,100,50\n" for i in range(5) for m in ("04", "05", "06")
) + "one,2024-06-20,80,40\n"

FILES = {
    "rules/lifecycle.yaml": "stages:\n  active: everyone\nrules:\n  - id: all\n    stage: active\n",
    "policies/campaigns.yaml": (
        "holdout_share: 0\ncampaigns:\n  retain:\n    objective: keep them\n"),
    "policies/channels.yaml": (
        "channels:\n  - id: email\n    cost_per_contact: 0.5\n    capacity: 100\n"
        "    relationship_strength: 0.2\n    response_rate: 0.1\n    service_levels: [basic]\n"),
    "policies/retain.yaml": (
        "id: retain\ndescription: all\npriority: 10\nwhen: always\nthen:\n  action: retain\n"
        "  service_level: basic\n  channels: [email]\n"),
}

EXPECTED = (
    "error: cvm.yaml:9:16: discount_rate: found 0, expected a number above 0 and at most 1\n"
    "  hint: the discounted CLV m_a r / (1 + d - r) sums every future period and has no finite "
    "value when d = 0 and a measured retention rate is 1; for almost no discounting use a "
    "small rate such as 0.01\n")


@pytest.mark.parametrize("command", ["validate", "score", "run"])
def test_a_zero_discount_rate_is_refused_at_its_line(
        make_project: Callable[..., Path], command: str) -> None:
    project = make_project(CONFIG, TX, FILES)
    shutil.copytree(ROOT / "templates", project / "templates")
    result = CliRunner().invoke(app, [command, "--project", str(project)])
    assert result.exit_code == 1, result.stderr
    summary = ("1 error(s), 0 warning(s) in 1 file(s)\nnot checked until cvm.yaml reads: rules/, "
               "policies/ and templates/ (what they may name is declared there)\n"
               if command == "validate" else "")
    assert result.stderr == EXPECTED + summary
    assert not (project / "output").exists()


def test_a_small_discount_rate_gives_finite_values(make_project: Callable[..., Path],
                                                   tmp_path: Path) -> None:
    from engine.project.config import load_config
    from engine.value.score import score

    project = make_project(CONFIG.replace("discount_rate: 0", "discount_rate: 0.01"), TX)
    table = score(load_config(project)).table.set_index("customer_id")
    assert table.loc["a0", "retention_rate"] == 1.0
    assert np.isfinite(table[["clv_simple", "clv_discounted", "potential_value",
                              "growth_headroom"]].to_numpy()).all()
    assert table.loc["a0", "clv_discounted"] > 0


def _setup() -> ChannelSetup:
    email = Channel("email", "email", 0.5, 100, None, 0.2, 0.1, ("basic",), None, (), "")
    default = Campaign("*", "", None, 0.0, "clv_discounted", "", ())
    return ChannelSetup((email,), 1.5, "s", default, {"retain": default}, ())


def test_a_value_at_stake_that_is_not_finite_is_explained_not_dropped() -> None:
    """On main the customers with an infinite value at stake came out not served with an empty
    reason (their expected value was not finite, so they had "no option" and no cause)."""
    ids = ["a0", "a1", "one", "zero"]
    actions = pd.DataFrame({"channels": ["email"] * 4, "service_level": ["basic"] * 4,
                            "campaign": ["retain"] * 4})
    table = pd.DataFrame({"customer_id": ids})
    stake = np.array([np.inf, 40.0, np.nan, 0.0])
    setup = _setup()
    opts = build_options(actions, table, setup, stake)
    alloc = allocate(opts, setup)
    assert alloc.channel.tolist() == [NO_CHANNEL, 0, NO_CHANNEL, NO_CHANNEL]
    assert alloc.reason.tolist() == [
        "not valued: the value at stake is not a finite number",
        "",
        "not valued: the value at stake is not a finite number",
        "not worth a contact: expected value not above the cost on every allowed channel",
    ]


def test_an_expected_value_equal_to_a_free_channels_cost_is_not_said_below_it() -> None:
    """A value at stake of 0 on a channel that costs nothing: the expected value (0) equals the
    cost (0), so the customer is not worth a contact, but their value is not *below* the cost,
    as the reason said (a new user's trial of `cvm serve`, session 40)."""
    free = Channel("email", "email", 0.0, 100, None, 0.2, 0.1, ("basic",), None, (), "")
    default = _setup().defaults
    setup = ChannelSetup((free,), 1.5, "s", default, {"retain": default}, ())
    actions = pd.DataFrame({"channels": ["email"], "service_level": ["basic"],
                            "campaign": ["retain"]})
    opts = build_options(actions, pd.DataFrame({"customer_id": ["zero"]}), setup,
                         np.array([0.0]))
    alloc = allocate(opts, setup)
    assert alloc.channel.tolist() == [NO_CHANNEL]
    assert alloc.reason.tolist() == [
        "not worth a contact: expected value not above the cost on every allowed channel"]
