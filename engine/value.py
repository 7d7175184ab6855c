"""Stage 2b, value: historic, potential and influence value, CLV, score, tier, headroom.

Every formula here is written out in the README ("The value model"); the names match:

    H = horizon_periods, L = period_days, d = (1 + discount_rate) ** (L / 365) - 1
    tenure_periods            = max(tenure_days / L, 1)
    repeat_rate               = frequency / tenure_periods
    margin_per_order          = gross_margin / orders
    margin_per_period (m)     = margin_per_order * repeat_rate
    expected_repeat_purchases = repeat_rate * H
    clv_simple                = margin_per_order * expected_repeat_purchases * r
    clv_discounted            = m * r / (1 + d - r)
    potential_value           = m * sum_{t=1..H} 1 / (1 + d) ** t
    influence_value           = sum of historic_value of the customers they referred
    total_value               = historic_value + potential_value + influence_value
    growth_headroom           = potential_value - current_value
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.config import Config
from engine.retention import Retention
from engine.tiers import TierSpec, assign

MONEY = ("clv_model", "revenue", "refunds", "avg_order_value", "gross_margin", "revenue_recent",
         "revenue_previous", "historic_value", "margin_per_order", "margin_per_period",
         "clv_simple", "clv_discounted", "potential_value", "current_value", "influence_value",
         "total_value", "growth_headroom")


def add_value(frame: pd.DataFrame, config: Config, retention: Retention) -> None:
    """Add the value parts to the feature frame in place; ``rescore`` then adds total value,
    score, tier and headroom (after the models, which may replace potential value)."""
    L, H = config.period_days, config.horizon_periods
    d = config.discount_rate_per_period
    tenure_periods = np.maximum(frame["tenure_days"].to_numpy() / L, 1.0)
    orders = frame["orders"].to_numpy().astype(np.float64)
    margin = frame["gross_margin"].to_numpy()

    frame["historic_value"] = margin
    frame["margin_per_order"] = margin / orders
    frame["repeat_rate"] = frame["frequency"].to_numpy() / tenure_periods
    m = frame["margin_per_order"].to_numpy() * frame["repeat_rate"].to_numpy()
    frame["margin_per_period"] = m
    frame["expected_repeat_purchases"] = frame["repeat_rate"].to_numpy() * H

    band = retention.segment_of(margin)
    bands = len(retention.segments)
    rates = np.array([s.rate for s in retention.segments])
    r = rates[np.minimum(band, bands - 1)]
    frame["retention_segment"] = pd.Categorical.from_codes(
        np.minimum(band, bands - 1), categories=[s.name for s in retention.segments]
    ).astype(object)
    frame["retention_rate"] = r
    frame["clv_simple"] = frame["margin_per_order"].to_numpy() * \
        frame["expected_repeat_purchases"].to_numpy() * r
    frame["clv_discounted"] = m * r / (1.0 + d - r)
    annuity = float(sum((1.0 + d) ** -t for t in range(1, H + 1)))
    frame["potential_value"] = m * annuity
    frame["influence_value"] = _influence(frame)


def rescore(frame: pd.DataFrame, tiers: TierSpec) -> list[float]:
    """Total value, score, tier and headroom from the value parts (again after the models)."""
    frame["total_value"] = frame["historic_value"] + frame["potential_value"] + \
        frame["influence_value"]
    total = frame["total_value"].to_numpy()
    n = len(total)
    rank_min = pd.Series(total).rank(method="min").to_numpy()
    frame["value_score"] = np.round(100.0 * (rank_min - 1) / (n - 1), 2) if n > 1 else 100.0
    basis = frame[tiers.basis].to_numpy()
    tier, cuts = assign(tiers, basis)
    frame["value_tier"] = np.asarray(tier.astype(object))
    frame["growth_headroom"] = frame["potential_value"] - frame["current_value"]
    return cuts


def _influence(frame: pd.DataFrame) -> np.ndarray:
    """Historic value brought in by referrals: the margin of the customers one referred."""
    from engine.features import CODE, REFERRER

    codes, referrer = frame[CODE].to_numpy(), frame[REFERRER].to_numpy()
    has = referrer >= 0
    n = int(max(codes.max(initial=0), referrer.max(initial=0))) + 1
    sums = np.bincount(referrer[has], weights=frame["historic_value"].to_numpy()[has],
                       minlength=n)
    return np.asarray(sums[codes], dtype=np.float64)

