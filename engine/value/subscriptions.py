"""The value model of subscriptions and contracts (``subscriptions:`` in cvm.yaml): the
shifted-beta-geometric (sBG) retention model. The contracts became payments when they were read
(``engine.data.contracts``).

Per customer, n = renewals made (payments - 1) and whether they left (no contract running at the
as-of date). ``engine.value.models.sbg`` is fitted on (n, left) of all customers; an active
customer's ``p_alive`` is the probability they renew at their next renewal,
r(n + 1) = (beta + n) / (alpha + beta + n), ``churn_risk`` = 1 - p_alive,
``expected_purchases`` the expected payments over the horizon, sum over k of S(n + k) / S(n),
``clv_model`` margin per period x DERL over the horizon's billing periods (discounted per
period), with its delta-method interval. A customer who left has p_alive 0 and no model value.

Must not import the report, policies or commands.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from engine.data.contracts import NO_END
from engine.decimals import percent
from engine.errors import InputError
from engine.project.location import config_shown

if TYPE_CHECKING:
    from engine.data.contracts import Contracts
    from engine.data.load import Transactions
    from engine.project.config import Config
    from engine.value.clv_models import ModelFit


def apply_subscription_model(frame: pd.DataFrame, config: Config, tx: Transactions | None,
                             *, counts: ContractCounts | None = None) -> ModelFit:
    """The sBG model columns for a subscription business (see the module docstring).
    ``counts``: per customer code, the billing periods paid and whether a contract runs at
    the as-of date (``contract_counts``), when the caller has them instead of ``tx``
    (``--engine dask`` gathers them from its partitions)."""
    from engine.value.clv_models import ModelFit
    from engine.value.features import CODE
    from engine.value.models._common import ConvergenceError
    from engine.value.models.messages import reason_of
    from engine.value.models.sbg import ShiftedBetaGeoFitter
    from engine.value.models.uncertainty import residual_value_intervals

    settings, subs = config.models, config.subscriptions
    assert subs is not None
    if settings.use == "none":
        return ModelFit(False, f"models.use is none in {config_shown()}")
    if counts is None:
        if tx is None or tx.active is None:
            return ModelFit(False, "no contracts loaded")
        counts = contract_counts(tx, subs.billing_days)
    code = frame[CODE].to_numpy()
    payments = counts.periods[code].astype(np.float64)
    renewals = payments - 1
    active = counts.active[code]
    model = ShiftedBetaGeoFitter(settings.penalizer)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(renewals, (~active).astype(np.float64))
    except (ConvergenceError, ValueError) as exc:
        if settings.use == "auto":
            return ModelFit(False, f"the sBG fit failed: {reason_of(exc)}")
        raise InputError(config.problem(
            "models.use", f"the sBG model cannot be used: {reason_of(exc)}",
            hint="set models.use: auto to fall back to the formulas")) from exc
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
                f"who left; first-renewal churn {percent(alpha / (alpha + beta))}"
                if math.isfinite(alpha + beta) else ""),
        equity=(float(bounds.total.estimate[0]), float(bounds.total.lower[0]),
                float(bounds.total.upper[0])), interval_level=settings.interval_level,
        intervals=bounds)


class ContractCounts(NamedTuple):
    """Per customer code, what the value reads of the contracts: the billing periods paid,
    whether a contract runs at the as-of date, and the day its end falls on (``ENDS_OPEN``:
    one runs without an end; ``NOT_RUNNING``: none runs)."""

    periods: np.ndarray
    active: np.ndarray
    ends: np.ndarray


ENDS_OPEN = np.iinfo(np.int64).max
NOT_RUNNING = np.iinfo(np.int64).min  # (an end before 1970 is a negative day)


def contract_counts(tx: Transactions, billing_days: int) -> ContractCounts:
    """``ContractCounts`` of the contracts loaded (``--engine dask``: of a partition's)."""
    assert tx.active is not None and tx.contracts is not None
    return ContractCounts(billing_periods(tx, billing_days), tx.active,
                          running_ends(tx.contracts, tx.as_of_day, len(tx.customer_ids)))


def running_ends(contracts: Contracts, as_of_day: int, customers: int) -> np.ndarray:
    """Per customer code: the last end of the contracts of a positive price running at the
    as-of date (their end on or after it; a discount line running beside them ends nothing),
    carried on by a contract booked to start on or before it (the booked one's end),
    ``ENDS_OPEN`` when one of them has no end, ``NOT_RUNNING`` when none runs (every contract
    row used started before the as-of date)."""
    ends = np.full(customers, NOT_RUNNING, dtype=np.int64)
    running = (contracts.end >= as_of_day) & (contracts.amount > 0)
    end = np.where(contracts.end[running] == NO_END, ENDS_OPEN, contracts.end[running])
    np.maximum.at(ends, contracts.code[running], end)
    if contracts.booked_start is not None and contracts.booked_end is not None:
        # a contract booked to start by the end (a renewal, a plan change) carries it on
        on = (ends != NOT_RUNNING) & (ends != ENDS_OPEN) & (contracts.booked_start <= ends)
        ends[on] = np.where(contracts.booked_end[on] == NO_END, ENDS_OPEN,
                            contracts.booked_end[on])
    return ends


def add_contract_end(frame: pd.DataFrame, counts: ContractCounts, as_of_day: int) -> None:
    """``days_to_contract_end``: from the as-of date to the end of the customer's running
    contract (its first day not covered; the latest, of several), where every contract of
    theirs running has an end (a cancellation booked, a fixed term); empty otherwise."""
    from engine.value.features import CODE

    ends = counts.ends[frame[CODE].to_numpy()]
    booked = (ends != ENDS_OPEN) & (ends != NOT_RUNNING)
    frame["days_to_contract_end"] = np.where(booked, ends - as_of_day, np.nan)


def billing_periods(tx: Transactions, billing_days: int) -> np.ndarray:
    """Per customer code: the billing periods paid (renewals + 1). Each contract of a
    positive price covers the days from its start to its end or the as-of date (at least
    its first day: it is billed its first period); the days covered, joined where contracts
    overlap, are counted in whole billing periods (a part one counting as one), so a period
    is paid once whatever the contracts paying it: two contracts running together (an
    add-on), a contract's row twice, a plan changed mid-period (its new contract starting
    before the old one ends). A contract of a negative price (a refund, a discount line)
    covers nothing. One contract alone pays as many periods as it has payments."""
    return Coverage.of(tx, billing_days).periods()


def paid_between(tx: Transactions, since: int, through: int) -> np.ndarray:
    """Per customer code: whether a positive payment falls after ``since`` and on or before
    ``through`` (a billing period paid in that window: a contract running)."""
    keep = (tx.amount > 0) & (tx.day > since) & (tx.day <= through)
    return np.bincount(tx.code[keep], minlength=len(tx.customer_ids)) > 0


class Coverage:
    """The contracts of a positive price sorted by customer, then start, once, for the
    billing periods paid counted through any day (``cvm fit`` counts them through two)."""

    def __init__(self, code: np.ndarray, start: np.ndarray, stop: np.ndarray, customers: int,
                 billing_days: int, width: int, low: int) -> None:
        self.code, self.start, self.stop, self.customers = code, start, stop, customers
        self.billing_days, self.width, self.low = billing_days, width, low

    @classmethod
    def of(cls, tx: Transactions, billing_days: int) -> Coverage:
        contracts = tx.contracts
        assert contracts is not None
        keep = contracts.amount > 0
        code, start = contracts.code[keep].astype(np.int64), contracts.start[keep]
        # the first day not covered: the end or the as-of date, after the first day
        stop = np.maximum(np.minimum(contracts.end[keep], tx.as_of_day), start + 1)
        customers = len(tx.customer_ids)
        if not len(code):
            return cls(code, start, stop, customers, billing_days, 1, 0)
        # days counted from the earliest (before 1970 they are negative); one sort of one
        # key, customer then start (a lexsort of the two took twice as long)
        low = int(np.min(start))
        width = int(np.max(stop)) - low + 1  # wider than any customer's days
        order = np.argsort(code * width + (start - low), kind="stable")
        return cls(code[order], start[order], stop[order], customers, billing_days, width,
                   low)

    def periods(self, through: int | None = None) -> np.ndarray:
        """Per customer code: the billing periods paid on or before ``through`` (all
        without it): the contracts started by then, each covering to the day after it at
        most (its payments on or before it); a subset of sorted rows stays sorted."""
        code, start, stop, billing_days = self.code, self.start, self.stop, self.billing_days
        if through is not None:
            keep = start <= through
            code, start = code[keep], start[keep]
            stop = np.minimum(stop[keep], through + 1)
        if not len(code):
            return np.zeros(self.customers, dtype=np.int64)
        # the end of the days covered so far, per customer (the offset per customer keeps
        # the running maximum within the customer's rows)
        shift = code * self.width
        reach = np.maximum.accumulate(stop - self.low + shift) - shift + self.low
        starts = np.ones(len(start), dtype=bool)  # a row that begins a stretch covered
        starts[1:] = (code[1:] != code[:-1]) | (start[1:] >= reach[:-1])
        first = np.flatnonzero(starts)
        last = np.append(first[1:], len(start)) - 1
        periods = -(-(reach[last] - start[first]) // billing_days)  # each, rounded up
        return np.bincount(code[first], weights=periods,
                           minlength=self.customers).astype(np.int64)
