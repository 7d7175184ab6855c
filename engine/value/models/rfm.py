"""Per-customer (frequency, recency, T, monetary value) summaries for the CLV models.

Conventions (those of Fader, Hardie & Lee 2005 and of lifetimes' ``summary_data_from_
transaction_data``): purchases on the same calendar day are ONE transaction (values summed);
``frequency`` = number of purchase days after the first; ``recency`` = time from the first to
the last purchase day; ``T`` = time from the first purchase day to ``observation_end`` (a day,
counted as a date difference: a first purchase on 1997-01-01 and observation_end 1997-09-30
give T = 272 days = 38.86 weeks, as in the CDNOW data of the papers); ``monetary_value`` =
mean value of the REPEAT transactions (the first excluded), 0 when frequency == 0. Times are
in days / ``time_unit_days``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
from markupsafe import escape

from engine.value.models._common import FloatArray

SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")


class _Predictor(Protocol):
    def expected_purchases(self, t: object, frequency: object, recency: object,
                           T: object) -> FloatArray: ...


def _days(transactions: pd.DataFrame, customer_col: str, date_col: str,
          value_col: str | None, end: pd.Timestamp) -> pd.DataFrame:
    """One row per customer and purchase day up to ``end`` (inclusive): customer, day, value."""
    missing = [c for c in (customer_col, date_col, value_col) if c and c not in transactions]
    if missing:
        raise ValueError(f"transactions has no column {missing[0]!r}; columns are "
                         f"{list(transactions.columns)}")
    try:
        day = pd.to_datetime(transactions[date_col]).dt.normalize()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{date_col} could not be read as dates ({exc}); convert it first "
                         "with pandas.to_datetime(..., format=...)") from exc
    if day.isna().any():
        i = int(np.flatnonzero(day.isna().to_numpy())[0])
        raise ValueError(f"{date_col} is missing or not a date in {int(day.isna().sum())} rows "
                         f"(first at row {i})")
    frame = pd.DataFrame({"customer": transactions[customer_col].to_numpy(),
                          "day": day.to_numpy(),
                          "value": (transactions[value_col].to_numpy(dtype=np.float64)
                                    if value_col else np.zeros(len(day)))})
    frame = frame[frame["day"] <= end]
    return frame.groupby(["customer", "day"], as_index=False, sort=True)["value"].sum()


def summary(transactions: pd.DataFrame, *, customer_col: str, date_col: str,
            value_col: str | None = None, observation_end: object,
            time_unit_days: float = 7.0) -> pd.DataFrame:
    """Frequency, recency, T and monetary_value per customer, indexed by customer.

    Transactions after ``observation_end`` are ignored. See the module docstring for the
    conventions; ``value_col`` None gives monetary_value 0.
    """
    end = pd.Timestamp(observation_end).normalize()
    if not time_unit_days > 0:
        raise ValueError(f"time_unit_days must be > 0, got {time_unit_days!r}")
    days = _days(transactions, customer_col, date_col, value_col, end)
    g = days.groupby("customer", sort=True)
    first, last = g["day"].min(), g["day"].max()
    n_days = g.size()
    total = g["value"].sum()
    first_value = g["value"].first()  # days are sorted within customer
    frequency = (n_days - 1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, (total - first_value) / frequency, 0.0)
    out = pd.DataFrame({
        "frequency": frequency,
        "recency": (last - first).dt.days / time_unit_days,
        "T": (end - first).dt.days / time_unit_days,
        "monetary_value": monetary,
    })
    out.index.name = customer_col
    return out


def summary_from_dates(first_purchase: object, last_purchase: object, n_purchase_days: object,
                       *, observation_end: object, time_unit_days: float = 7.0) -> pd.DataFrame:
    """The same summary from per-customer first/last purchase dates and purchase-day counts
    (monetary value is not included: add the mean repeat-transaction value yourself)."""
    end = pd.Timestamp(observation_end).normalize()
    first = pd.to_datetime(pd.Series(first_purchase)).dt.normalize()
    last = pd.to_datetime(pd.Series(last_purchase)).dt.normalize()
    n = pd.Series(n_purchase_days, dtype=np.float64)
    if (n < 1).any() or (last < first).any() or (last > end).any():
        raise ValueError("need n_purchase_days >= 1 and first <= last <= observation_end")
    return pd.DataFrame({"frequency": (n - 1).to_numpy(),
                         "recency": ((last - first).dt.days / time_unit_days).to_numpy(),
                         "T": ((end - first).dt.days / time_unit_days).to_numpy()},
                        index=first.index)


def calibration_holdout(transactions: pd.DataFrame, *, customer_col: str, date_col: str,
                        value_col: str | None = None, calibration_end: object,
                        observation_end: object, time_unit_days: float = 7.0) -> pd.DataFrame:
    """Calibration summary (``*_cal`` columns) plus what each customer did in the holdout.

    Only customers with a purchase on or before ``calibration_end`` are kept.
    ``frequency_holdout`` counts purchase days in (calibration_end, observation_end],
    ``monetary_value_holdout`` is their mean value (0 if none) and ``duration_holdout`` the
    holdout length in time units (39 weeks for CDNOW 1997-10-01 .. 1998-06-30).
    """
    cal_end = pd.Timestamp(calibration_end).normalize()
    obs_end = pd.Timestamp(observation_end).normalize()
    if obs_end <= cal_end:
        raise ValueError(f"observation_end {obs_end.date()} must be after calibration_end "
                         f"{cal_end.date()}")
    cal = summary(transactions, customer_col=customer_col, date_col=date_col,
                  value_col=value_col, observation_end=cal_end, time_unit_days=time_unit_days)
    cal.columns = [f"{c}_cal" for c in cal.columns]
    days = _days(transactions, customer_col, date_col, value_col, obs_end)
    hold = days[days["day"] > cal_end].groupby("customer")["value"].agg(["size", "mean"])
    hold = hold.reindex(cal.index)
    cal["frequency_holdout"] = hold["size"].fillna(0).to_numpy(dtype=np.float64)
    cal["monetary_value_holdout"] = hold["mean"].fillna(0.0).to_numpy(dtype=np.float64)
    cal["duration_holdout"] = (obs_end - cal_end).days / time_unit_days
    return cal


def holdout_check(model: _Predictor, cal_holdout: pd.DataFrame, *,
                  max_frequency: int = 7) -> pd.DataFrame:
    """Predicted vs actual holdout repeat purchases by calibration frequency (0..7+).

    The conditional-expectations check of FHL 2005 (Marketing Science, Figure 5): rows
    "0".."6", "7+" and "total"; columns n_customers, actual_mean, predicted_mean,
    actual_total, predicted_total.
    """
    x = cal_holdout["frequency_cal"].to_numpy(dtype=np.float64)
    pred = model.expected_purchases(cal_holdout["duration_holdout"].to_numpy(dtype=np.float64),
                                    x, cal_holdout["recency_cal"].to_numpy(dtype=np.float64),
                                    cal_holdout["T_cal"].to_numpy(dtype=np.float64))
    frame = pd.DataFrame({"group": np.minimum(x, max_frequency).astype(int),
                          "actual": cal_holdout["frequency_holdout"].to_numpy(np.float64),
                          "predicted": pred})
    g = frame.groupby("group")
    out = pd.DataFrame({"n_customers": g.size(), "actual_mean": g["actual"].mean(),
                        "predicted_mean": g["predicted"].mean(),
                        "actual_total": g["actual"].sum(),
                        "predicted_total": g["predicted"].sum()})
    out.index = [f"{k}+" if k == max_frequency else str(k) for k in out.index]
    out.loc["total"] = [len(frame), frame["actual"].mean(), frame["predicted"].mean(),
                        frame["actual"].sum(), frame["predicted"].sum()]
    out["n_customers"] = out["n_customers"].astype(int)
    out.index.name = "frequency_cal"
    return out


def plot_holdout(check: pd.DataFrame, path: str | Path, *, model: str,
                 title: str = "Holdout repeat purchases by calibration frequency") -> Path:
    """Write the holdout check of ``model`` (its name, e.g. "MBG/NBD", in the legend) as a
    hand-made SVG line chart (no plotting dependency)."""
    rows = check.drop(index="total", errors="ignore")
    labels = [str(k) for k in rows.index]
    series = {"actual": rows["actual_mean"].to_numpy(float),
              f"{model} (predicted)": rows["predicted_mean"].to_numpy(float)}
    width, height, left, right, top, bottom = 640, 400, 60, 20, 40, 50
    ymax = max(1.0, math.ceil(max(float(np.nanmax(v)) for v in series.values())))
    pw, ph = width - left - right, height - top - bottom

    def px(i: int) -> float:
        return left + pw * (i + 0.5) / len(labels)

    def py(v: float) -> float:
        return top + ph * (1 - v / ymax)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="12">',
             f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
             f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" '
             'stroke="black"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="black"/>']
    for k in range(int(ymax) + 1):
        parts.append(f'<text x="{left - 8}" y="{py(k) + 4:.1f}" text-anchor="end">{k}</text>')
    for i, lab in enumerate(labels):
        parts.append(f'<text x="{px(i):.1f}" y="{top + ph + 18}" text-anchor="middle">'
                     f'{lab}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 10}" text-anchor="middle">'
                 'repeat purchases in calibration</text>')
    for (name, values), (colour, dash) in zip(series.items(),
                                              [("black", ""), ("#1f77b4", "6,4")], strict=True):
        pts = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                     f'stroke-width="2" stroke-dasharray="{dash}"/>')
        y = top + 15 * (1 + list(series).index(name))
        parts.append(f'<line x1="{left + 10}" y1="{y}" x2="{left + 40}" y2="{y}" '
                     f'stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>')
        parts.append(f'<text x="{left + 46}" y="{y + 4}">{escape(name)}</text>')
    parts.append("</svg>")
    out = Path(path)
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return out
