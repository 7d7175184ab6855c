"""Stage 2b, value: historic, potential and influence value, CLV, score, tier, headroom.

Every formula here is written out in the README ("The value model"); the names match. The unit
of buying is the purchase occasion (a customer's purchase day, ``engine.value.occasions``):

    H = horizon_periods, L = period_days, d = (1 + discount_rate) ** (L / 365) - 1
    tenure_periods            = max(tenure_days / L, 1)
    margin_per_purchase       = gross_margin / (frequency + 1)
    repeat_rate               = frequency / tenure_periods
    margin_per_period (m)     = margin_per_purchase * repeat_rate
    expected_repeat_purchases = repeat_rate * H
    margin_per_active_period  = gross_margin / active_periods (0 for one-time buyers)
    clv_simple                = margin_per_active_period * (r + r^2 + ... + r^H)
    clv_discounted            = margin_per_active_period * r / (1 + d - r)
    potential_value           = m * sum_{t=1..H} 1 / (1 + d) ** t; for one-time buyers, what
                                comparable earlier one-time buyers went on to earn
                                (``engine.value.newcomers``)
    influence_value           = sum of historic_value of the customers they referred
    total_value               = historic_value + potential_value + influence_value
    growth_headroom           = potential_value - margin of the purchases of the last H
                                periods (current_value with refunds not deducted)

Refunds lower every value figure and raise none: growth_headroom compares the potential (net
of refunds) with what the customer bought lately, refunds not deducted, as the retention bands
do; netted there, returning goods would look like room to grow.

r is the measured probability that a customer active in a period is active in the next one
(``engine.value.retention``), so it multiplies the margin of an active period, not m (which
averages over the customer's inactive periods too).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from engine.decimals import round_half_up, round_series
from engine.project.config import Config
from engine.project.tiers import TierSpec, assign
from engine.value.features import CODE, CURRENT_PURCHASE_MARGIN, PURCHASE_MARGIN, REFERRER
from engine.value.newcomers import Newcomers
from engine.value.retention import Retention

MONEY = ("clv_model", "clv_model_lower", "clv_model_upper", "revenue", "refunds",
         "avg_order_value", "gross_margin", "revenue_recent",
         "revenue_previous", "historic_value", "margin_per_purchase", "margin_per_period",
         "margin_per_active_period", "clv_simple", "clv_discounted", "potential_value",
         "current_value", "influence_value", "total_value", "growth_headroom")


def add_value(frame: pd.DataFrame, config: Config, retention: Retention,
              newcomers: Newcomers) -> None:
    """Add the value parts to the feature frame in place; ``rescore`` then adds total value,
    score, tier and headroom (after the models, which may replace potential value)."""
    L, H = config.period_days, config.horizon_periods
    d = config.discount_rate_per_period
    tenure_periods = np.maximum(frame["tenure_days"].to_numpy() / L, 1.0)
    frequency = frame["frequency"].to_numpy()
    margin = frame["gross_margin"].to_numpy()

    frame["historic_value"] = margin
    per_purchase = margin / (frequency + 1)
    frame["margin_per_purchase"] = per_purchase
    repeat_rate = frequency / tenure_periods
    frame["repeat_rate"] = repeat_rate
    m = per_purchase * repeat_rate
    frame["margin_per_period"] = m
    frame["expected_repeat_purchases"] = repeat_rate * H
    m_active = np.where(frequency > 0, margin / frame["active_periods"].to_numpy(), 0.0)
    frame["margin_per_active_period"] = m_active

    band = np.minimum(retention.segment_of(frame[PURCHASE_MARGIN].to_numpy()),
                      len(retention.segments) - 1)
    r = np.array([s.rate for s in retention.segments])[band]
    # the group whose rate applies: a band too small for a rate of its own has the overall one
    frame["retention_segment"] = pd.Categorical.from_codes(band, categories=[
        f"all customers ({s.name} pooled: few customers)" if s.pooled and
        len(retention.segments) > 1 else s.name for s in retention.segments]).astype(object)
    frame["retention_rate"] = r
    frame["clv_simple"] = m_active * sum(r ** t for t in range(1, H + 1))
    frame["clv_discounted"] = m_active * r / (1.0 + d - r)
    annuity = float(sum((1.0 + d) ** -t for t in range(1, H + 1)))
    frame["potential_value"] = np.where(
        frequency > 0, m * annuity, newcomers.value_of(frame["tenure_days"].to_numpy(), L))
    frame["influence_value"] = _influence(frame)


def as_shown(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> None:
    """Round ``columns`` of ``frame`` (every one: None) in place as the value table shows
    them: money (``MONEY``) to cents, other decimals to 6 places, half up on the decimal value
    (engine.decimals), never -0. The tiers, stages
    and policies read the figures so rounded, computed at full precision before: a customer
    shown with clv_discounted 26.18 matches ``gte: 26.18``, and `cvm serve`, reading the
    written table, decides as the run did."""
    for col in list(frame.columns) if columns is None else columns:
        if col not in frame or frame[col].dtype.kind != "f":
            continue
        places = 2 if col in MONEY else 6
        if frame[col].dtype == np.float64:  # one new array a column (millions of customers)
            frame[col] = round_half_up(frame[col].to_numpy(), places)
        else:  # a nullable float
            frame[col] = round_series(frame[col], places)


def rescore(frame: pd.DataFrame, tiers: TierSpec) -> list[float]:
    """Total value, score, tier and headroom from the value parts (again after the models),
    on every figure as the value table shows it (``as_shown``): a total is the sum of its
    three parts as written."""
    as_shown(frame)
    frame["total_value"] = round_half_up(frame["historic_value"] + frame["potential_value"]
                                         + frame["influence_value"], 2)
    total = frame["total_value"].to_numpy()
    n = len(total)
    rank_min = pd.Series(total).rank(method="min").to_numpy()
    frame["value_score"] = round_half_up(100.0 * (rank_min - 1) / (n - 1), 2) if n > 1 \
        else 100.0
    basis = frame[tiers.basis].to_numpy()
    tier, cuts = assign(tiers, basis)
    frame["value_tier"] = np.asarray(tier.astype(object))
    # from the figures as written, as the total value is: potential 10.25 less a recent
    # margin written 3.68 is 6.57 (from unrounded parts it came out 6.58)
    frame["growth_headroom"] = round_half_up(
        frame["potential_value"] - round_half_up(frame[CURRENT_PURCHASE_MARGIN], 2), 2)
    return cuts


def _influence(frame: pd.DataFrame) -> np.ndarray:
    """Historic value brought in by referrals: the margin of the customers one referred."""
    codes, referrer = frame[CODE].to_numpy(), frame[REFERRER].to_numpy()
    has = referrer >= 0
    n = int(max(codes.max(initial=0), referrer.max(initial=0))) + 1
    sums = np.bincount(referrer[has], weights=frame["historic_value"].to_numpy()[has],
                       minlength=n)
    return np.asarray(sums[codes], dtype=np.float64)

