"""Subscriptions and contracts (``subscriptions:`` in cvm.yaml): a contracts file becomes
payments, and the value model is the shifted-beta-geometric (sBG) retention model.

In: the transactions file holds one row per contract: the customer (``data.columns.customer_id``),
the start (``date``), the price per billing period (``amount``; ``cost`` or ``margin`` per period
as for transactions) and the end (the column named by ``subscriptions.end``; empty while the
contract runs). Each contract is expanded into one payment per billing period of
``subscriptions.billing_days``, on the day the period starts, from the start while the period
starts before both the end and the as-of date; every later stage (features, value, lifecycle,
policies, allocation, plan, report) then sees ordinary purchases.

Value (``apply_subscription_model``): per customer, n = renewals made (payments - 1) and whether
they left (no contract running at the as-of date). ``engine.models.sbg`` is fitted on (n, left)
of all customers; an active customer's ``p_alive`` is the probability they renew at their next
renewal, r(n + 1) = (beta + n) / (alpha + beta + n), ``churn_risk`` = 1 - p_alive,
``expected_purchases`` the expected payments over the horizon, sum over k of S(n + k) / S(n),
``clv_model`` margin per period x DERL over the horizon's billing periods (discounted per
period), with its delta-method interval. A customer who left has p_alive 0 and no model value.

Must not import the report, policies or commands.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from engine.errors import InputError, Problem

if TYPE_CHECKING:
    from engine.clv_models import ModelFit
    from engine.config import Config
    from engine.load import Transactions
    from engine.tabular import Source

NO_END = np.iinfo(np.int32).max


def expand_contracts(tx: Transactions, end_day: np.ndarray, billing_days: int) -> Transactions:
    """One row per billed period: start + k x billing_days for k = 0, 1, ... while before the
    end and the as-of date (at least the first period). ``end_day`` per contract row, NO_END
    when the contract runs. Sets ``active`` (per customer: a contract runs at the as-of date)."""
    stop = np.minimum(end_day.astype(np.int64), tx.as_of_day)
    start = tx.day.astype(np.int64)
    periods = np.maximum(-((start - stop) // billing_days), 1)  # ceil((stop - start) / B)
    row = np.repeat(np.arange(len(start)), periods)
    first = np.cumsum(periods) - periods
    k = np.arange(len(row)) - np.repeat(first, periods)
    active = np.zeros(len(tx.customer_ids), dtype=bool)
    active[tx.code[end_day.astype(np.int64) >= tx.as_of_day]] = True

    def rep(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a[row]

    return replace(tx, code=tx.code[row], day=(start[row] + k * billing_days).astype(np.int32),
                   amount=tx.amount[row], margin=tx.margin[row], order=None,
                   category=rep(tx.category), active=active)


def end_days(src: Source, column: str, end_seconds: np.ndarray, day: np.ndarray,
             no_date: int) -> np.ndarray:
    """Days of the contracts' ends (NO_END where empty); an end before its start is an error
    at its row."""
    empty = end_seconds == no_date
    end = np.where(empty, NO_END, end_seconds // 86_400).astype(np.int64)
    bad = np.flatnonzero(~empty & (end < day))
    if len(bad):
        i = int(bad[0])
        epoch = dt.date(1970, 1, 1)
        raise InputError(src.row_problem(
            i, column, f"found the end {epoch + dt.timedelta(days=int(end[i]))} before the start "
            f"{epoch + dt.timedelta(days=int(day[i]))} ({len(bad):,} such rows), expected an end "
            "on or after the start", "leave the end empty while the contract runs"))
    return end


def apply_subscription_model(frame: pd.DataFrame, config: Config, tx: Transactions | None
                             ) -> ModelFit:
    """The sBG model columns for a subscription business (see the module docstring)."""
    from engine.clv_models import ModelFit
    from engine.features import CODE
    from engine.models._common import ConvergenceError
    from engine.models.sbg import ShiftedBetaGeoFitter
    from engine.models.uncertainty import residual_value_intervals

    settings, subs = config.models, config.subscriptions
    assert subs is not None
    if settings.use == "none":
        return ModelFit(False, "models.use is none in cvm.yaml")
    if tx is None or tx.active is None:
        return ModelFit(False, "no contracts loaded")
    code = frame[CODE].to_numpy()
    payments = np.bincount(tx.code, minlength=len(tx.customer_ids))[code].astype(np.float64)
    renewals = payments - 1
    active = tx.active[code]
    model = ShiftedBetaGeoFitter(settings.penalizer)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(renewals, (~active).astype(np.float64))
    except (ConvergenceError, ValueError) as exc:
        if settings.use == "auto":
            return ModelFit(False, f"the sBG fit failed: {exc}")
        raise InputError(Problem(f"the sBG model cannot be used: {exc}", file="cvm.yaml",
                                 key="models.use", hint="set models.use: auto to fall back to "
                                 "the formulas")) from exc
    steps = max(1, round(config.horizon_periods * config.period_days / subs.billing_days))
    rate = (1 + config.discount_rate) ** (subs.billing_days / 365.0) - 1
    margin = np.where(payments > 0, frame["gross_margin"].to_numpy() / payments, 0.0)
    margin = np.where(active, np.maximum(margin, 0.0), 0.0)
    bounds = residual_value_intervals(model, renewals, margin, discount_rate=rate,
                                      horizon=steps, level=settings.interval_level)
    un, inv = np.unique(renewals, return_inverse=True)
    ahead = un[:, None] + np.arange(1, steps + 1)[None, :]
    expected_u = (model.survival(ahead.ravel()).reshape(ahead.shape).sum(axis=1)
                  / model.survival(un))
    renew = 1.0 - model.churn_probability(un)
    p_alive = np.where(active, renew[inv.reshape(-1)], 0.0)
    frame["p_alive"] = p_alive
    frame["churn_risk"] = 1.0 - p_alive
    frame["expected_purchases"] = np.where(active, expected_u[inv.reshape(-1)], 0.0)
    frame["clv_model"] = bounds.customers.estimate
    frame["clv_model_lower"] = bounds.customers.lower
    frame["clv_model_upper"] = bounds.customers.upper
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["potential_value"] = np.where(p_alive > 0, bounds.customers.estimate / p_alive,
                                            0.0)
    alpha, beta = model.params_["alpha"], model.params_["beta"]
    return ModelFit(
        True, "fitted", "sbg", params={"sbg": dict(model.params_)},
        standard_errors={"sbg": dict(model.standard_errors_)},
        log_likelihood={"sbg": float(model.log_likelihood_)}, customers=len(frame),
        time_unit_days=float(subs.billing_days),
        choice=(f"subscriptions: {int(active.sum()):,} active and {int((~active).sum()):,} "
                f"who left; first-renewal churn {alpha / (alpha + beta):.1%}"
                if math.isfinite(alpha + beta) else ""),
        equity=(float(bounds.total.estimate[0]), float(bounds.total.lower[0]),
                float(bounds.total.upper[0])), interval_level=settings.interval_level)
