"""Explaining one customer: value, stage and rule, every policy with why not, the winners."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from engine.policy.decisions import decide
from engine.policy.explain import explain
from engine.project.rulebook import Rulebook, load_rulebook
from engine.project.schema import attribute_types

ROOT = Path(__file__).resolve().parents[1]
TYPES = attribute_types(consents=["email"])
GOLD_DECLINING = {
    "customer_id": "C042", "tenure_days": 700, "recency_days": 120, "frequency": 8,
    "recency_ratio": 2.4, "purchase_trend": -1.0, "value_tier": "gold", "value_score": 88.5,
    "historic_value": 950.25, "potential_value": 410.0, "influence_value": 0.0,
    "total_value": 1360.25, "clv_simple": 300.0, "clv_discounted": 280.5,
    "retention_rate": 0.71, "category_breadth": 3, "growth_headroom": 20.0,
}


@pytest.fixture(scope="module")
def book() -> Rulebook:
    return load_rulebook(ROOT, TYPES)


def test_explanation_of_a_gold_customer_in_decline(book: Rulebook) -> None:
    why = explain(GOLD_DECLINING, book)
    assert (why.stage, why.stage_rule) == ("decline", "overdue_or_falling")
    assert why.action == "retain" and why.action_policy is not None
    assert why.action_policy.id == "retain_high_value"
    assert why.service_level == "priority" and why.service_policy is not None
    assert why.service_policy.id == "service_gold"
    checks = {c.id: c for c in why.policies}
    assert checks["retain_high_value"].matched and checks["win_back"].matched
    assert checks["one_time_big_buyer"].why_not == "frequency is 8, needed 0"
    assert checks["welcome_new"].why_not == "lifecycle_stage is 'decline', needed acquisition"
    assert [c.id for c in why.stage_rules][-1] == "overdue_or_falling"  # stops at the winner
    assert why.stage_rules[0].why_not == "tenure_days is 700, needed at most 90 days"

    text = why.format()
    assert text.startswith("Customer C042\n\nValue\n  historic_value   950.25\n")
    assert "  value_tier       gold\n" in text
    assert "Lifecycle stage: decline (rule overdue_or_falling)" in text
    assert ("  yes retain_high_value        priority 90: action retain  <- wins the action"
            in text)
    assert ("  no  one_time_big_buyer       priority 100: service standard\n"
            "        not matched: frequency is 8, needed 0") in text
    assert ("  action         retain: retain_high_value (priority 90): High-value customers"
            in text)
    assert "  channels       account_manager > call_centre > email (in order of preference)" \
        in text
    assert "  service level  priority: service_gold (priority 30)" in text


def test_explain_agrees_with_the_decision_table(book: Rulebook) -> None:
    rows = [GOLD_DECLINING,
            {**GOLD_DECLINING, "customer_id": "C1", "frequency": 0, "recency_ratio": None,
             "recency_days": 40, "tenure_days": 40, "potential_value": 0.0},
            {**GOLD_DECLINING, "customer_id": "C2", "value_tier": "bronze", "recency_ratio": 9.0,
             "recency_days": 400, "clv_discounted": 1.0, "potential_value": 2.0}]
    table = decide(pd.DataFrame(rows), book)
    for row, decided in zip(rows, table.itertuples(), strict=True):
        why = explain(row, book)
        assert (why.stage, why.stage_rule, why.action, why.service_level) == (
            decided.lifecycle_stage, decided.stage_rule, decided.action, decided.service_level)
        assert why.reason == decided.reason
    big = explain(rows[1], book)  # a one-time big buyer does not get premium service
    assert big.service_level == "standard" and big.service_policy is not None
    assert big.service_policy.id == "one_time_big_buyer"
    lapsed = explain(rows[2], book)
    assert (lapsed.action, lapsed.reason) == (
        "no_action", "no_win_back_low_value (priority 65): Lapsing or lost customers whose "
        "value ahead does not cover the cost of a win-back: little expected future margin and "
        "no customers brought in (influence value). No contact, on purpose; what they spent "
        "before does not make a win-back pay.")
    assert "win_back" in lapsed.format() and "none of these held: clv_discounted is 1, needed " \
        "at least 25; potential_value is 2, needed at least 50; influence_value is 0, needed " \
        "at least 100" in lapsed.format()


def test_no_policy_matched_and_disabled_policies(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "only.yaml").write_text(
        "id: only\ndescription: d\npriority: 1\nwhen: {value_tier: platinum}\nthen: {action: "
        "a, channels: [email]}\n")
    (tmp_path / "policies" / "off.yaml").write_text(
        "id: switched_off\ndescription: d\npriority: 2\nenabled: false\nwhen: always\n"
        "then: {action: b, channels: [email]}\n")
    why = explain({"customer_id": 7, "value_tier": "gold", "tenure_days": 10},
                  load_rulebook(tmp_path, TYPES))
    assert (why.action, why.reason, why.service_level) == ("no_action", "no policy matched",
                                                           "standard")
    text = why.format()
    assert "  off switched_off             priority 2: action b" in text
    assert "  service level  standard: no service policy matched: the default" in text
    assert why.customer_id == "7" and why.stage == "acquisition"


def test_the_value_block_shows_a_rate_as_the_value_table_holds_it(book: Rulebook) -> None:
    """A re-trial read retention_rate 0.79 in explain's Value block beside the table's
    0.792271 (its reasons, already, 0.792271): a rate or a score to 6 decimals, money in
    cents."""
    text = explain({**GOLD_DECLINING, "retention_rate": 0.792271, "value_score": 88.5,
                    "clv_discounted": 280.504}, book).format()
    assert "\n  retention_rate   0.792271\n" in text
    assert "\n  value_score      88.5\n" in text
    assert "\n  clv_discounted   280.50\n" in text
    assert "\n  total_value      1,360.25\n" in text
