"""The value table recomputed by hand from the input, following the README's formulas."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from engine.project.config import load_config
from engine.value.score import score
from tests.shown import shown

ROOT = Path(__file__).resolve().parents[1]


def test_small_project_by_hand(make_project: Callable[..., Path]) -> None:
    scored = score(load_config(make_project()))
    t = scored.table.set_index("customer_id")
    a = t.loc["a"]
    # a: purchases 2024-01-05, 2024-03-10, 2024-06-20; as_of 2024-07-01; period 30 days
    assert a["first_purchase"] == pd.Timestamp("2024-01-05")
    assert a["recency_days"] == (dt.date(2024, 7, 1) - dt.date(2024, 6, 20)).days == 11
    assert a["tenure_days"] == (dt.date(2024, 7, 1) - dt.date(2024, 1, 5)).days == 178
    assert a["frequency"] == 2 and a["orders"] == 3
    assert a["revenue"] == 230.0 and a["gross_margin"] == 100.0
    assert a["historic_value"] == 100.0
    assert a["avg_order_value"] == shown(230 / 3)
    assert a["avg_interpurchase_days"] == shown((dt.date(2024, 6, 20)
                                                         - dt.date(2024, 1, 5)).days / 2)
    # revenue in the last 30 days (from 2024-06-01) vs the 30 days before
    assert a["revenue_recent"] == 80.0 and a["revenue_previous"] == 0.0
    assert a["purchase_trend"] == 1.0
    r = a["retention_rate"]
    d = 1.1 ** (30 / 365) - 1
    rate = 2 / (178 / 30)
    margin_per_purchase = 100 / 3
    assert a["repeat_rate"] == shown(rate)
    # active periods (30 days back from Jul 1): Jun 20 in 0, Mar 10 in 3, Jan 5 in 5
    assert a["active_periods"] == 3
    m_active = 100 / 3
    assert a["clv_simple"] == shown(m_active * (r + r**2 + r**3 + r**4))
    assert a["clv_discounted"] == shown(m_active * r / (1 + d - r))
    m = margin_per_purchase * rate
    assert a["potential_value"] == shown(sum(m / (1 + d) ** k for k in range(1, 5)))
    # last 4 periods = 120 days: from 2024-03-03, so 2024-03-10 and 2024-06-20 count
    assert a["current_value"] == shown(20 + 40)
    assert a["growth_headroom"] == shown(a["potential_value"] - 60)
    b = t.loc["b"]
    assert b["frequency"] == 0 and b["clv_simple"] == 0 and math.isnan(b["recency_ratio"])


def _retention_by_hand(tx: pd.DataFrame, as_of: pd.Timestamp, period: int, pairs: int) -> float:
    k = (as_of - pd.Timedelta(days=1) - tx["date"]).dt.days // period
    tx = tx.assign(k=k)
    active = {j: set(tx.loc[(tx.k == j) & (tx.amount > 0), "cid"]) for j in range(pairs + 1)}
    kept = sum(len(active[j + 1] & active[j]) for j in range(pairs))
    total = sum(len(active[j + 1]) for j in range(pairs))
    return kept / total


def test_cdnow_random_customers_by_hand() -> None:
    """CDNOW: no costs, margin = 30% of dollars; checks random customers and overall retention."""
    config = load_config(ROOT / "examples" / "cdnow")
    scored = score(config)
    raw = pd.read_csv(ROOT / "examples" / "cdnow" / "CDNOW_master.txt", sep=r"\s+",
                      dtype={"customer_id": str, "date": str})
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    raw = raw.rename(columns={"customer_id": "cid", "dollar_value": "amount"})
    raw = raw[raw.amount != 0]
    as_of = pd.Timestamp("1998-07-01")
    overall = _retention_by_hand(raw, as_of, 91, 4)
    assert scored.retention.overall == shown(overall)

    table = scored.table.set_index("customer_id")
    d = 1.1 ** (91 / 365) - 1
    rng = np.random.default_rng(0)
    for cid in rng.choice(table.index.to_numpy(), size=25, replace=False):
        rows = raw[raw.cid == cid]
        row = table.loc[cid]
        margin = 0.3 * rows.amount.sum()
        days = rows[rows.amount > 0].date
        frequency = days.nunique() - 1
        tenure = (as_of - days.min()).days
        rate = frequency / max(tenure / 91, 1)
        per_purchase = margin / days.nunique()
        active_periods = ((as_of - pd.Timedelta(days=1) - days).dt.days // 91).nunique()
        m_active = margin / active_periods if frequency else 0.0
        r = row["retention_rate"]
        assert row["historic_value"] == shown(margin)
        assert row["margin_per_period"] == shown(per_purchase * rate)
        assert row["clv_simple"] == shown(m_active * sum(r**t for t in range(1, 5)))
        assert row["clv_discounted"] == shown(m_active * r / (1 + d - r))


def test_purchase_trend_keeps_its_sign_when_refunds_make_revenue_negative(
        make_project: Callable[..., Path]) -> None:
    """Net revenue after a refund can be negative: (R0 - R1) / (|R0| + |R1|) then still says
    whether revenue rose or fell, from -1 to 1 (the review: (R0 - R1) / (R0 + R1) gave a
    customer whose revenue fell from 10 to -50 a trend of +1, "rising", capped)."""
    tx = ("cust,day,amount,cost\nd,2024-05-10,100.00,60.00\nd,2024-06-10,20.00,10.00\n"
          "d,2024-06-12,-60.00,-36.00\ne,2024-05-10,100.00,60.00\ne,2024-06-10,50.00,30.00\n"
          "f,2024-05-10,10.00,6.00\nf,2024-06-10,-50.00,-30.00\n")
    t = score(load_config(make_project(tx=tx))).table.set_index("customer_id")
    assert (t.loc["d", "revenue_recent"], t.loc["d", "revenue_previous"]) == (-40.0, 100.0)
    assert t.loc["d", "purchase_trend"] == -1.0  # (-40 - 100) / (40 + 100)
    assert (t.loc["f", "revenue_recent"], t.loc["f", "revenue_previous"]) == (-50.0, 10.0)
    assert t.loc["f", "purchase_trend"] == shown(-1.0)  # (-50 - 10) / (50 + 10)
    assert t.loc["e", "purchase_trend"] == shown((50 - 100) / 150)
