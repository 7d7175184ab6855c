"""The context attributes of a next-best-action request that name a declared thing: a tier
(rules/value_tiers.yaml) or a lifecycle stage (rules/lifecycle.yaml). Any other text would
match no policy's condition and quietly change the answer (a new user's 'diamond' fell to the
basic service level)."""

from __future__ import annotations

from engine.project.project import Project

TIERS = "the value tiers of rules/value_tiers.yaml"
STAGES = "the lifecycle stages of rules/lifecycle.yaml"


def declared_names(project: Project, attribute: str) -> tuple[str, tuple[str, ...]] | None:
    """What ``attribute`` must be one of (where they are declared, and the names), or None
    for an attribute of any value."""
    if attribute in ("value_tier", "previous_tier"):
        return TIERS, tuple(project.tiers.names)
    if attribute == "previous_stage":  # (the stage itself is the rules' to decide)
        return STAGES, tuple(s.name for s in project.rulebook.stages)
    return None
