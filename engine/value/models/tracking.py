"""Cumulative repeat purchases per period, actual against each model (FHL 2005, Figure 4), and
its chart as hand-written SVG.

The cohort is the customers whose first purchase is on or before the calibration end (those
the models are fitted on). Periods of ``time_unit_days`` run from the cohort's first purchase
day to the observation end: period k holds the days whose offset d from that first day has
floor(d / unit) = k - 1. Through the end of period k:

* actual: the cohort's repeat purchase days (purchase days after each customer's first) so far;
* model: sum over customers of E[X(t_ik)], the expected repeat purchases of a customer
  acquired at their first purchase day f_i (``expected_purchases_new``), with t_ik the time
  from f_i to the last day of period k, in units (day counts as in ``rfm.summary``).

The expectation depends on f_i only, so it is evaluated once per distinct first day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol

import numpy as np
import pandas as pd
from markupsafe import escape

from engine.value.models._common import FloatArray
from engine.value.models.rfm import _days


class _NewCustomerModel(Protocol):
    def expected_purchases_new(self, t: object) -> FloatArray: ...


def tracking(transactions: pd.DataFrame, models: Mapping[str, _NewCustomerModel], *,
             customer_col: str, date_col: str, calibration_end: object,
             observation_end: object, time_unit_days: float = 7.0) -> pd.DataFrame:
    """One row per period: ``period`` (1, 2, ...), ``period_end`` (its last day),
    ``calibration`` (True while the period ends on or before the calibration end),
    ``actual`` and one column per model (by the mapping's keys, e.g. titles): cumulative
    repeat purchases."""
    cal_end = pd.Timestamp(calibration_end).normalize()
    obs_end = pd.Timestamp(observation_end).normalize()
    if obs_end <= cal_end:
        raise ValueError(f"observation_end {obs_end.date()} must be after calibration_end "
                         f"{cal_end.date()}")
    if not time_unit_days > 0:
        raise ValueError(f"time_unit_days must be > 0, got {time_unit_days!r}")
    days = _days(transactions, customer_col, date_col, None, obs_end)
    first = days.groupby("customer", sort=False)["day"].transform("min")
    days = days[first <= cal_end]
    first = first[first <= cal_end]
    if days.empty:
        raise ValueError(f"no customer made a first purchase on or before {cal_end.date()}")
    origin = first.min()
    offset = (days["day"] - origin).dt.days.to_numpy()
    first_offset = (first - origin).dt.days.to_numpy()
    repeat = offset[offset > first_offset]
    total_days = (obs_end - origin).days + 1
    n_periods = math.ceil(total_days / time_unit_days)
    k = np.arange(1, n_periods + 1)
    # last day of period k: the largest d with d / unit < k, within the data
    last_day = np.minimum(np.ceil(k * time_unit_days) - 1, total_days - 1)
    actual = np.searchsorted(np.sort(repeat), last_day, side="right")
    firsts, counts = np.unique(first_offset[offset == first_offset], return_counts=True)
    t = np.maximum(last_day[:, None] - firsts[None, :], 0) / time_unit_days
    out = pd.DataFrame({"period": k,
                        "period_end": origin + pd.to_timedelta(last_day, unit="D"),
                        "calibration": origin + pd.to_timedelta(last_day, unit="D") <= cal_end,
                        "actual": actual.astype(np.float64)})
    for name, model in models.items():
        expected = np.asarray(model.expected_purchases_new(t.ravel()), dtype=np.float64)
        out[name] = np.einsum("kf,f->k", expected.reshape(t.shape), counts.astype(np.float64))
    return out


# the house look of engine/report/charts.py (kept here so the models do not import the report)
FONT = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif"
COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")  # Okabe-Ito
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 1060, 380, 78, 20, 62, 52


# the models' lines are not the holdout table's predictions (those start from each customer's
# calibration summary): a reader comparing the two would otherwise see a contradiction
CAPTION = ("expected: E[X(t)] summed from each first purchase, not the predictions of the "
           "holdout table")


def _count(v: float) -> str:
    """A tooltip's figure: a count as a whole number (23,791), an expectation to 0.1."""
    return f"{v:,.0f}" if v == round(v) else f"{v:,.1f}"


def _ticks(hi: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``hi``."""
    raw = max(hi, 1.0) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw - 1e-12)
    return [round(i * step, 10) for i in range(math.ceil(hi / step - 1e-9) + 1)]


def tracking_svg(series: pd.DataFrame, *, title: str = "Cumulative repeat purchases: actual "
                 "and expected by each model", period_name: str = "week") -> str:
    """The tracking series as one SVG document: a line per model (coloured) and the actual
    (black), a dashed line at the end of the calibration period, a tooltip on every point, the
    periods on the x axis by the date they end. Deterministic: coordinates rounded to 0.1 px."""
    names = [c for c in series.columns if c not in ("period", "period_end", "calibration")]
    values = series[names].to_numpy(dtype=np.float64)
    periods = series["period"].to_numpy()
    ends = [str(d)[:10] for d in pd.to_datetime(series["period_end"])]
    ticks = _ticks(float(np.nanmax(values)) if values.size else 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(i: int) -> float:
        return LEFT + plot_w * (i + 0.5) / max(len(periods), 1)

    def py(v: float) -> float:
        return TOP + plot_h * (1 - v / ticks[-1])

    def text(x: float, y: float, s: str, anchor: str = "start", size: int = 11,
             weight: str = "normal", fill: str = "#444444") -> str:
        return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
                f'font-weight="{weight}" fill="{fill}">{escape(s)}</text>')

    parts = [f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
             text(12, 24, title, size=15, weight="bold", fill="#1a1a1a"),
             text(WIDTH - RIGHT, 46, CAPTION, anchor="end", size=10, fill="#666666")]  # legend row
    for tick in ticks:
        y = py(tick)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                     f'stroke="{"#888888" if tick == 0 else "#e3e3e3"}" stroke-width="1"/>')
        parts.append(text(LEFT - 6, y + 4, f"{tick:,.0f}", anchor="end"))
    middle = TOP + plot_h / 2
    parts.append(f'<text x="16" y="{middle:.1f}" font-size="12" text-anchor="middle" '
                 f'fill="#555555" transform="rotate(-90 16 {middle:.1f})">repeat purchases '
                 '(cumulative)</text>')
    step = max(1, math.ceil(len(periods) / 13))
    for i in range(0, len(periods), step):
        parts.append(text(px(i), HEIGHT - BOTTOM + 17, ends[i], anchor="middle"))
    parts.append(text(LEFT + plot_w / 2, HEIGHT - 12, f"{period_name} ending", anchor="middle",
                      size=12))
    cal = series["calibration"].to_numpy(dtype=bool)
    if cal.any() and not cal.all():
        x = (px(int(np.flatnonzero(cal)[-1])) + px(int(np.flatnonzero(cal)[-1]) + 1)) / 2
        parts.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h}" '
                     'stroke="#7F7F7F" stroke-width="1" stroke-dasharray="5,4"/>')
        parts.append(text(x + 6, TOP + 14, "end of calibration", fill="#666666"))
    legend_x = float(LEFT)
    for j, name in enumerate(names):
        color = "#1a1a1a" if name == "actual" else COLORS[(j - 1) % len(COLORS)]
        parts.append(f'<rect x="{legend_x:.1f}" y="36" width="12" height="12" '
                     f'fill="{color}"/>')
        parts.append(text(legend_x + 17, 46, name, size=12))
        legend_x += 30 + 7.2 * len(name)
        points = []
        for i, v in enumerate(values[:, j]):
            if not math.isfinite(v):
                continue
            points.append(f"{px(i):.1f},{py(v):.1f}")
            parts.append(f'<circle class="mark" cx="{px(i):.1f}" cy="{py(v):.1f}" r="2" '
                         f'fill="{color}"><title>{escape(period_name)} {periods[i]} '
                         f'(to {ends[i]}) - {escape(name)}: {_count(v)}</title></circle>')
        dash = "" if name == "actual" else ' stroke-dasharray="7,3"'
        parts.append(f'<polyline class="mark" points="{" ".join(points)}" fill="none" '
                     f'stroke="{color}" stroke-width="2"{dash}/>')
    body = "\n".join(parts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-tracking" '
            f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'font-family="{FONT}" role="img" aria-label="{escape(title)}">\n'
            f'<title>{escape(title)}</title>\n{body}\n</svg>\n')
