"""The context attributes of a next-best-action request that name a declared thing: a tier
(rules/value_tiers.yaml), a lifecycle stage (rules/lifecycle.yaml) or a response's outcome,
and the tiers a ``tier_change`` may move. Any other text would
match no policy's condition and quietly change the answer (a new user's 'diamond' fell to the
basic service level)."""

from __future__ import annotations

from engine.project.project import Project
from engine.project.schema import OUTCOMES

TIERS = "the value tiers of rules/value_tiers.yaml"
STAGES = "the lifecycle stages of rules/lifecycle.yaml"
OUTCOMES_SAID = "the outcomes of a response (cvm responses import)"


def declared_names(project: Project, attribute: str) -> tuple[str, tuple[str, ...]] | None:
    """What ``attribute`` must be one of (where they are declared, and the names), or None
    for an attribute of any value."""
    if attribute in ("value_tier", "previous_tier"):
        return TIERS, tuple(project.tiers.names)
    if attribute == "previous_stage":  # (the stage itself is the rules' to decide)
        return STAGES, tuple(s.name for s in project.rulebook.stages)
    if attribute == "last_outcome":
        return OUTCOMES_SAID, OUTCOMES
    return None


def tier_change_problem(project: Project, attribute: str, value: object) -> str | None:
    """What a ``tier_change`` must be (a whole number of tiers no further than the tiers
    allow), when it is not; None for another attribute or a value that fits."""
    if attribute != "tier_change" or not isinstance(value, (int, float)):
        return None
    most = len(project.tiers.names) - 1
    if float(value).is_integer() and abs(value) <= most:
        return None
    return (f"expected a whole number from {-most} to {most} (the tiers moved since the "
            f"previous run, of the {most + 1} tiers of rules/value_tiers.yaml)")
