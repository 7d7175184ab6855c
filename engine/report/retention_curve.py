"""The retention curve of a subscription business (Fader & Hardie 2007, figure 1): the share of
customers still subscribed after t renewal decisions, observed against the fitted
shifted-beta-geometric curve and its projection.

Observed: the Kaplan-Meier estimate from the same per-customer data the sBG is fitted on
(``engine.value.subscriptions``): n renewals made (payments - 1) and whether they left. A
customer who left after n renewals churned at decision n + 1; one still subscribed has passed
n decisions and not yet faced the next (censored). At decision t, the customers at risk are
those with n >= t plus those who left at t; S(t) = product over k <= t of
(1 - left at k / at risk at k). It is shown while at least ``MIN_AT_RISK`` customers faced the
decision (beyond, one or two customers make the curve jump). Fitted: the model's
S(t) = B(alpha, beta + t) / B(alpha, beta), drawn over the observed decisions and projected
over the value horizon's billing periods past the last of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.data.load import Transactions
from engine.report import charts as ch
from engine.value.clv_models import ModelFit

MIN_AT_RISK = 20


@dataclass(frozen=True)
class RetentionCurve:
    """Per renewal decision t = 0, 1, ...: observed and fitted survival."""

    decisions: np.ndarray  # t = 0 .. last observed + projection
    observed: np.ndarray  # Kaplan-Meier S(t); NaN where fewer than min_at_risk faced t
    at_risk: np.ndarray  # customers who faced decision t (t = 0: every customer)
    fitted: np.ndarray  # the sBG's S(t)
    last_observed: int  # the last t with an observed value
    alpha: float
    beta: float


def retention_curve(model: ModelFit, tx: Transactions, table: pd.DataFrame, *,
                    projection: int, min_at_risk: int = MIN_AT_RISK) -> RetentionCurve | None:
    """The curve of the sBG fit behind the value table (None without one): the table's
    customers, their renewals from the payments and whether a contract runs at the as-of."""
    if not model.used or model.transaction_model != "sbg" or tx.active is None:
        return None
    from engine.value.models.sbg import ShiftedBetaGeoFitter
    from engine.value.subscriptions import billing_periods

    codes = pd.Index(tx.customer_ids).get_indexer(table["customer_id"].to_numpy())
    # each billing period paid once (the fit's count: a discount line or an add-on is none)
    renewals = billing_periods(tx, int(model.time_unit_days))[codes] - 1
    left = ~tx.active[codes]
    top = int(renewals.max()) + 1
    passed = np.bincount(renewals, minlength=top + 1)[::-1].cumsum()[::-1]  # n >= t
    churned = np.bincount(renewals[left] + 1, minlength=top + 1)  # left at decision n + 1
    at_risk = np.concatenate([[len(renewals)], passed[1:] + churned[1:]])
    with np.errstate(divide="ignore", invalid="ignore"):
        kept = np.where(at_risk > 0, 1.0 - churned / at_risk, 1.0)
    shown = np.flatnonzero(at_risk >= min_at_risk)  # a prefix: at risk never rises with t
    last = int(shown[-1]) if len(shown) else 0  # ascending indices
    decisions = np.arange(last + projection + 1)
    observed = np.full(len(decisions), np.nan)
    observed[:last + 1] = np.cumprod(kept)[:last + 1]
    faced = np.zeros(len(decisions), dtype=np.int64)
    faced[:min(len(at_risk), len(decisions))] = at_risk[:len(decisions)]
    fitter = ShiftedBetaGeoFitter()
    fitter.params_ = dict(model.params["sbg"])
    return RetentionCurve(decisions, observed, faced, fitter.survival(decisions), last,
                          float(fitter.params_["alpha"]), float(fitter.params_["beta"]))


def curve_chart(curve: RetentionCurve, billing_days: int) -> str:
    """The SVG: observed survival, the sBG fit over the observed decisions and, dashed, its
    projection; the parameters in the title."""
    last = curve.last_observed
    t = curve.decisions
    fit = [float(v) if k <= last else math.nan for k, v in zip(t, curve.fitted, strict=True)]
    ahead = [float(v) if k >= last else math.nan for k, v in zip(t, curve.fitted, strict=True)]
    return ch.curve_chart(
        "retention_curve", f"Retention curve: customers still subscribed after t renewals "
        f"(sBG alpha = {curve.alpha:.3g}, beta = {curve.beta:.3g})", [int(k) for k in t],
        [ch.Series(f"Observed (at least {MIN_AT_RISK} customers at risk)",
                   [float(v) for v in curve.observed], ch.BLUE),
         ch.Series("sBG fit", fit, ch.ORANGE),
         ch.Series("sBG projection", ahead, ch.ORANGE, dashed=True)],
        ch.Unit("percent", per="of customers"),
        x_caption=f"renewal decisions t (billing periods of {billing_days} days)",
        x_name="after renewal decision")
