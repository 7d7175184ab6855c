"""Whether the value table uses the probabilistic models or keeps the formulas: one decision,
made by ``cvm score`` (``engine.value.clv_models.apply_models``) and shown by ``cvm fit``, so
that the two never disagree (issue 15's trial: fit named MBG/NBD where score kept the
formulas because Gamma-Gamma's q was <= 1)."""

from __future__ import annotations

from typing import Any

from engine.project.location import config_shown


def keeps_formulas(use: str, repeaters: int, min_repeaters: int,
                   spend_model: Any = None) -> str | None:
    """Why the value table keeps the formula columns, or None when it uses the models:
    ``models.use: none``, fewer repeat buyers than ``models.min_repeat_customers``, or a fitted
    Gamma-Gamma ``spend_model`` whose mean spend is infinite (q <= 1). A purchase or spend fit
    that fails is the other reason, given by the fit itself."""
    if use == "none":
        return f"models.use is none in {config_shown()}"
    if repeaters < min_repeaters:
        return (f"only {repeaters:,} repeat buyer{'s' * (repeaters != 1)}, "
                "models.min_repeat_customers is "
                f"{min_repeaters:,}")
    if spend_model is not None and spend_model.params_["q"] <= 1:
        q = spend_model.params_["q"]
        return (f"Gamma-Gamma q <= 1: infinite mean spend (q = {q:.4g}): spend per purchase "
                "day is too heavy-tailed for an expected value")
    return None


def purchase_model(use: str, holdout_choice: str | None, default_holdout: bool) -> str | None:
    """The purchase model ``cvm score`` fits on all the data for the value table: the one
    ``models.use`` names (whatever holdout ``cvm fit`` was given), or ``auto``'s choice, known
    only on the default holdout (``holdout_choice`` there); None with ``models.use: none``, with
    ``auto`` on another holdout, or when no candidate could be chosen."""
    if use == "none":
        return None
    if use != "auto":
        return use
    return holdout_choice if default_holdout else None


def fit_failed(name: str, title: str, reason: str) -> str:
    """A value-table fit that failed (``name``: gamma_gamma or a purchase model, ``title`` its
    title), as ``cvm score`` says it and ``cvm fit`` repeats it."""
    kind = "spend" if name == "gamma_gamma" else "purchase"
    return f"the {title} {kind} model fit failed: {reason.rstrip('.')}"
