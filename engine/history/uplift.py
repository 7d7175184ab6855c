"""The uplift of a treated group over its holdout, with a 95% interval (README "Measuring
campaigns: `cvm measure`"). Pure numpy on per-customer outcomes; no history, no files.

    uplift       = mean(y | treated) - mean(y | holdout)
    SE           = sqrt(s_t^2 / n_t + s_h^2 / n_h)      (s^2: sample variances, ddof 1)
    95% interval = uplift +- z95 SE; significant when the interval excludes 0
    MDE          = (z95 + z80) x SE = 2.8016 SE         (80% power at the 5% level)

with z95 = 1.959964 and z80 = 0.841621 the normal quantiles (Z95, Z80: not rounded). When
no figure varies in either group (beyond the rounding of the sums) there is no interval and
no minimum detectable effect (NaN).

CUPED: with x each customer's figure before the run, theta = cov(y, x) / var(x) over both
groups, and y' = y - theta (x - mean(x)) replaces y (same expected uplift, a smaller SE when x
predicts y).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054
Z80 = 0.8416212335729143
MIN_GROUP = 30  # customers in each group below which the result is too early to tell


@dataclass(frozen=True)
class Uplift:
    treated_mean: float
    holdout_mean: float
    uplift: float
    se: float
    low: float
    high: float
    mde: float
    theta: float  # the CUPED coefficient (0: not adjusted)

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


def cuped_theta(y: np.ndarray, x: np.ndarray) -> float:
    """cov(y, x) / var(x) over every customer; 0 when x does not vary."""
    if len(x) < 2:
        return 0.0
    var = float(np.var(x, ddof=1))
    if var <= 0 or not math.isfinite(var):
        return 0.0
    return float(np.cov(y, x, ddof=1)[0, 1] / var)


NOISE = 1e-9  # relative: differences below it are the rounding of the sums, not variation


def _varies(y: np.ndarray) -> bool:
    """Whether the figures of a group differ by more than rounding."""
    return len(y) > 1 and float(np.ptp(y)) > NOISE * max(1.0, float(np.max(np.abs(y))))


def uplift(y_t: np.ndarray, y_h: np.ndarray, x_t: np.ndarray | None = None,
           x_h: np.ndarray | None = None) -> Uplift:
    """Treated minus holdout, CUPED-adjusted when the pre-run figures are given."""
    theta = 0.0
    if x_t is not None and x_h is not None:
        y_all, x_all = np.concatenate([y_t, y_h]), np.concatenate([x_t, x_h])
        theta = cuped_theta(y_all, x_all)
        mean_x = float(x_all.mean()) if len(x_all) else 0.0
        y_t = y_t - theta * (x_t - mean_x)
        y_h = y_h - theta * (x_h - mean_x)
    n_t, n_h = len(y_t), len(y_h)
    m_t = float(y_t.mean()) if n_t else math.nan
    m_h = float(y_h.mean()) if n_h else math.nan
    var_t = float(np.var(y_t, ddof=1)) if n_t > 1 else math.nan
    var_h = float(np.var(y_h, ddof=1)) if n_h > 1 else math.nan
    se = math.sqrt(var_t / n_t + var_h / n_h) if n_t > 1 and n_h > 1 else math.nan
    if se <= NOISE * (1 + abs(m_t) + abs(m_h)) and not (_varies(y_t) or _varies(y_h)):
        se = math.nan  # nothing varies: no interval (one of width 0 would read as exact)
    diff = m_t - m_h
    return Uplift(m_t, m_h, diff, se, diff - Z95 * se, diff + Z95 * se, (Z95 + Z80) * se,
                  theta)
