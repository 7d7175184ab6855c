"""The model figures of one customer in ``cvm explain``: the columns the probabilistic models put
in the value table (``engine.value.clv_models``, ``engine.value.subscriptions``), which policies
may use, with the model that produced them; or, when the value table has none, why.

Must not import the report, serve or commands.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.project.location import config_shown
from engine.value.clv_models import TITLES, ModelFit

# the model columns of the value table (README "Probabilistic models"), in the table's order
MODEL_COLUMNS = ("p_alive", "churn_risk", "expected_purchases", "clv_model", "clv_model_lower",
                 "clv_model_upper")
PROBABILITIES = ("p_alive", "churn_risk")
SBG_TITLE = "sBG retention model"


@dataclass(frozen=True)
class ModelFigures:
    fitted: bool
    purchase_model: str | None  # mbgnbd, bgnbd, pareto_nbd or sbg; None without a model
    reason: str | None  # why the value table has no model figures
    heading: str  # which model, fitted on what
    interval_level: float | None
    figures: tuple[tuple[str, float | None], ...]

    @property
    def spend_model(self) -> str | None:
        return "gamma_gamma" if self.fitted and self.purchase_model != "sbg" else None

    @property
    def title(self) -> str | None:
        if self.purchase_model is None:
            return None
        return SBG_TITLE if self.purchase_model == "sbg" else TITLES[self.purchase_model]

    def lines(self) -> list[str]:
        names = list(MODEL_COLUMNS)
        if not self.fitted:
            listed = ", ".join(names[:-1]) + " and " + names[-1]
            return ["", f"Model figures: none ({self.reason}): {listed} are not in the value "
                    "table; the values above are the formulas'"]
        out = ["", f"Model figures: {self.heading}"]
        for name, value in self.figures:
            if value is None:
                shown = "- (not computed for this customer)"
            else:
                shown = f"{value:.3f}" if name in PROBABILITIES else f"{value:,.2f}"
            if name == "clv_model_lower" and self.interval_level is not None:
                shown += f"  (the {self.interval_level:.0%} interval of clv_model: lower .. upper)"
            out.append(f"  {name:<18} {shown}")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"fitted": self.fitted, "purchase_model": self.purchase_model,
                "spend_model": self.spend_model, "title": self.title,
                "description": self.heading, "reason": self.reason,
                "interval_level": self.interval_level, "figures": dict(self.figures)}


def model_figures(customer: Mapping[str, Any], fit: ModelFit) -> ModelFigures:
    """One customer's model columns and the model that made them (``fit``: what scoring
    fitted, ``ScoreResult.model``)."""
    if not fit.used:
        return ModelFigures(False, None, fit.reason, f"formulas ({fit.reason})", None,
                            tuple((name, None) for name in MODEL_COLUMNS))
    name = fit.transaction_model
    if name == "sbg":
        heading = (f"{SBG_TITLE} (renewals, churn; subscriptions: in {config_shown()}), fitted on "
                   f"{fit.customers:,} customers (billing period {fit.time_unit_days:g} days)")
    else:
        heading = (f"{TITLES[name]} (purchases, P(alive)) + Gamma-Gamma (spend), fitted on "
                   f"{fit.customers:,} customers (time unit {fit.time_unit_days:g} days)"
                   + ("; chosen by models.use: auto (cvm score and cvm fit say why)"
                      if fit.choice else ""))
    figures = tuple((column, _number(customer.get(column))) for column in MODEL_COLUMNS)
    return ModelFigures(True, name, None, heading, fit.interval_level, figures)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
