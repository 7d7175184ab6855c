"""Retention per value band recomputed by hand (README "Retention rate r"): the bands of each
period pair, the band limits applied today, and the fallback of a small band to the overall
rate.

As of 2024-07-01 with L = 30 days: period 0 = [Jun 1, Jul 1), 1 = [May 2, Jun 1),
2 = [Apr 2, May 2). Purchases (margin; refunds are not purchases and do not count towards the
band, which is set by the margin of purchases):

    a  Mar 1 10, Apr 10 10, May 10 10, Jun 10 10
    b  Apr 15 100, May 20 50
    c  Apr 20 5, Jun 5 5
    d  Mar 15 200, Apr 25 100, refund Apr 28 -290, Jun 20 20
    e  May 5 30, Jun 25 30
    f  May 15 8
    g  Apr 5 60
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.project.config import load_config
from engine.value.score import score

CONFIG = """\
name: bands
data:
  transactions: tx.csv
  columns: {customer_id: cust, date: day, amount: amount, margin: margin}
as_of: 2024-07-01
currency: EUR
period_days: 30
discount_rate: 0.1
retention: {by: value_band, bands: 2, lookback_periods: 2, min_customers: 4}
models: {use: none}
"""
TX = """\
cust,day,amount,margin
a,2024-03-01,20,10
a,2024-04-10,20,10
a,2024-05-10,20,10
a,2024-06-10,20,10
b,2024-04-15,200,100
b,2024-05-20,100,50
c,2024-04-20,10,5
c,2024-06-05,10,5
d,2024-03-15,400,200
d,2024-04-25,200,100
d,2024-04-28,-580,-290
d,2024-06-20,40,20
e,2024-05-05,60,30
e,2024-06-25,60,30
f,2024-05-15,16,8
g,2024-04-05,120,60
"""


def test_band_rates_limits_and_fallback_by_hand(make_project: Callable[..., Path]) -> None:
    scored = score(load_config(make_project(CONFIG, TX)))
    ret = scored.retention
    # pair period 2 -> 1: active in 2: a b c d g; margin of purchases before May 2:
    # a 20, b 100, c 5, d 300 (the refund is not deducted), g 60; limit = median = 60,
    # band 1 = below it {c, a}, band 2 = at or above {g, b, d}; active in 1: a b e f
    pair1 = {"c": 5, "a": 20, "g": 60, "b": 100, "d": 300}
    assert statistics.median(pair1.values()) == 60
    # band 1: a kept, c not (1 of 2); band 2: b kept, g and d not (1 of 3)
    # pair 1 -> 0: active in 1: a 30, b 150, e 30, f 8 before Jun 1; limit = median = 30:
    # band 1 {f}, band 2 {a, e, b}; active in 0: a c d e
    pair0 = {"f": 8, "a": 30, "e": 30, "b": 150}
    assert statistics.median(pair0.values()) == 30
    # band 1: f not kept (0 of 1); band 2: a and e kept, b not (2 of 3)
    low, high = ret.segments
    assert (low.active, low.retained) == (2 + 1, 1 + 0)
    assert (high.active, high.retained) == (3 + 3, 1 + 2)
    assert ret.overall == pytest.approx(4 / 9)
    # band 1 has 3 customer-periods < min_customers 4: it gets the overall rate
    assert low.pooled and low.measured == pytest.approx(1 / 3) and low.rate == pytest.approx(4 / 9)
    assert not high.pooled and high.rate == pytest.approx(3 / 6)
    # today's limit: median margin of purchases to date of those active in period 0:
    # a 40, c 10, d 320, e 60 -> (40 + 60) / 2 = 50
    assert ret.cut_points == (50.0,)
    table = scored.table.set_index("customer_id")
    purchases = {"a": 40, "b": 150, "c": 10, "d": 320, "e": 60, "f": 8, "g": 60}
    for cid, value in purchases.items():
        band = 1 if value >= 50 else 0
        # band 1 is pooled: its customers' group is everyone's
        assert table.loc[cid, "retention_segment"] == ("value band 2 of 2" if band else
                                                       "all customers (value band 1 of 2 "
                                                       "pooled: few customers)"), cid
        assert table.loc[cid, "retention_rate"] == pytest.approx([4 / 9, 0.5][band]), cid
    assert table.loc["d", "historic_value"] == 30  # net of the refund: still band 2


def test_a_customer_at_a_band_limit_is_in_the_band_above(make_project: Callable[..., Path]
                                                         ) -> None:
    """The limit and the customer's own figure must be one sum. With bands 2 and three
    customers active in period 0, the limit is the middle customer's margin of purchases; at
    11 significant digits and more, summing the periods oldest first (the limit, on main) and
    newest first (the customer's figure, on main) differ in the last bit, and on main the middle
    customer, below the limit by 0.00002, fell into the band below."""
    tx = ("cust,day,amount,margin\n"
          "low,2024-06-10,10,10\n"
          "mid,2024-04-10,31713945680.34,31713945680.34\n"
          "mid,2024-05-10,53010077925.10,53010077925.10\n"
          "mid,2024-06-10,72427345679.21,72427345679.21\n"
          "high,2024-04-10,900000000000,900000000000\n"
          "high,2024-06-12,10,10\n")
    scored = score(load_config(make_project(CONFIG, tx)))
    assert scored.retention.cut_points == pytest.approx((157151369284.65,), rel=1e-15)
    band = scored.table.set_index("customer_id")["retention_segment"]
    pooled = "all customers (value band {} of 2 pooled: few customers)"  # both bands here
    assert band.to_dict() == {"low": pooled.format(1), "mid": pooled.format(2),
                              "high": pooled.format(2)}
