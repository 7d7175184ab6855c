"""MBG/NBD model of repeat purchasing (Batislam, Denizel & Filiztekin 2007, International
Journal of Research in Marketing 24(3)).

BG/NBD with one more chance to leave: while active, a customer buys as a Poisson process with
rate lambda ~ Gamma(r, alpha); right after the first purchase *and* after each repeat purchase
they become inactive with probability p ~ Beta(a, b). In BG/NBD a customer who never bought
again is certainly alive (P(alive) = 1 however long ago they came); here they may have left at
once, so a one-time buyer last seen long ago has a low P(alive). lifetimes'
``ModifiedBetaGeoFitter`` implements the same likelihood and expressions.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, gammaln

from engine.value.models._beta_geo import BetaGeoFamily, _running
from engine.value.models._beta_geo import simulate as _simulate
from engine.value.models._common import FloatArray, check_rfm


def log_likelihood(params: dict[str, float], frequency: object, recency: object,
                   T: object) -> FloatArray:
    """Per-customer MBG/NBD log-likelihood, vectorised."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    x, tx, t = check_rfm(frequency, recency, T)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    j = np.arange(int(np.max(x)) + 1 if len(x) else 0, dtype=np.float64)
    a2 = _running(-np.log1p(a / (b + j)))[x.astype(np.intp) + 1]
    a3 = -(r + x) * np.log(alpha + t)
    a4 = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + t) - np.log(alpha + tx))
    return np.asarray(a1 + a2 + a3 + np.logaddexp(0.0, a4), dtype=np.float64)


class ModifiedBetaGeoFitter(BetaGeoFamily):
    """MBG/NBD model fitted by maximum likelihood (Batislam, Denizel & Filiztekin 2007).

    Same inputs, penalizer and analytic gradient as ``BetaGeoFitter``; identical
    (frequency, recency, T) rows are fitted once.
    """

    b_shift = 1.0

    per_customer = staticmethod(log_likelihood)

    def p_alive(self, frequency: object, recency: object, T: object) -> FloatArray:
        """P(active at T | x, t_x, T) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)).

        Also for one-time buyers (x = t_x = 0): 1 / (1 + a/b ((alpha+T)/alpha)^r), which falls
        as T grows.
        """
        r, alpha, a, b = self._param_array()
        x, tx, t = check_rfm(frequency, recency, T)
        odds = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + t) - np.log(alpha + tx))
        return np.asarray(expit(-odds), dtype=np.float64)


def simulate(params: dict[str, float], T: object, *, rng: np.random.Generator,
             time_unit_days: float | None = 7.0) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Draw (frequency, recency, T) from the MBG/NBD generative process; see
    ``engine.value.models._beta_geo.simulate``."""
    return _simulate(params, T, rng=rng, time_unit_days=time_unit_days, drop_at_first=True)
