"""Probabilistic customer-lifetime-value models fitted by maximum likelihood.

* ``BetaGeoFitter``: BG/NBD (Fader, Hardie & Lee 2005, Marketing Science);
* ``ModifiedBetaGeoFitter``: MBG/NBD (Batislam, Denizel & Filiztekin 2007), BG/NBD in which a
  customer can also leave right after the first purchase (one-time buyers can be inactive);
* ``ParetoNBDFitter``: Pareto/NBD (Schmittlein, Morrison & Colombo 1987);
* ``GammaGammaFitter``: spend per transaction, and CLV (Fader, Hardie & Lee 2005, JMR);
* ``ShiftedBetaGeoFitter`` (``engine.value.models.sbg``): contract renewal, for subscriptions
  (Fader & Hardie 2007), with survival, retention, churn probability and DERL (Fader & Hardie
  2010);
* ``engine.value.models.rfm``: per-customer frequency/recency/T/monetary summaries from
  transactions, calibration/holdout splits and the holdout check.

Typical use, with a transactions frame ``tx`` (one row per purchase)::

    from engine.value.models import BetaGeoFitter, GammaGammaFitter, rfm
    s = rfm.summary(tx, customer_col="customer_id", date_col="date", value_col="amount",
                    observation_end="2024-12-31", time_unit_days=7.0)
    bg = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    repeat = s["frequency"] > 0
    gg = GammaGammaFitter().fit(s["frequency"][repeat], s["monetary_value"][repeat])
    p = bg.p_alive(s["frequency"], s["recency"], s["T"])
    clv = gg.clv(bg, s["frequency"], s["recency"], s["T"], s["monetary_value"],
                 horizon=12, discount_rate_per_period=0.01, periods_per_step=30 / 7)
"""

from __future__ import annotations

from engine.value.models import rfm, sbg
from engine.value.models._common import ConvergenceError, NotFittedError
from engine.value.models.bgnbd import BetaGeoFitter
from engine.value.models.gamma_gamma import GammaGammaFitter
from engine.value.models.mbgnbd import ModifiedBetaGeoFitter
from engine.value.models.pareto_nbd import ParetoNBDFitter
from engine.value.models.sbg import ShiftedBetaGeoFitter

__all__ = [
    "BetaGeoFitter",
    "ConvergenceError",
    "GammaGammaFitter",
    "ModifiedBetaGeoFitter",
    "NotFittedError",
    "ParetoNBDFitter",
    "ShiftedBetaGeoFitter",
    "rfm",
    "sbg",
]
