"""BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, Marketing Science 24(2)).

While active, a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); after
each purchase they become inactive with probability p ~ Beta(a, b). Equation numbers below
are those of the paper ("FHL") and of Fader & Hardie's note "Computing P(alive) using the
BG/NBD model" (2008).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, gammaln

from engine.value.models._beta_geo import BetaGeoFamily, _running
from engine.value.models._beta_geo import simulate as _simulate
from engine.value.models._common import FloatArray, check_rfm


def log_likelihood(params: dict[str, float], frequency: object, recency: object,
                   T: object) -> FloatArray:
    """Per-customer BG/NBD log-likelihood (FHL eq. 6), vectorised."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    x, tx, t = check_rfm(frequency, recency, T)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    j = np.arange(int(np.max(x)) if len(x) else 0, dtype=np.float64)
    a2 = _running(-np.log1p(a / (b + j)))[x.astype(np.intp)]  # lnB(a, b+x) - lnB(a, b)
    a3 = -(r + x) * np.log(alpha + t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(x > 0, np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + tx),
                      -np.inf)
    return np.asarray(a1 + a2 + np.logaddexp(a3, a4), dtype=np.float64)


class BetaGeoFitter(BetaGeoFamily):
    """BG/NBD model fitted by maximum likelihood (Fader, Hardie & Lee 2005).

    ``penalizer`` adds ``penalizer * sum(params**2)`` to the mean negative log-likelihood
    (the lifetimes convention); 0 gives plain maximum likelihood. The gradient is analytic.
    Inputs per customer: ``frequency`` = number of repeat purchase days, ``recency`` = time
    from the first to the last purchase, ``T`` = time from the first purchase to the end of
    observation, recency and T in one time unit (see ``engine.value.models.rfm.summary``).
    """

    per_customer = staticmethod(log_likelihood)

    def p_alive(self, frequency: object, recency: object, T: object) -> FloatArray:
        """P(active at T | x, t_x, T) (note "Computing P(alive) using the BG/NBD model", eq. 2).

        1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).
        """
        r, alpha, a, b = self._param_array()
        x, tx, t = check_rfm(frequency, recency, T)
        with np.errstate(divide="ignore"):
            odds = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * (
                np.log(alpha + t) - np.log(alpha + tx))
        return np.where(x > 0, expit(-odds), 1.0)


def simulate(params: dict[str, float], T: object, *, rng: np.random.Generator,
             time_unit_days: float | None = 7.0) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Draw (frequency, recency, T) from the BG/NBD generative process (FHL section 3); see
    ``engine.value.models._beta_geo.simulate``."""
    return _simulate(params, T, rng=rng, time_unit_days=time_unit_days)
