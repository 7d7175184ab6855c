"""Which purchase model the value table uses under ``models.use: auto``: the one that predicts a
held-out period best.

The data are split at a calibration end (``holdout_split``): the holdout is the last
``models.holdout_days`` days of the data, to the day before the as-of date or the export's
last day if earlier (default: the horizon, H x period_days,
the span the value table predicts), shortened to half the data when the data are shorter than
twice that, so the calibration period is never shorter than the holdout. The purchase models
are each fitted on the customers' purchases up to the calibration end and predict
each customer's repeat purchases in the holdout; of the candidates in ``PURCHASE_MODELS``
(MBG/NBD and Pareto/NBD), the model whose total is closest to the actual total is chosen
(``engine.value.models.compare.choose``: ties within 0.5% go to MBG/NBD), unless even that
model misses the actual total by more than ``models.max_holdout_error``: then none is, and the
value table keeps the formulas. ``cvm fit`` uses the same split by default and shows the whole
comparison, BG/NBD included.

The calibration summary is built with numpy from the loaded transactions (one sort of the
purchase days), not per customer. With more than ``AUTO_SAMPLE`` customers, the choice is made
on a random ``AUTO_SAMPLE`` of them (fixed seed: the same data give the same sample): the
holdout error of a total is estimated as well from 50,000 customers as from a million, and
the calibration fits' cost stops growing with the data (Pareto/NBD's grows with the
distinct (x, t_x, T) rows).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.data.load import EPOCH, Transactions
from engine.project.config import Config

AUTO_SAMPLE = 50_000
SEED = 20260101


@dataclass(frozen=True)
class PurchaseModel:
    """A purchase model, and whether ``models.use: auto`` may choose it."""

    name: str
    title: str
    candidate: bool
    not_candidate: str = ""  # why not, said of the model ("it ...")


# The models auto chooses between are those in which a one-time buyer can leave. BG/NBD gives
# every one-time buyer P(alive) = 1 however long ago they bought, a defect a holdout total
# cannot see; cvm fit still scores it beside them (marked with the reason), and
# models.use: bgnbd takes it. In the order of engine.value.models.compare.PREFERENCE.
PURCHASE_MODELS = (
    PurchaseModel("mbgnbd", "MBG/NBD", True),
    PurchaseModel("bgnbd", "BG/NBD", False, "gives every one-time buyer P(alive) 1"),
    PurchaseModel("pareto_nbd", "Pareto/NBD", True),
)
AUTO_MODELS = tuple(m.name for m in PURCHASE_MODELS if m.candidate)
NOT_AUTO = {m.name: f"not a candidate for models.use: auto: {m.title} {m.not_candidate} by "
                    "construction" for m in PURCHASE_MODELS if not m.candidate}


@dataclass(frozen=True)
class Split:
    calibration_end: dt.date
    observation_end: dt.date
    holdout_days: int
    shortened: bool  # the holdout asked for was more than half the data


def holdout_split(config: Config, tx: Transactions) -> Split:
    """The default calibration end: the holdout of ``models.holdout_days`` (default the
    horizon) before the end of the data, at most half the days from the first purchase. The
    data end on the day before the as-of date, or on the export's last day (any row) when
    ``as_of:`` is set later (days the export does not cover are not days without purchases:
    counted in the holdout, an as-of date 90 days after the bundled data made a +17.4% miss
    +40.6%). Subscriptions' payments run to the as-of date: theirs end the day before it."""
    buy = tx.amount > 0
    observation_end = tx.as_of - dt.timedelta(days=1)
    if tx.report.last_day >= 0 and config.subscriptions is None:
        observation_end = min(observation_end, EPOCH + dt.timedelta(days=tx.report.last_day))
    first_day = EPOCH + dt.timedelta(days=int(tx.day[buy].min())) if buy.any() \
        else observation_end
    asked = config.models.holdout_days or config.horizon_periods * config.period_days
    span = (observation_end - first_day).days + 1
    days = min(asked, span // 2)
    return Split(observation_end - dt.timedelta(days=days), observation_end, days, days < asked)


def calibration_frame(tx: Transactions, calibration_end: dt.date, observation_end: dt.date,
                      time_unit_days: float, *, max_customers: int | None = None
                      ) -> pd.DataFrame:
    """What ``engine.value.models.rfm.calibration_holdout`` gives, from the loaded arrays: per
    customer with a purchase on or before ``calibration_end`` (in customer-code order)
    ``frequency_cal``, ``recency_cal``, ``T_cal``, ``monetary_value_cal`` (mean value of the
    repeat purchase days), ``frequency_holdout``, ``monetary_value_holdout`` and
    ``duration_holdout``. A purchase day is a customer's day with a positive amount.
    ``max_customers``: at most that many customers, drawn at random (fixed seed)."""
    buy = tx.amount > 0
    n = len(tx.customer_ids)
    if max_customers is not None and n > max_customers:
        drawn = np.zeros(n, dtype=bool)
        drawn[np.random.default_rng(SEED).choice(n, max_customers, replace=False)] = True
        buy &= drawn[tx.code]
    code = tx.code[buy].astype(np.int64)
    day = tx.day[buy].astype(np.int64)
    cal_day = (calibration_end - EPOCH).days
    obs_day = (observation_end - EPOCH).days
    keep = day <= obs_day
    code, day, value = code[keep], day[keep], tx.amount[buy][keep]
    low = int(np.min(day)) if len(day) else 0
    width = int(np.max(day)) - low + 1 if len(day) else 1
    days, inverse = np.unique(code * width + (day - low), return_inverse=True)
    day_value = np.bincount(inverse.ravel(), weights=value, minlength=len(days))
    u_code, u_day = days // width, days % width + low  # sorted by customer, then day
    cal = u_day <= cal_day
    c_code, c_day, c_value = u_code[cal], u_day[cal], day_value[cal]
    counts = np.bincount(c_code, minlength=n)
    has = counts > 0
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    first = c_day[starts[has]]
    last = c_day[(starts + counts - 1)[has]]
    total = np.bincount(c_code, weights=c_value, minlength=n)[has]
    x = (counts[has] - 1).astype(np.float64)
    hold = ~cal
    h_count = np.bincount(u_code[hold], minlength=n)[has].astype(np.float64)
    h_value = np.bincount(u_code[hold], weights=day_value[hold], minlength=n)[has]
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(x > 0, (total - day_value[cal][starts[has]]) / x, 0.0)
        monetary_h = np.where(h_count > 0, h_value / h_count, 0.0)
    return pd.DataFrame({
        "code": np.flatnonzero(has),
        "frequency_cal": x,
        "recency_cal": (last - first) / time_unit_days,
        "T_cal": (cal_day - first) / time_unit_days,
        "monetary_value_cal": monetary,
        "frequency_holdout": h_count,
        "monetary_value_holdout": monetary_h,
        "duration_holdout": (obs_day - cal_day) / time_unit_days,
    })


@dataclass(frozen=True)
class Chosen:
    name: str
    reason: str
    split: Split


def choose_purchase_model(tx: Transactions, config: Config) -> Chosen:
    """Fit the three purchase models on the calibration period and pick by holdout error.
    Raises ``ValueError`` (with each model's reason) when none can be fitted."""
    split = holdout_split(config, tx)
    frame = calibration_frame(tx, split.calibration_end, split.observation_end,
                              config.models.time_unit_days, max_customers=AUTO_SAMPLE)
    return chosen_from(frame, split, len(tx.customer_ids), config)


def chosen_from(frame: pd.DataFrame, split: Split, customers: int, config: Config) -> Chosen:
    """The choice on a calibration frame of ``customers`` customers (``calibration_frame``;
    ``engine.distributed`` gathers it from its partitions)."""
    from engine.value.models.compare import OffHoldout, choose, compare

    comparison = compare(frame, models=AUTO_MODELS, penalizer=config.models.penalizer)
    where = (f"holdout {split.calibration_end + dt.timedelta(days=1)} .. "
             f"{split.observation_end}, {split.holdout_days} days"
             + (", half the data" if split.shortened else "")
             + (f", a random {AUTO_SAMPLE:,} of the {customers:,} customers"
                if customers > AUTO_SAMPLE else ""))
    try:
        choice = choose(comparison, max_error=config.models.max_holdout_error)
    except OffHoldout as exc:  # the formulas, said with the holdout it missed
        raise OffHoldout(f"{exc} [{where}]") from None
    return Chosen(choice.name, f"{choice.reason} [{where}]", split)
