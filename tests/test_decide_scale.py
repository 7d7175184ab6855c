"""Every policy set that validates runs: wide, deep and large conditions, and many policies.

durable-rules 2.0.28 refuses a rule with more than 15 and/or operators (error 113), overflows
its 64-node stack when many rules match one message (error 303), loops for ever when one alpha
node gets 512 children (a few hundred policies starting with the same test) and fires a rule
once per alternative that holds. These tests build exactly such rulebooks and check that
validate passes, decide runs, and every decision equals the pure-Python evaluator's.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import durable_rules_engine as dre
import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from engine.cli import app
from engine.policy.decisions import decide, policy_matcher
from engine.policy.lifecycle import assign_stages
from engine.policy.validation import validate_rulebook
from engine.project.conditions import evaluate
from engine.project.rulebook import Rulebook, arbitration_key, load_rulebook
from tests import policy_sets
from tests.ci_jobs import main_job_only
from tests.conftest import copy_example_project
from tests.test_decide_identity import TYPES, assert_identical, random_table

ROOT = Path(__file__).resolve().parents[1]
# durable-rules and the pure-Python evaluator decide these, whatever the Python or pandas
pytestmark = main_job_only("durable-rules decides it, the same whatever the Python or pandas")
NUMBERS = ["recency_days", "tenure_days", "frequency", "revenue", "value_score",
           "total_value", "potential_value", "clv_discounted", "purchase_trend",
           "recency_ratio", "category_breadth", "growth_headroom"]
runner = CliRunner()


def book_with(tmp_path: Path, policies: dict[str, Any]) -> Rulebook:
    """The starter lifecycle rules with these policies (id -> condition) only."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    (tmp_path / "policies").mkdir()
    for i, (pid, when) in enumerate(policies.items()):
        text = yaml.safe_dump({"id": pid, "description": f"policy {pid}", "priority": i,
                               "when": when, "then": {"action": f"a{i % 7}",
                                                      "channels": ["email"]}})
        (tmp_path / "policies" / f"{pid}.yaml").write_text(text)
    assert not [p for p in validate_rulebook(tmp_path, TYPES) if p.severity == "error"]
    return load_rulebook(tmp_path, TYPES)


def any_pairs(count: int) -> dict[str, Any]:
    return {"all": [{"any": [{NUMBERS[i % 12]: {"gt": 10 * i}},
                             {NUMBERS[(i + 5) % 12]: {"lte": i}}]} for i in range(count)]}


def nested(depth: int, seed: int) -> dict[str, Any]:
    """all/any/not alternating ``depth`` levels deep, two or three branches per level."""
    rng = np.random.default_rng(seed)

    def level(d: int) -> dict[str, Any]:
        leaf = {NUMBERS[int(rng.integers(12))]: {"gte": float(rng.integers(0, 50))}}
        if d == 0:
            return leaf
        kind = ("all", "any", "not")[d % 3]
        if kind == "not":
            return {"not": level(d - 1)}
        return {kind: [level(d - 1), leaf] + ([level(d - 2)] if d > 2 else [])}

    return level(depth)


@pytest.mark.parametrize("pairs", [5, 10, 20])
def test_any_pairs_under_all(tmp_path: Path, pairs: int) -> None:
    book = book_with(tmp_path, {"pairs": any_pairs(pairs), "other": {"frequency": {"gt": 2}}})
    assert_identical(random_table(book, 400, pairs), book)


@pytest.mark.parametrize("depth", [12, 14])
def test_deeply_nested_all_any_not(tmp_path: Path, depth: int) -> None:
    book = book_with(tmp_path, {f"deep{i}": nested(depth, i) for i in range(3)})
    assert_identical(random_table(book, 150, depth), book)
    units, seen = list(policy_matcher(book).units), []
    while units:  # asked in parts (children), and with parts cut out of too large rules
        unit = units.pop()
        seen.append(unit)
        units += unit.children
    assert any(u.children for u in seen) and any(len(u.layers) > 1 for u in seen)


def test_long_lists_and_their_negations(tmp_path: Path) -> None:
    regions = [f"r{i}" for i in range(120)]
    book = book_with(tmp_path, {
        "long_in": {"Region": {"in": regions}},
        "long_not_in": {"Region": {"not_in": regions[::2]}},
        "not_long_not_in": {"not": {"Region": {"not_in": regions[1::3]}}},
        "not_long_in": {"all": [{"not": {"Region": {"in": regions[:70]}}},
                                {"value_tier": {"ne": "gold"}}]},
        "wide_all": {"all": [{NUMBERS[i % 12]: {"gte": -i - 1}} for i in range(60)]},
        "wide_any": {"any": [{NUMBERS[i % 12]: {"lt": -i - 1}} for i in range(60)]},
    })
    table = random_table(book, 500, 7)
    table["Region"] = pd.Series(np.random.default_rng(1).choice(
        [*regions, "elsewhere", None], len(table)), dtype=object)
    assert_identical(table, book)


def test_a_hundred_policies_matching_the_same_customers(tmp_path: Path) -> None:
    """Rules that all hold for one message overflowed durable-rules' stack (error 303)."""
    policies = {f"p{i:03d}": {"recency_days": {"gte": float(i)}} for i in range(120)}
    policies.update({f"q{i:03d}": {"all": [{"value_tier": {"in": ["gold", "silver"]}},
                                           {"frequency": {"gt": -i - 1}}]} for i in range(80)})
    book = book_with(tmp_path, policies)
    table = random_table(book, 300, 11)
    table["recency_days"] = 500.0  # every p-policy holds
    assert_identical(table, book)


def test_six_hundred_policies_starting_with_the_same_test(tmp_path: Path) -> None:
    """A durable-rules alpha node takes at most 511 children: compiling more never ended."""
    book = book_with(tmp_path, {f"p{i:03d}": {"all": [{"value_tier": "gold"},
                                                      {"revenue": {"gt": float(i)}}]}
                                for i in range(600)})
    table = random_table(book, 200, 12)
    decided = decide(assign_stages(table, book), book)
    expect = [next((p.id for p in book.active_policies() if evaluate(p.when, r)), None)
              for r in assign_stages(table, book).to_dict("records")]
    assert [x if isinstance(x, str) else None for x in decided["policy_id"]] == expect


@main_job_only("durable-rules and the policy files decide it, whatever the Python or pandas; "
               "half a minute the oldest job cannot spare")
def test_five_thousand_generated_policies_validate_and_run_on_the_example(
        tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    for path in (project / "policies").glob("*.yaml"):
        if path.name not in ("channels.yaml", "campaigns.yaml"):
            path.unlink()
    for name, policy in policy_sets.mixed(5000, seed=5).items():
        (project / "policies" / name).write_text(policy_sets.dump(policy))
    res = runner.invoke(app, ["validate", "-p", str(project)])
    assert res.exit_code == 0, res.output[-2000:]
    res = runner.invoke(app, ["decide", "-p", str(project), "-o", str(tmp_path / "out"),
                              "--quiet"])
    assert res.exit_code == 0, res.output[-2000:]
    decided = pd.read_csv(tmp_path / "out" / "decisions.csv", dtype=str,
                          keep_default_na=False)
    assert len(decided) == 2000
    # the winners of a sample of customers, by the pure-Python evaluator
    from engine.commands.common import project_config
    from engine.run.build import load_setup
    from engine.value.score import score

    config = project_config(project, None)
    book = load_setup(config).rulebook
    staged = assign_stages(score(config).table, book)
    rows = staged.sample(60, random_state=1).to_dict("records")
    active = sorted(book.active_policies(), key=arbitration_key)
    by_id = decided.set_index("customer_id")
    for row in rows:
        matched = [p for p in active if evaluate(p.when, row)]
        action = next((p.id for p in matched if p.action), "")
        service = next((p.id for p in matched if p.service_level), "")
        got = by_id.loc[row["customer_id"]]
        assert (got["policy_id"], got["service_policy"]) == (action, service), row


def test_a_durable_rules_failure_names_the_policy_file_and_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Should durable-rules still refuse a ruleset, validate says which policy, with its line,
    and run stops with exit code 1 (an input problem), never an internal error."""
    project = copy_example_project(tmp_path)
    real = dre.create_ruleset

    def refuse(name: str, definition: str) -> Any:
        if "2000.0" in definition:  # the ruleset holding win_back's condition
            raise RuntimeError("Could not create ruleset, error code: 113")
        return real(name, definition)

    (project / "policies" / "win_back.yaml").write_text(
        (project / "policies" / "win_back.yaml").read_text().replace(
            "potential_value: {gte: 50}", "potential_value: {gte: 2000}"))
    monkeypatch.setattr(dre, "create_ruleset", refuse)
    res = runner.invoke(app, ["validate", "-p", str(project)])
    assert res.exit_code == 1
    assert "error: policies/win_back.yaml:" in res.stderr
    assert "durable-rules cannot compile" in res.stderr and "error code: 113" in res.stderr
    res = runner.invoke(app, ["decide", "-p", str(project), "-o", str(tmp_path / "out")])
    assert res.exit_code == 1 and "policies/win_back.yaml:" in res.stderr


def test_a_message_durable_rules_refuses_names_the_rule_and_exits_1(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_example_project(tmp_path)

    def refuse(handle: int, message: str) -> Any:
        raise RuntimeError("Could not assert fact, error code: 303")

    monkeypatch.setattr(dre, "assert_fact", refuse)
    res = runner.invoke(app, ["decide", "-p", str(project), "-o", str(tmp_path / "out")])
    assert res.exit_code == 1, res.output
    assert res.stderr.startswith("error: rules/lifecycle.yaml:23:5: when: durable-rules cannot "
                                 "evaluate lifecycle rule 'new_customer' (Could not assert "
                                 "fact, error code: 303)\n  hint: ")
