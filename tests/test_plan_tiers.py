"""`cvm plan`'s "What changed" says a value tier's change tier by tier, as it says a policy's:
`tier platinum: share: 0.05 -> 0.1`, not the whole list of tiers before and after."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from engine.plan.diff import tiers
from engine.project.tiers import Tier, TierSpec
from tests.conftest import copy_example_project


def _spec(*tiers_: Tier, basis: str = "total_value") -> TierSpec:
    return TierSpec("rules/value_tiers.yaml", basis, "share", tiers_)


def test_a_tier_change_is_said_tier_by_tier() -> None:
    """A marketer's trial: two shares changed read as `tiers: [{name: platinum, share: 0.05,
    min: (none), description: ...}, ...] -> [...]`."""
    before = _spec(Tier("platinum", 0.05, None, "Top 5%"), Tier("gold", 0.15, None, "Next"),
                   Tier("bronze", None, None, "The rest"))
    after = _spec(Tier("platinum", 0.1, None, "Top 10%"), Tier("gold", 0.1, None, "Next"),
                  Tier("silver", 0.2, None, "New"), Tier("bronze", None, None, "The rest"),
                  basis="clv_discounted")
    assert tiers(before, after, "rules/value_tiers.yaml") == [
        ("rules/value_tiers.yaml", "basis: total_value -> clv_discounted"),
        ("rules/value_tiers.yaml", "tier gold: share: 0.15 -> 0.1"),
        ("rules/value_tiers.yaml", "tier platinum: share: 0.05 -> 0.1; description: Top 5% -> "
                                   "Top 10%"),
        ("rules/value_tiers.yaml", "tier silver: added"),
        ("rules/value_tiers.yaml", "tier order: platinum, gold, bronze -> platinum, gold, "
                                   "silver, bronze"),
    ]
    renamed = _spec(Tier("top", 0.05, None, "Top 5%"), Tier("gold", 0.15, None, "Next"),
                    Tier("bronze", None, None, "The rest"))
    assert tiers(before, renamed, "rules/value_tiers.yaml") == [
        ("rules/value_tiers.yaml", "tier platinum: removed"),
        ("rules/value_tiers.yaml", "tier top: added"),
        ("rules/value_tiers.yaml", "tier order: platinum, gold, bronze -> top, gold, bronze"),
    ]


def test_a_customer_moved_by_a_tier_share_is_told_the_share(tmp_path: Path) -> None:
    """A re-trial: gold's share raised, 181 customers were told 'value tier changed: bronze ->
    silver' without the edit that did it."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    project, proposed = copy_example_project(tmp_path / "a"), copy_example_project(tmp_path / "b")
    tiers_file = proposed / "rules" / "value_tiers.yaml"
    text = tiers_file.read_text()
    assert text.count("share: 0.15") == 1
    tiers_file.write_text(text.replace("share: 0.15", "share: 0.20"))
    out = tmp_path / "changes.csv"
    result = CliRunner().invoke(app, ["plan", "-p", str(project), "--proposed", str(proposed),
                                      "--no-history", "--quiet", "--changes", str(out)])
    assert result.exit_code == 0, result.stderr
    changes = pd.read_csv(out, dtype={"customer_id": str}, keep_default_na=False)
    tiered = changes[changes["reason"].str.startswith("value tier changed")]
    assert len(tiered) > 0
    assert all(r.endswith(" (rules/value_tiers.yaml tier gold: share: 0.15 -> 0.2)")
               for r in tiered["reason"]), set(tiered["reason"])
