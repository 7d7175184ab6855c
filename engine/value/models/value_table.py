"""Whether the value table uses the probabilistic models or keeps the formulas: one decision,
made by ``cvm score`` (``engine.value.clv_models.apply_models``) and shown by ``cvm fit``, so
that the two never disagree (issue 15's trial: fit named MBG/NBD where score kept the
formulas because Gamma-Gamma's q was <= 1)."""

from __future__ import annotations

from typing import Any


def keeps_formulas(use: str, repeaters: int, min_repeaters: int,
                   spend_model: Any = None) -> str | None:
    """Why the value table keeps the formula columns, or None when it uses the models:
    ``models.use: none``, fewer repeat buyers than ``models.min_repeat_customers``, or a fitted
    Gamma-Gamma ``spend_model`` whose mean spend is infinite (q <= 1). A purchase or spend fit
    that fails is the other reason, given by the fit itself."""
    if use == "none":
        return "models.use is none in cvm.yaml"
    if repeaters < min_repeaters:
        return (f"only {repeaters:,} repeat buyers, models.min_repeat_customers is "
                f"{min_repeaters:,}")
    if spend_model is not None and spend_model.params_["q"] <= 1:
        q = spend_model.params_["q"]
        return (f"Gamma-Gamma q <= 1: infinite mean spend (q = {q:.4g}): spend per purchase "
                "day is too heavy-tailed for an expected value")
    return None
