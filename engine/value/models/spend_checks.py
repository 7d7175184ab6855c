"""Checks of the Gamma-Gamma spend model: its independence assumption and a holdout test.

**Independence.** Gamma-Gamma assumes that how much a customer spends per purchase does not
depend on how often they buy (Fader, Hardie & Lee 2005, "RFM and CLV", section 4). Over the
repeat buyers (frequency x > 0), ``independence`` measures the Pearson correlation of x with the
mean repeat spend, with the t test of zero correlation (t = r sqrt((n - 2) / (1 - r^2)),
n - 2 degrees of freedom), and the Spearman rank correlation with its p-value (spend is heavily
skewed, so the rank test is the robust one). F&H report 0.11 on CDNOW and call that weak
enough; ``independence`` calls the assumption doubtful when the rank correlation's p-value is
below 0.05 and |rho| is at least 0.3 (with many customers any correlation is "significant";
the size is what biases the model).

**Holdout.** ``holdout_spend``: the model fitted on the calibration period's repeat buyers
predicts each customer's mean spend per purchase day in the holdout, E[Z | x_cal, mbar_cal];
over the customers who bought in the holdout this is compared with their actual mean, as a
mean per customer and as a total (predicted mean x holdout purchase days, summed).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from engine.value.models.gamma_gamma import GammaGammaFitter

DOUBTFUL_RHO = 0.3
ALPHA = 0.05


@dataclass(frozen=True)
class Independence:
    customers: int
    pearson_r: float
    pearson_p: float
    spearman_rho: float
    spearman_p: float

    @property
    def doubtful(self) -> bool:
        return self.spearman_p < ALPHA and abs(self.spearman_rho) >= DOUBTFUL_RHO

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "doubtful": self.doubtful}

    def describe(self) -> str:
        verdict = ("the assumption is doubtful: spend per purchase depends on frequency, "
                   "Gamma-Gamma's value is biased" if self.doubtful else
                   "weak enough for Gamma-Gamma's assumption of independence")
        return (f"spend-frequency correlation over {self.customers:,} repeat buyers: Pearson "
                f"r = {self.pearson_r:+.3f} (p = {self.pearson_p:.3g}), Spearman rho = "
                f"{self.spearman_rho:+.3f} (p = {self.spearman_p:.3g}): {verdict}")


def independence(frequency: object, monetary_value: object) -> Independence:
    """Correlation of frequency and mean repeat spend over the customers with x > 0."""
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary_value, dtype=np.float64)
    keep = (x > 0) & np.isfinite(m) & (m > 0)
    x, m = x[keep], m[keep]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(m) == 0:
        return Independence(len(x), math.nan, math.nan, math.nan, math.nan)
    from scipy import stats  # cvm fit's checks only: its import takes a second

    pearson = stats.pearsonr(x, m)
    spearman = stats.spearmanr(x, m)
    return Independence(len(x), float(pearson[0]), float(pearson[1]),
                        float(spearman[0]), float(spearman[1]))


@dataclass(frozen=True)
class HoldoutSpend:
    customers: int  # who bought in the holdout (and were in the calibration period)
    predicted_mean: float  # mean over them of the predicted spend per purchase day
    actual_mean: float
    predicted_total: float
    actual_total: float

    @property
    def error(self) -> float:
        return self.predicted_total / self.actual_total - 1 if self.actual_total else math.nan

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "relative_error": self.error}

    def describe(self) -> str:
        # the totals weigh each customer by their holdout purchase days, the means do not:
        # each figure says which it is, so that the two never seem to contradict each other
        return (f"holdout spend of {self.customers:,} customers who bought again: predicted "
                f"total {self.predicted_total:,.0f} (mean per customer of their expected spend "
                f"per purchase day {self.predicted_mean:,.2f}), actual total "
                f"{self.actual_total:,.0f} (mean per customer of their average spend per "
                f"purchase day {self.actual_mean:,.2f}), {self.error:+.1%} on the total")


def holdout_spend(cal_holdout: pd.DataFrame, *, penalizer: float = 0.0
                  ) -> tuple[GammaGammaFitter, HoldoutSpend]:
    """Fit Gamma-Gamma on the calibration repeat buyers and test it on the holdout spend.
    Needs ``frequency_cal``, ``monetary_value_cal``, ``frequency_holdout`` and
    ``monetary_value_holdout``; raises ``ValueError``/``ConvergenceError`` when it cannot fit."""
    x = cal_holdout["frequency_cal"].to_numpy(dtype=np.float64)
    m = cal_holdout["monetary_value_cal"].to_numpy(dtype=np.float64)
    ok = (x > 0) & (m > 0)
    model = GammaGammaFitter(penalizer).fit(x[ok], m[ok])
    n_hold = cal_holdout["frequency_holdout"].to_numpy(dtype=np.float64)
    m_hold = cal_holdout["monetary_value_holdout"].to_numpy(dtype=np.float64)
    bought = n_hold > 0
    predicted = model.expected_average_spend(x[bought], np.where(ok, m, 0.0)[bought])
    return model, HoldoutSpend(int(bought.sum()), float(predicted.mean()) if bought.any()
                               else math.nan, float(m_hold[bought].mean()) if bought.any()
                               else math.nan, float(np.sum(predicted * n_hold[bought])),
                               float(np.sum(m_hold[bought] * n_hold[bought])))
