"""Stage 2c, value by probabilistic models: MBG/NBD (or BG/NBD) for purchases and P(alive),
Gamma-Gamma for spend (engine/models), fitted by maximum likelihood on the scored customers.

Where the data allows (``models.use`` not ``none``, enough repeat buyers, both fits converge,
Gamma-Gamma's mean spend is finite: q > 1),
this adds ``p_alive``, ``churn_risk`` = 1 - p_alive, ``expected_purchases`` (over the horizon)
and ``clv_model``, and replaces ``potential_value`` by the model's expected margin over the
horizon if the customer is retained (expected purchases given alive x expected gross spend per
purchase occasion x the customer's net margin per unit of gross spend, discounted per period).
Otherwise the formula columns stay and the reason is reported.

The purchase model is MBG/NBD by default (``auto`` and ``mbgnbd``): unlike BG/NBD, in which a
customer can only leave after a repeat purchase, so that every one-time buyer is certainly
alive (churn risk 0 however long ago they came), it lets customers leave right after their
first purchase. ``bgnbd`` keeps BG/NBD.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from engine.errors import InputError
from engine.project.config import Config
from engine.project.location import config_shown
from engine.value.features import REPEAT_SPEND

if TYPE_CHECKING:
    from engine.data.load import Transactions
    from engine.value.models.uncertainty import ClvIntervals


@dataclass(frozen=True)
class ModelFit:
    """What was fitted (for the summary, the manifest and ``cvm fit``)."""

    used: bool
    reason: str
    transaction_model: str = ""
    params: dict[str, dict[str, float]] = field(default_factory=dict)
    standard_errors: dict[str, dict[str, float]] = field(default_factory=dict)
    log_likelihood: dict[str, float] = field(default_factory=dict)
    customers: int = 0
    time_unit_days: float = 7.0
    choice: str = ""  # why models.use: auto took this purchase model
    # total customer equity by the model (sum of clv_model) with its interval
    equity: tuple[float, float, float] | None = None
    interval_level: float = 0.9
    # the intervals behind clv_model_lower/upper and equity, in the value table's row order:
    # the report bounds each tier's and stage's sum with them
    intervals: ClvIntervals | None = field(default=None, repr=False, compare=False)

    def describe(self) -> str:
        if not self.used:
            return f"formulas ({self.reason})"
        title = TITLES[self.transaction_model]
        parts = ", ".join(f"{k}={v:.4g}" for k, v in self.params[self.transaction_model].items())
        if self.transaction_model == "sbg":
            return (f"sBG retention model fitted on {self.customers:,} customers (billing "
                    f"period {self.time_unit_days:g} days; {parts}); {self.choice}")
        text = (f"{title} + Gamma-Gamma fitted on {self.customers:,} customers "
                f"(time unit {self.time_unit_days:g} days; {title} {parts})")
        return text + (f"; chosen by models.use auto: {self.choice}" if self.choice else "")


# the purchase models by models.use value, and how the summary names them
TITLES = {"mbgnbd": "MBG/NBD", "bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD",
          "gamma_gamma": "Gamma-Gamma", "sbg": "sBG"}
PURCHASE_MODEL = {"auto": "mbgnbd", "mbgnbd": "mbgnbd", "bgnbd": "bgnbd",
                  "pareto_nbd": "pareto_nbd"}


def _fitter(name: str) -> Callable[[float], Any]:
    from engine.value.models import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

    return {"mbgnbd": ModifiedBetaGeoFitter, "bgnbd": BetaGeoFitter,
            "pareto_nbd": ParetoNBDFitter}[name]



def rfm(frame: pd.DataFrame, unit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """frequency, recency (first to last purchase) and T (first purchase to as-of), in units."""
    x = frame["frequency"].to_numpy(dtype=np.float64)
    big_t = frame["tenure_days"].to_numpy(dtype=np.float64) / unit
    t_x = (frame["tenure_days"].to_numpy() - frame["recency_days"].to_numpy()) / unit
    return x, np.asarray(t_x, dtype=np.float64), big_t


def apply_models(frame: pd.DataFrame, config: Config, tx: Transactions | None = None, *,
                 choose: Callable[[], tuple[str, str]] | None = None) -> ModelFit:
    """Fit and add the model columns in place, or leave the formulas and say why.

    ``models.use: auto`` with the transactions ``tx`` picks the purchase model by holdout error
    (``engine.value.model_choice``); without them, MBG/NBD. ``choose``: makes that choice
    (name, reason; ValueError when none fits) where the rows are not in one process
    (``engine.distributed``)."""
    from engine.value.models._common import ConvergenceError
    from engine.value.models.gamma_gamma import GammaGammaFitter
    from engine.value.models.messages import reason_of
    from engine.value.models.value_table import fit_failed, keeps_formulas

    settings = config.models
    if settings.use == "none":
        return ModelFit(False, f"models.use is none in {config_shown()}")
    unit = settings.time_unit_days
    x, t_x, big_t = rfm(frame, unit)
    spend = frame[REPEAT_SPEND].to_numpy()
    repeaters = int(((x > 0) & (spend > 0)).sum())
    reason = keeps_formulas(settings.use, repeaters, settings.min_repeat_customers)
    if reason is not None:
        return _fail_or_fall_back(config, reason)
    name, why = PURCHASE_MODEL[settings.use], ""
    if settings.use == "auto" and (tx is not None or choose is not None):
        from engine.value.model_choice import choose_purchase_model

        try:
            if choose is not None:
                name, why = choose()
            else:
                assert tx is not None
                chosen = choose_purchase_model(tx, config)
                name, why = chosen.name, chosen.reason
        except ValueError as exc:  # no model fits the calibration period: the formulas
            return ModelFit(False, f"no purchase model could be chosen: {exc}")
    fitter = _fitter(name)(settings.penalizer)
    H, L = config.horizon_periods, config.period_days
    d = config.discount_rate_per_period
    ok = (x > 0) & (spend > 0)
    # the two fits, then the predictions, run on both cores (numpy and scipy release the GIL)
    with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=1) as pool:
        warnings.simplefilter("ignore")
        gg_job = pool.submit(lambda: GammaGammaFitter(settings.penalizer).fit(x[ok], spend[ok]))
        # each fit's failure names its model (the fitter's class name is not a user's word)
        failing = name
        try:
            purchases = fitter.fit(x, t_x, big_t)
            failing = "gamma_gamma"
            gg = gg_job.result()
        except (ConvergenceError, ValueError) as exc:
            failed = fit_failed(failing, TITLES[failing], reason_of(exc))
            return _fail_or_fall_back(config,
                                      failed + fit_advice(unit, settings.penalizer, failed,
                                                          settings.use))
        reason = keeps_formulas(settings.use, repeaters, settings.min_repeat_customers, gg)
        if reason is not None:  # a converged fit, but its expected spend is infinite
            return _fail_or_fall_back(
                config, reason,
                hint="set models.use: auto to fall back to the formulas (or none); the models "
                "need a spend per purchase with a finite mean", penalizer=settings.penalizer)
        alive_job = pool.submit(lambda: (
            purchases.p_alive(x, t_x, big_t),
            purchases.expected_purchases(H * L / unit, x, t_x, big_t)))
        rate = margin_per_gross_spend(frame)
        bounds = clv_bounds(purchases, gg, x, t_x, big_t, np.where(x > 0, spend, 0.0), rate,
                            horizon=H, discount=d, step=L / unit, level=settings.interval_level)
        # given alive, not the expectation divided back by P(alive) (0 / 0 where it underflows)
        if_alive = purchases.discounted_expected_purchases(
            x, t_x, big_t, horizon=H, discount_rate_per_period=d, periods_per_step=L / unit,
            given_alive=True)
        expected_spend = gg.expected_average_spend(x, np.where(x > 0, spend, 0.0))
        p_alive, expected_purchases = alive_job.result()
    frame["p_alive"] = p_alive
    frame["churn_risk"] = 1.0 - p_alive
    frame["expected_purchases"] = expected_purchases
    frame["clv_model"] = bounds.customers.estimate
    frame["clv_model_lower"] = bounds.customers.lower
    frame["clv_model_upper"] = bounds.customers.upper
    frame["potential_value"] = expected_spend * rate * if_alive
    return ModelFit(
        True, "fitted", name,
        params={name: dict(purchases.params_), "gamma_gamma": dict(gg.params_)},
        standard_errors={name: dict(purchases.standard_errors_),
                         "gamma_gamma": dict(gg.standard_errors_)},
        log_likelihood={name: float(purchases.log_likelihood_),
                        "gamma_gamma": float(gg.log_likelihood_)},
        customers=len(frame), time_unit_days=unit, choice=why,
        equity=(float(bounds.total.estimate[0]), float(bounds.total.lower[0]),
                float(bounds.total.upper[0])), interval_level=settings.interval_level,
        intervals=bounds,
    )


def clv_bounds(purchases: Any, gg: Any, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray,
               spend: np.ndarray, rate: np.ndarray, *, horizon: int, discount: float,
               step: float, level: float) -> ClvIntervals:
    """clv_model and its delta-method interval per customer and in total
    (engine/value/models/uncertainty.py): expected spend x margin rate x discounted purchases."""
    from engine.value.models.uncertainty import clv_intervals

    return clv_intervals(purchases, gg, x, t_x, big_t, spend, horizon=horizon,
                         discount_rate_per_period=discount, periods_per_step=step,
                         margin_rate=rate, level=level)


def margin_per_gross_spend(frame: pd.DataFrame) -> np.ndarray:
    """Net margin (after refunds) per unit of gross spend (before refunds).

    Gamma-Gamma models the gross spend of a purchase occasion, so its margin rate must have
    gross spend below the line: a refund lowers the net margin and leaves the gross spend, so
    it lowers the value. (Net margin over net revenue would *raise* the rate of a customer
    who returns the low-margin part of what they bought.)
    """
    gross = frame["revenue"].to_numpy() + frame["refunds"].to_numpy()
    margin = frame["gross_margin"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(gross > 0, margin / gross, 0.0)


def fit_advice(unit: float, penalizer: float, reason: str = "", use: str = "") -> str:
    """What can make a failed fit succeed, whatever the penalty (README "L2 penalty"); where
    two parameters ran off together (``reason``), the data are no small sample: another
    model."""
    penalty = (f"another models.penalizer (now {penalizer:g}: the penalty shrinks every "
               "parameter towards 0 and can itself make a fit fail)" if penalizer > 0 else
               "a small models.penalizer (now 0; try 0.0001)")
    from engine.value.models.unidentified import GROW_TOGETHER

    if GROW_TOGETHER in reason:  # (auto chose it on the holdout: another, named)
        other = "name another in models.use (cvm fit compares them)" if use == "auto" else \
            "models.use: auto chooses the model that fits them"
        return (f"; the model has no finite estimate on these data: {other}, or {penalty} "
                "keeps its parameters finite")
    return (f"; to fit, the models need more data (a few hundred customers who bought on more "
            f"than one day), a models.time_unit_days that suits how often customers buy (now "
            f"{unit:g} days), or {penalty}")


def _fail_or_fall_back(config: Config, reason: str,
                      hint: str = "set models.use: auto to fall back to the formulas",
                      penalizer: float = 0.0) -> ModelFit:
    use = config.models.use
    if penalizer > 0:  # the penalty can be the cause (README "L2 penalty")
        reason += (f" (with models.penalizer {penalizer:g}: the penalty shrinks every parameter "
                   "towards 0 and can itself make a fit fail)")
    if use != "auto":  # a model asked for by name: do not quietly use something else
        raise InputError(config.problem(
            "models.use", f"the probabilistic models cannot be used: {reason}", hint=hint))
    return ModelFit(False, reason)
