"""``cvm fit``'s holdout part: the purchase models side by side on the calibration period, the
weekly tracking chart, and the Gamma-Gamma checks (engine/value/models/compare.py, tracking.py,
spend_checks.py)."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd

from engine.project.location import config_shown
from engine.value.models.compare import Comparison, OffHoldout, choose, compare
from engine.value.models.messages import reason_of
from engine.value.models.spend_checks import HoldoutSpend, Independence, holdout_spend, independence
from engine.value.models.tracking import tracking, tracking_svg
from engine.words import counted


@dataclass(frozen=True)
class Holdout:
    comparison: Comparison
    chosen: str | None  # the purchase model the value table uses; None: no candidate fitted
    choice: str  # why (models.use: auto), or that models.use names it, or why none
    tracking: pd.DataFrame | None
    independence: Independence
    spend: HoldoutSpend | str  # or why Gamma-Gamma could not be fitted on the calibration

    def as_dict(self) -> dict[str, object]:
        return {"models": self.comparison.as_dict(),
                "choice": {"model": self.chosen, "reason": self.choice},
                "gamma_gamma": {"independence": self.independence.as_dict(),
                                "holdout_spend": spend_dict(self.spend)}}


NO_CANDIDATE = "no candidate could be fitted on this holdout"
SPEND_FIELDS = ("customers", "predicted_mean", "actual_mean", "predicted_total", "actual_total",
                "relative_error")


def spend_dict(spend: HoldoutSpend | str) -> dict[str, object]:
    """The holdout spend check as one shape: ``status`` checked (the figures, ``reason``
    null) or not_checked (``reason`` why, the figures null)."""
    if isinstance(spend, str):
        return {"status": "not_checked", "reason": spend, **dict.fromkeys(SPEND_FIELDS)}
    return {"status": "checked", "reason": None, **spend.as_dict()}


def penalty_note(penalizer: float, figures: str) -> str:
    """The header's note that the fits are penalised (every likelihood shown is), or ""."""
    if penalizer <= 0:
        return ""
    return f"; models.penalizer {penalizer:g}: every {figures} below is of the penalised fit"


def not_candidate_note() -> str:
    """What the fit summary adds to auto's choice: the models it does not choose, and why."""
    from engine.value.model_choice import PURCHASE_MODELS

    return "".join(f"; {m.title} is not a candidate: it {m.not_candidate}"
                   for m in PURCHASE_MODELS if not m.candidate)


def holdout(cal: pd.DataFrame, purchases: pd.DataFrame, *, use: str, penalizer: float,
            cal_end: dt.date, observation_end: dt.date, unit: float,
            full_frequency: Any, full_spend: Any, max_error: float | None = None) -> Holdout:
    from engine.value.model_choice import NOT_AUTO
    from engine.value.models import ConvergenceError

    comparison = compare(cal, penalizer=penalizer, not_candidates=NOT_AUTO)
    chosen: str | None
    if use not in ("auto", "none"):
        chosen, why = use, f"models.use is {use} in {config_shown()}"
    else:
        try:
            picked = choose(comparison, max_error=max_error)
        except OffHoldout as exc:  # fitted, but too far off: auto keeps the formulas
            chosen, why = None, str(exc)
        except ValueError:  # no candidate fitted: auto has nothing to take on this holdout
            chosen, why = None, NO_CANDIDATE + ": " + "; ".join(
                f"{s.title}: {s.reason}" for s in comparison.scores.values()
                if s.candidate)
        else:
            chosen, why = picked.name, picked.reason + not_candidate_note()
    series = None
    models = {s.title: s.model for s in comparison.fitted()}
    if models:
        series = tracking(purchases, models, customer_col="customer", date_col="date",
                          calibration_end=cal_end, observation_end=observation_end,
                          time_unit_days=unit)
    spend: HoldoutSpend | str
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spend = holdout_spend(cal, penalizer=penalizer)[1]
    except (ConvergenceError, ValueError) as exc:
        spend = reason_of(exc)
    return Holdout(comparison, chosen, why, series, independence(full_frequency, full_spend),
                   spend)


def lines(h: Holdout, *, cal_end: dt.date, observation_end: dt.date, customers: int,
          use: str = "auto", default_end: dt.date | None = None,
          formulas: str | None = None) -> list[str]:
    """The side-by-side table, the by-frequency table, the choice and the spend checks.

    The choice is the value table's only when it is made as `cvm score` makes it: a model
    named by ``use``, or ``auto`` on the default holdout (ending ``default_end``), and only
    when the value table uses the models at all: ``formulas`` says why it keeps the formulas
    (``engine.value.models.value_table.keeps_formulas``, the decision ``cvm score`` makes)."""
    out = [f"Holdout: each purchase model fitted to {cal_end}, predicting "
           f"{cal_end + dt.timedelta(days=1)} .. {observation_end} "
           f"({counted(customers, 'customer')})",
           f"  {'model':<12} {'LL':>13} {'AIC':>12} {'BIC':>12} {'predicted':>10} "
           f"{'actual':>9} {'error':>7}"]
    for s in h.comparison.scores.values():
        title = s.title + ("*" if not s.candidate else "")  # the footnote below says why
        if not s.fitted:
            out.append(f"  {title:<12} not fitted: {s.reason}")
            continue
        out.append(f"  {title:<12} {s.log_likelihood:>13,.2f} {s.aic:>12,.1f} "
                   f"{s.bic:>12,.1f} {s.predicted:>10,.0f} {s.actual:>9,.0f} "
                   f"{_pct(s.relative_error):>7}")
    out += [f"  * {s.not_candidate}" for s in h.comparison.scores.values() if not s.candidate]
    if h.comparison.fitted():  # the calibration fits (FHL 2005 publish CDNOW's: README)
        out.append(f"  parameters fitted to {cal_end}:")
        out += [f"  {s.title:<12} {param_text(s.model)}" for s in h.comparison.fitted()]
    table = h.comparison.by_frequency
    if len(table):
        names = [c for c in table.columns if c not in ("n_customers", "actual_mean")]
        out.append("  mean holdout repeat purchases by calibration repeat purchases:")
        out.append(f"  {'cal. repeats':>12} {'customers':>10} {'actual':>8} "
                   + " ".join(f"{n:>10}" for n in names))
        for label, row in table.iterrows():
            out.append(f"  {label!s:>12} {int(row['n_customers']):>10,} "
                       f"{row['actual_mean']:>8.3f} "
                       + " ".join(f"{row[n]:>10.3f}" for n in names))
    title = (h.comparison.scores[h.chosen].title if h.chosen in h.comparison.scores
             else str(h.chosen))
    if h.chosen is None:
        elsewhere = default_end is not None and cal_end != default_end
        out.append(f"  {h.choice}" + (
            "; the value table's model is chosen on the default holdout, after "
            f"{default_end} (models.holdout_days): cvm fit without --calibration-end shows it"
            if elsewhere else "; the value table keeps the formulas (as cvm score does: no "
            "purchase model could be chosen)" if use == "auto" else
            f"; models.use is none in {config_shown()}: the value table keeps the formulas"
            if use == "none" else ""))
    elif use == "none":
        out.append(f"  models.use: auto would take {title} ({h.choice}); models.use is none in "
                   f"{config_shown()}: the value table keeps the formulas")
    elif use == "auto" and default_end is not None and cal_end != default_end:
        out.append(f"  on this holdout models.use: auto takes {title} ({h.choice}); the value "
                   f"table's model is chosen on the default holdout, after {default_end} "
                   "(models.holdout_days): cvm fit without --calibration-end shows it")
    elif formulas is not None and use != "auto":  # a model asked for by name: score refuses
        out.append(f"  value table model: none: cvm score stops with an error ({formulas}; "
                   f"models.use is {use} in {config_shown()}, set it to auto to keep the formulas)")
    elif formulas is not None:
        out.append(f"  value table model: formulas ({formulas}), as cvm score decides; on the "
                   f"holdout the purchase model would be {title} ({h.choice})")
    else:
        out.append(f"  value table model: {title} ({h.choice})")
    out.append(f"Gamma-Gamma: {h.independence.describe()}")
    out.append("  " + (h.spend.describe() if isinstance(h.spend, HoldoutSpend) else
                       f"holdout spend not checked: {h.spend}"))
    return out


def as_json(h: Holdout, *, cal_end: dt.date, observation_end: dt.date, customers: int
            ) -> dict[str, object]:
    """What ``lines`` shows, for ``cvm fit --json``: the holdout window, each model's
    calibration fit and holdout scores (or why it was not fitted), the by-frequency table (the
    predicted means keyed by model name), the choice and the Gamma-Gamma checks."""
    names = {s.title: s.name for s in h.comparison.scores.values()}
    table = h.comparison.by_frequency
    models = [c for c in table.columns if c not in ("n_customers", "actual_mean")]
    rows = [{"calibration_repeats": str(label), "customers": int(row["n_customers"]),
             "actual_mean": float(row["actual_mean"]),
             "predicted_mean": {names.get(c, c): float(row[c]) for c in models}}
            for label, row in table.iterrows()]
    return {"calibration_end": str(cal_end),
            "holdout_start": str(cal_end + dt.timedelta(days=1)),
            "observation_end": str(observation_end), "customers": customers,
            **h.as_dict(), "by_frequency": rows}


def comparison_csv(h: Holdout) -> pd.DataFrame:
    return h.comparison.table().reset_index()


def by_frequency_csv(h: Holdout) -> pd.DataFrame:
    return h.comparison.by_frequency.rename_axis("frequency_cal").reset_index()


def tracking_chart(h: Holdout, unit: float) -> str | None:
    if h.tracking is None:
        return None
    name = "week" if unit == 7 else f"period of {unit:g} days"
    return tracking_svg(h.tracking, period_name=name)


def param_text(model: Any) -> str:
    """A fitted model's parameters with standard errors and log-likelihood, as cvm fit prints
    them."""
    return "  ".join(f"{k} {v:.4g} (se {model.standard_errors_[k]:.2g})"
                     for k, v in model.params_.items()) + f"  LL {model.log_likelihood_:,.2f}"


def _pct(v: float) -> str:
    return f"{v:+.1%}" if math.isfinite(v) else "n/a"
