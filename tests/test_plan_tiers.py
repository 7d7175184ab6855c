"""`cvm plan`'s "What changed" says a value tier's change tier by tier, as it says a policy's:
`tier platinum: share: 0.05 -> 0.1`, not the whole list of tiers before and after."""

from __future__ import annotations

from engine.plan.diff import tiers
from engine.project.tiers import Tier, TierSpec


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
