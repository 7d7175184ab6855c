"""Lifecycle stages: every customer exactly one stage and the rule that gave it; segments."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.policy.lifecycle import assign_segments, assign_stages, stage_of
from engine.project.rulebook import Rulebook, load_rulebook
from engine.project.schema import attribute_types

ROOT = Path(__file__).resolve().parents[1]
TYPES = attribute_types(consents=["email"])


@pytest.fixture(scope="module")
def book() -> Rulebook:
    return load_rulebook(ROOT, attribute_types(
        consents=["email", "sms", "phone", "mail", "push"], extra={"Region": "text"}))


def customer(**values: object) -> dict[str, object]:
    """A repeat buyer in the middle of everything; override what a case needs."""
    base: dict[str, object] = {"customer_id": "c", "tenure_days": 600, "recency_days": 30,
                               "frequency": 6, "recency_ratio": 0.5, "purchase_trend": 0.0}
    return {**base, **values}


@pytest.mark.parametrize(("values", "stage", "rule"), [
    ({"tenure_days": 90, "recency_ratio": None, "frequency": 0}, "acquisition", "new_customer"),
    ({"tenure_days": 90, "recency_ratio": 5.0}, "acquisition", "new_customer"),
    ({"recency_ratio": None, "frequency": 0, "recency_days": 366}, "exit", "one_time_lapsed"),
    ({"recency_ratio": None, "frequency": 0, "recency_days": 365}, "decline", "one_time_fading"),
    ({"recency_ratio": None, "frequency": 0, "recency_days": 180}, "acquisition",
     "one_time_recent"),
    ({"recency_ratio": 3.01, "recency_days": 181}, "exit", "long_overdue"),
    ({"recency_ratio": 3.01, "recency_days": 180}, "decline", "overdue_or_falling"),
    ({"recency_ratio": 1.51}, "decline", "overdue_or_falling"),
    ({"recency_ratio": 1.1, "purchase_trend": -0.5}, "decline", "overdue_or_falling"),
    ({"recency_ratio": 1.0, "purchase_trend": -0.9}, "maturity", "established"),
    ({"tenure_days": 180}, "growth", "young_or_rising"),
    ({"purchase_trend": 0.3}, "growth", "young_or_rising"),
    ({"purchase_trend": 1.0}, "maturity", "established"),  # nothing the period before: a gap
    ({}, "maturity", "established"),
    ({"recency_ratio": "n/a"}, "acquisition", "one_time_recent"),  # wrong type = missing
])
def test_each_starter_rule_at_its_thresholds(book: Rulebook, values: dict[str, object],
                                             stage: str, rule: str) -> None:
    record = customer(**values)
    table = pd.DataFrame([record])
    staged = assign_stages(table, book)
    assert (staged["lifecycle_stage"][0], staged["stage_rule"][0]) == (stage, rule)
    assert (stage_of(record, book).stage, stage_of(record, book).id) == (stage, rule)


def test_every_customer_gets_exactly_one_stage_and_its_rule(book: Rulebook) -> None:
    rng = np.random.default_rng(0)
    n = 5000
    one_time = rng.random(n) < 0.4
    table = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(n)],
        "tenure_days": rng.integers(1, 1100, n),
        "recency_days": rng.integers(0, 1100, n),
        "recency_ratio": np.where(one_time, np.nan, rng.lognormal(0, 1, n)),
        "purchase_trend": rng.uniform(-1, 1, n),
    })
    staged = assign_stages(table, book)
    assert staged["lifecycle_stage"].notna().all() and staged["stage_rule"].notna().all()
    assert list(staged["lifecycle_stage"].cat.categories) == list(book.stage_names)
    by_rule = {r.id: r.stage for r in book.stage_rules}
    assert (staged["stage_rule"].map(by_rule).astype(str) ==
            staged["lifecycle_stage"].astype(str)).all()
    assert set(staged["lifecycle_stage"]) == set(book.stage_names)
    assert list(staged.columns[:5]) == list(table.columns)  # the table itself is unchanged
    assert "lifecycle_stage" not in table


def test_segments_are_true_false_columns_a_customer_can_be_in_several(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    (tmp_path / "rules" / "segments.yaml").write_text("""\
segments:
  - id: vip
    when: {value_tier: platinum}
  - id: lapsing
    when: {recency_ratio: {gt: 1.5}}
""")
    book = load_rulebook(tmp_path, TYPES)
    table = pd.DataFrame({"value_tier": ["platinum", "gold", "platinum"],
                          "recency_ratio": [2.0, 2.0, None]}, index=[10, 11, 12])
    out = assign_segments(table, book)
    assert out[["segment_vip", "segment_lapsing"]].to_dict("list") == {
        "segment_vip": [True, False, True], "segment_lapsing": [True, True, False]}
    assert list(out["segments"]) == ["lapsing|vip", "lapsing", "vip"]  # in order of id
    assert list(out.index) == [10, 11, 12]
    assert list(out.columns[:2]) == list(table.columns)  # the table itself is unchanged
