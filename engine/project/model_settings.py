"""The ``models:`` settings of cvm.yaml a project declares but does not use, refused at their
line (a declared setting is used, or it is not declared): with subscriptions the value model is
the sBG; beside a purchase model named by ``models.use``, the bound of auto's choice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import Problem
from engine.project.location import config_shown

# the models: settings a subscriptions: project does not use, and why (README "Subscriptions")
_NOT_FOR_SUBSCRIPTIONS = {
    "time_unit_days": "the unit of the sBG model is the billing period",
    "min_repeat_customers": "the sBG model needs no repeat buyers",
    "max_holdout_error": "no purchase model is chosen: the value model is the sBG",
}


def unused_models(doc: Any, models: Mapping[str, Any], subscriptions: bool) -> list[Problem]:
    """A declared setting is used or refused: with subscriptions: the value model is the sBG,
    so a purchase model named by models.use, and the purchase models' own settings, are not;
    beside a model named by models.use, the bound of auto's choice is not."""
    hint, use = f"remove it from {config_shown()}", models.get("use")
    if not subscriptions:
        if use in ("auto", "none", None) or ("models", "max_holdout_error") not in doc.positions:
            return []
        return [doc.problem(("models", "max_holdout_error"), f"not used with models.use: {use} "
                            "(only auto chooses a model on the holdout)",
                            hint="remove it, or set models.use: auto")]
    found = []
    if ("models", "use") in doc.positions and models["use"] not in ("auto", "none"):
        found.append(doc.problem(("models", "use"), f"found {models['use']!r}, which is not "
                                 "used with subscriptions, whose value model is the sBG: "
                                 "expected auto or none", hint=hint))
    for key, why in _NOT_FOR_SUBSCRIPTIONS.items():
        if ("models", key) in doc.positions:
            found.append(doc.problem(("models", key), f"not used with subscriptions ({why})",
                                     hint=hint))
    return found
