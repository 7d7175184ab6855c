"""The starter policies care for influence and future value, and cross-sell only with data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engine.policy.decisions import decide
from engine.project.conditions import evaluate
from engine.project.rulebook import Rulebook, load_rulebook
from engine.project.schema import attribute_types
from engine.run.build import load_project
from engine.run.pipeline import Computed, compute

ROOT = Path(__file__).resolve().parents[1]
TYPES = attribute_types(consents=["email", "sms", "phone", "mail", "push"],
                        extra={"Region": "text"})


@pytest.fixture(scope="module")
def book() -> Rulebook:
    return load_rulebook(ROOT, TYPES)


@pytest.fixture(scope="module")
def computed() -> Computed:
    return compute(load_project(ROOT))


@pytest.fixture(scope="module")
def example(computed: Computed) -> pd.DataFrame:
    done = computed
    return done.table.assign(action=done.decisions["action"].astype(object).to_numpy(),
                             policy_id=done.decisions["policy_id"].astype(object).to_numpy())


def test_lapsing_customers_worth_most_through_their_referrals_get_an_action(
        example: pd.DataFrame) -> None:
    """Issue 11, item 5: a lapsing platinum customer whose value is almost all the margin of
    the customers they referred got 'no contact, on purpose'."""
    lapsing = example["lifecycle_stage"].isin(["decline", "exit"])
    share = example["influence_value"] / example["total_value"]
    advocates = example[lapsing & (share >= 0.8) & example["value_tier"].isin(["platinum",
                                                                                "gold"])]
    assert len(advocates) >= 2  # the example has such customers, platinum among them
    assert "platinum" in set(advocates["value_tier"])
    assert (advocates["action"] != "no_action").all(), advocates[["customer_id", "policy_id"]]
    assert set(advocates["policy_id"]) <= {"win_back_advocates", "win_back",
                                           "retain_high_value"}


def test_lapsing_advocates_outside_the_holdout_are_contacted(computed: Computed) -> None:
    """What is at stake with an advocate is the margin they bring through referrals: valued at
    their own expected spend, most were 'not worth a contact'."""
    acts = computed.actions[computed.actions["policy_id"] == "win_back_advocates"]
    assert len(acts) >= 10
    assert set(acts["campaign"]) == {"win_back_advocates"}
    assert (acts["value_at_stake"] > 0).all()
    assert set(acts.loc[~acts["holdout"], "status"]) == {"allocated"}


def test_no_win_back_low_value_counts_influence_value(book: Rulebook) -> None:
    policy = next(p for p in book.policies if p.id == "no_win_back_low_value")
    lapsed = {"lifecycle_stage": "exit", "clv_discounted": 1.0, "potential_value": 2.0,
              "historic_value": 40.0, "total_value": 42.0, "influence_value": 0.0}
    assert evaluate(policy.when, lapsed)
    referrer = {**lapsed, "influence_value": 500.0, "total_value": 542.0}
    assert not evaluate(policy.when, referrer)
    decided = decide(pd.DataFrame([{**lapsed, "customer_id": "a", "recency_ratio": 9.0,
                                    "recency_days": 900, "tenure_days": 1000, "frequency": 3},
                                   {**referrer, "customer_id": "b", "recency_ratio": 9.0,
                                    "recency_days": 900, "tenure_days": 1000, "frequency": 3}]),
                     book)
    assert decided["policy_id"].tolist() == ["no_win_back_low_value", "win_back_advocates"]


def test_cross_sell_needs_category_data(book: Rulebook) -> None:
    mature = {"tenure_days": 800, "recency_days": 30, "recency_ratio": 0.5, "frequency": 6,
              "purchase_trend": 0.0, "value_tier": "silver"}
    table = pd.DataFrame([{**mature, "customer_id": "none", "category_breadth": 0},
                          {**mature, "customer_id": "two", "category_breadth": 2},
                          {**mature, "customer_id": "all", "category_breadth": 6}])
    decided = decide(table, book)
    assert list(decided["lifecycle_stage"]) == ["maturity"] * 3
    assert decided["action"].astype(str).tolist() == ["no_action", "cross_sell", "no_action"]
