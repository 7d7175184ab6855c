"""The report's headline: the tiles at the top of the page, of the last month of the figures.

A partial last month (the as-of date before its end) is said as one: customer equity at the
as-of date, the flows labelled with the days they cover, and its revenue set beside the whole
month before rather than against it (five days against thirty would read as a collapse)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd

from engine.decimals import fixed
from engine.report import charts as ch
from engine.report.equity import LEFT_WITHIN_MONTH


def money2(value: Any, cur: str) -> str:  # a month without customers has no average
    return "n/a" if math.isnan(float(value)) else f"{cur} {fixed(float(value), 2)}"


def covered(last: pd.Series) -> str:
    """The days a partial month covers, '1-5 Dec' ('1 Dec' for one day)."""
    start, end = (dt.date.fromisoformat(str(last[c])) for c in ("month_start", "month_end"))
    mon = ch.month_label(str(last["month"])).split()[0]
    return f"{start.day} {mon}" if start == end else f"{start.day}-{end.day} {mon}"


def kpis(f: pd.DataFrame, cur: str, period_days: int, gone: str) -> list[dict[str, str]]:
    last = f.iloc[-1]
    prev = f.iloc[-2] if len(f) > 1 else last
    money = ch.Unit("money", cur)
    month = ch.month_label(str(last["month"]))
    partial = bool(last["partial_month"])
    flows_of = f"{month} ({covered(last)})" if partial else month

    def change(col: str) -> str:
        a, b = float(last[col]), float(prev[col])
        if len(f) < 2 or math.isnan(a) or math.isnan(b) or b == 0:
            return ""
        return f"{ch.signed((a - b) / abs(b), '+.1%')} vs previous month"

    # start + new + back - gone (- arrived and left, with contracts) = the KPI: every flow
    # of the month's customers (README "Customer counts of a month")
    flows = (f"+{int(last['new_customers']):,} new, +{int(last['reactivated_customers']):,} "
             f"back, -{int(last['churned_customers']):,} {gone}")
    if all(c in f for c in LEFT_WITHIN_MONTH):
        flows += f", -{sum(int(last[c]) for c in LEFT_WITHIN_MONTH):,} arrived and left"
    if partial:
        start = dt.date.fromisoformat(str(last["month_start"]))
        days = (dt.date.fromisoformat(str(last["month_end"])) - start).days + 1
        whole = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - start
        revenue = f"{days} of its {whole.days} days" + (
            f"; {ch.month_label(str(prev['month']))}: {ch.fmt(prev['revenue'], money)}"
            if len(f) > 1 else "")
    else:
        nvl = ", ".join(f"{k} {ch.signed(float(last[c]), '+,.0f')}" for k, c in (
            ("customers", "change_from_customers"), ("value per customer", "change_from_value"),
            ("loyalty", "change_from_loyalty")) if not math.isnan(float(last[c])))
        revenue = (f"{'+' if last['revenue_change'] >= 0 else ''}"
                   f"{ch.fmt(last['revenue_change'], money)} vs previous month: {nvl}"
                   if nvl else "")
    as_of = dt.date.fromisoformat(str(last["month_end"])) + dt.timedelta(days=1)
    return [
        {"label": f"Customer equity on {as_of}, the as-of date" if partial
         else f"Customer equity, end of {month}",
         "value": ch.fmt(last["customer_equity"], money), "note": change("customer_equity")},
        {"label": "Active customers", "value": f"{int(last['customers_end']):,}",
         "note": flows},
        {"label": f"Churn rate in {flows_of}", "value": ch.fmt(last["churn_rate"],
                                                             ch.Unit("percent")),
         "note": f"retention r = {ch.fmt(last['retention_rate'], ch.Unit('percent'))} per "
                 f"{period_days} days"},
        {"label": f"Revenue in {flows_of}", "value": ch.fmt(last["revenue"], money),
         "note": revenue},
        {"label": "Average order value", "value": money2(last["avg_order_value"], cur),
         "note": change("avg_order_value")},
        {"label": "Average CLV of an active customer",
         "value": money2(last["avg_clv"], cur), "note": change("avg_clv")},
    ]
