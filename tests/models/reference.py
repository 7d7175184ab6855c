"""Independent scalar references, written in plain Python from the papers' formulas.

They share nothing with the vectorised implementations: no Euler transformation, no
log-sum-exp, no compression, no running sums.
"""

from __future__ import annotations

import math

from scipy.special import betaln, gammaln, hyp2f1


def ref_bgnbd_ll(r: float, alpha: float, a: float, b: float, x: float, tx: float,
                 t: float) -> float:
    """FHL (2005) eq. 6, literally: two terms with Beta functions, summed then logged."""
    common = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha) - betaln(a, b)
    term1 = betaln(a, b + x) + common - (r + x) * math.log(alpha + t)
    total = math.exp(term1)
    if x > 0:
        total += math.exp(betaln(a + 1, b + x - 1) + common - (r + x) * math.log(alpha + tx))
    return math.log(total)


def ref_pareto_ll(r: float, alpha: float, s: float, beta: float, x: float, tx: float,
                  t: float) -> float:
    """Fader & Hardie's Pareto/NBD likelihood with A0 from 2F1, without any transformation."""
    def a0_term(u: float) -> float:
        if alpha >= beta:
            return float(hyp2f1(r + s + x, s + 1, r + s + x + 1, (alpha - beta) / (alpha + u))
                         / (alpha + u) ** (r + s + x))
        return float(hyp2f1(r + s + x, r + x, r + s + x + 1, (beta - alpha) / (beta + u))
                     / (beta + u) ** (r + s + x))

    a0 = a0_term(tx) - a0_term(t)
    inner = 1 / ((alpha + t) ** (r + x) * (beta + t) ** s) + s / (r + s + x) * a0
    return (math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha) + s * math.log(beta)
            + math.log(inner))


def ref_gg_ll(p: float, q: float, g: float, x: float, m: float) -> float:
    """Fader & Hardie (2013) eq. 3: density of the mean of x Gamma(p, nu) values."""
    return (float(gammaln(p * x + q) - gammaln(p * x) - gammaln(q)) + q * math.log(g)
            + (p * x - 1) * math.log(m) + p * x * math.log(x)
            - (p * x + q) * math.log(g + m * x))


def ref_mbgnbd_terms(r: float, alpha: float, a: float, b: float, x: float, tx: float,
                     t: float) -> tuple[float, float]:
    """Batislam, Denizel & Filiztekin (2007) eq. 8, literally: the two terms of the likelihood,
    (alive at T, left after the last purchase), with Beta and Gamma functions."""
    common = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha) - betaln(a, b)
    alive = math.exp(betaln(a, b + x + 1) + common - (r + x) * math.log(alpha + t))
    left = math.exp(betaln(a + 1, b + x) + common - (r + x) * math.log(alpha + tx))
    return alive, left


def ref_mbgnbd_ll(r: float, alpha: float, a: float, b: float, x: float, tx: float,
                  t: float) -> float:
    return math.log(sum(ref_mbgnbd_terms(r, alpha, a, b, x, tx, t)))
