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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.errors import InputError, Problem
from engine.project.config import Config
from engine.value.features import REPEAT_SPEND


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

    def describe(self) -> str:
        if not self.used:
            return f"formulas ({self.reason})"
        title = TITLES[self.transaction_model]
        parts = ", ".join(f"{k}={v:.4g}" for k, v in self.params[self.transaction_model].items())
        return (f"{title} + Gamma-Gamma fitted on {self.customers:,} customers "
                f"(time unit {self.time_unit_days:g} days; {title} {parts})")


# the purchase models by models.use value, and how the summary names them
TITLES = {"mbgnbd": "MBG/NBD", "bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD",
          "gamma_gamma": "Gamma-Gamma"}
PURCHASE_MODEL = {"auto": "mbgnbd", "mbgnbd": "mbgnbd", "bgnbd": "bgnbd"}


def rfm(frame: pd.DataFrame, unit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """frequency, recency (first to last purchase) and T (first purchase to as-of), in units."""
    x = frame["frequency"].to_numpy(dtype=np.float64)
    big_t = frame["tenure_days"].to_numpy(dtype=np.float64) / unit
    t_x = (frame["tenure_days"].to_numpy() - frame["recency_days"].to_numpy()) / unit
    return x, np.asarray(t_x, dtype=np.float64), big_t


def apply_models(frame: pd.DataFrame, config: Config) -> ModelFit:
    """Fit and add the model columns in place, or leave the formulas and say why."""
    from engine.value.models._common import ConvergenceError
    from engine.value.models.bgnbd import BetaGeoFitter
    from engine.value.models.gamma_gamma import GammaGammaFitter
    from engine.value.models.mbgnbd import ModifiedBetaGeoFitter

    settings = config.models
    if settings.use == "none":
        return ModelFit(False, "models.use is none in cvm.yaml")
    name = PURCHASE_MODEL[settings.use]
    fitter = ModifiedBetaGeoFitter() if name == "mbgnbd" else BetaGeoFitter()
    unit = settings.time_unit_days
    x, t_x, big_t = rfm(frame, unit)
    spend = frame[REPEAT_SPEND].to_numpy()
    repeaters = int(((x > 0) & (spend > 0)).sum())
    if repeaters < settings.min_repeat_customers:
        reason = (f"only {repeaters:,} repeat buyers, models.min_repeat_customers is "
                  f"{settings.min_repeat_customers:,}")
        return _fail_or_fall_back(settings.use, reason)
    H, L = config.horizon_periods, config.period_days
    d = config.discount_rate_per_period
    ok = (x > 0) & (spend > 0)
    # the two fits, then the predictions, run on both cores (numpy and scipy release the GIL)
    with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=1) as pool:
        warnings.simplefilter("ignore")
        gg_job = pool.submit(lambda: GammaGammaFitter().fit(x[ok], spend[ok]))
        try:
            purchases = fitter.fit(x, t_x, big_t)
            gg = gg_job.result()
        except (ConvergenceError, ValueError) as exc:
            return _fail_or_fall_back(settings.use, f"the model fit failed: {exc}")
        q = gg.params_["q"]
        if q <= 1:  # a converged fit, but the expected spend it would give is infinite
            return _fail_or_fall_back(
                settings.use, f"Gamma-Gamma q <= 1: infinite mean spend (q = {q:.4g}): spend "
                "per purchase day is too heavy-tailed for an expected value",
                hint="set models.use: auto to fall back to the formulas (or none); the models "
                "need a spend per purchase with a finite mean")
        alive_job = pool.submit(lambda: (
            purchases.p_alive(x, t_x, big_t),
            purchases.expected_purchases(H * L / unit, x, t_x, big_t)))
        # given alive, not the expectation divided back by P(alive) (0 / 0 where it underflows)
        if_alive = purchases.discounted_expected_purchases(
            x, t_x, big_t, horizon=H, discount_rate_per_period=d, periods_per_step=L / unit,
            given_alive=True)
        expected_spend = gg.expected_average_spend(x, np.where(x > 0, spend, 0.0))
        p_alive, expected_purchases = alive_job.result()
        discounted = if_alive * p_alive
    frame["p_alive"] = p_alive
    frame["churn_risk"] = 1.0 - p_alive
    frame["expected_purchases"] = expected_purchases
    rate = margin_per_gross_spend(frame)
    frame["clv_model"] = expected_spend * rate * discounted
    frame["potential_value"] = expected_spend * rate * if_alive
    return ModelFit(
        True, "fitted", name,
        params={name: dict(purchases.params_), "gamma_gamma": dict(gg.params_)},
        standard_errors={name: dict(purchases.standard_errors_),
                         "gamma_gamma": dict(gg.standard_errors_)},
        log_likelihood={name: float(purchases.log_likelihood_),
                        "gamma_gamma": float(gg.log_likelihood_)},
        customers=len(frame), time_unit_days=unit,
    )


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


def _fail_or_fall_back(use: str, reason: str,
                      hint: str = "set models.use: auto to fall back to the formulas") -> ModelFit:
    if use != "auto":  # a model asked for by name: do not quietly use something else
        raise InputError(Problem(f"the probabilistic models cannot be used: {reason}",
                                 file="cvm.yaml", key="models.use", hint=hint))
    return ModelFit(False, reason)
