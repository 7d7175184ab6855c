"""The Pareto/NBD likelihood, its gradient, and how the rows are laid out for them.

Per row (x, t_x, T), after Fader & Hardie's note 008 (eq. 17-19):
L = exp(lead) (exp(term1) + exp(term2)), lead = lnG(r+x) - lnG(r) + r ln(alpha) + s ln(beta),
term1 = -(r+x) ln(alpha+T) - s ln(beta+T) (alive at T), term2 = ln(s/(r+s+x)) + ln(A0) (died
in (t_x, T]), A0 = the difference of two hypergeometric terms, at t_x and at T.

Speed comes from the layout (``Rows``): lead depends on x alone, term1 on (x, T) and each A0
term on (x, u), u = t_x or T; those are computed once per distinct value and gathered to the
rows. The gradient is analytic except for the derivatives of ln 2F1 with respect to its
parameters, which scipy does not give: those are central differences, on the distinct
(x, u) pairs only.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln, hyp2f1

from engine.value.models._common import FloatArray, unique_rows


def _log_a0_term(t: FloatArray, rx: FloatArray, r: float, alpha: float, s: float,
                 beta: float) -> FloatArray:
    """log of one of the two terms whose difference is A0 (note 008, eq. 18-19).

    For alpha >= beta the term is 2F1(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+t)) /
    (alpha+t)^(r+s+x); for alpha < beta, 2F1(r+s+x, r+x; r+s+x+1; (beta-alpha)/(beta+t)) /
    (beta+t)^(r+s+x). Euler's transformation 2F1(a,b;c;z) = (1-z)^(c-a-b) 2F1(c-a,c-b;c;z)
    turns both into series with first parameter 1 and positive terms, evaluated in logs.
    """
    c = rx + s + 1
    if alpha >= beta:
        z = (alpha - beta) / (alpha + t)
        return np.asarray(np.log(hyp2f1(1.0, rx, c, z)) - s * np.log(beta + t)
                          - rx * np.log(alpha + t), dtype=np.float64)
    z = (beta - alpha) / (beta + t)
    return np.asarray(np.log(hyp2f1(1.0, s + 1, c, z)) + (1 - rx) * np.log(alpha + t)
                      - (s + 1) * np.log(beta + t), dtype=np.float64)


class Rows:
    """Rows (x, t_x, T) laid out for the likelihood: what depends on x alone, on (x, t_x) or on
    (x, T) is computed once per distinct value and gathered to the rows.

    The two hypergeometric terms of A0 depend on one row only through (x, u), u = t_x or T,
    and a million customers have about 260,000 distinct (x, t_x, T) rows but only about 13,500
    distinct (x, u) pairs (u in whole days / 7): ``hyp2f1``, which costs most, runs on those.
    Each gathered value of ``parts`` is the one a row-by-row evaluation gives, bit for bit (the
    same operations on the same numbers).
    """

    def __init__(self, x: FloatArray, tx: FloatArray, t: FloatArray) -> None:
        n = len(x)
        (self.xs,), self.x_at, _ = unique_rows(x)
        (self.px, self.pu), pair, _ = unique_rows(np.concatenate([x, x]),
                                                  np.concatenate([tx, t]))
        self.at_tx, self.at_t = pair[:n], pair[n:]


def parts(params: FloatArray, rows: Rows) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(lead, log of the 'alive at T' term, log of the 'died in (t_x, T]' term) per row.

    L = exp(lead) * (exp(term1) + exp(term2)), lead = lnG(r+x) - lnG(r) + r ln(alpha)
    + s ln(beta), term1 = -(r+x) ln(alpha+T) - s ln(beta+T), term2 = ln(s/(r+s+x)) + ln(A0).
    """
    r, alpha, s, beta = params
    rx = r + rows.xs
    lead = gammaln(rx) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    share = np.log(s) - np.log(rx + s)
    prx, pu = r + rows.px, rows.pu
    term1 = (-prx * np.log(alpha + pu) - s * np.log(beta + pu))[rows.at_t]
    a0_term = _log_a0_term(pu, prx, r, alpha, s, beta)
    hi, lo = a0_term[rows.at_tx], a0_term[rows.at_t]
    with np.errstate(divide="ignore"):
        log_a0 = hi + np.log1p(-np.exp(np.minimum(lo - hi, 0.0)))  # -inf when t_x == T
    term2 = share[rows.x_at] + log_a0
    return lead[rows.x_at], term1, term2




STEP = 1e-5  # relative step of the central differences in b and c, beyond the series
Z_SERIES = 0.9  # the largest z summed as a series here (at most a few hundred terms)


def _log_h_and_grad(b: FloatArray | float, c: FloatArray, z: FloatArray
                    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """ln F and its derivatives in b, c and z, F = 2F1(1, b; c; z), 0 < b < c, 0 <= z < 1.

    F = sum_k t_k, t_k = (b)_k / (c)_k z^k: positive terms, summed side by side for every pair
    while z <= Z_SERIES (the terms fall at least as fast as z^k), with dt_k/db = t_k sum_{j<k}
    1/(b+j), dt_k/dc = -t_k sum_{j<k} 1/(c+j) and dt_k/dz = k t_k / z. scipy has no
    derivatives of 2F1 in its parameters; beyond Z_SERIES its hyp2f1 gives F and central
    differences the derivatives in b and c (dF/dz = (b/c) 2F1(2, b+1; c+1; z)).

    ``b`` may be one number for every pair (s + 1 when alpha < beta): b + k and the running sum
    of 1 / (b + j) are then numbers, not arrays, the same values for fewer operations per term.
    """
    if len(z) == 0 or float(np.max(z)) > Z_SERIES:
        n = len(z)
        bs = np.broadcast_to(b, z.shape)
        lh = np.log(hyp2f1(1.0, bs, c, z))
        hb, hc = STEP * bs, STEP * c
        shifted = np.log(hyp2f1(1.0, np.concatenate([bs + hb, bs - hb, bs, bs]),
                                np.concatenate([c, c, c + hc, c - hc]),
                                np.tile(z, 4))).reshape(4, n)
        dz = bs / c * hyp2f1(2.0, bs + 1, c + 1, z) / np.exp(lh)
        return (np.asarray(lh, dtype=np.float64), (shifted[0] - shifted[1]) / (2 * hb),
                (shifted[2] - shifted[3]) / (2 * hc), np.asarray(dz, dtype=np.float64))
    total, d_b, d_c, d_z = np.ones_like(z), np.zeros_like(z), np.zeros_like(z), np.zeros_like(z)
    v = b / c  # (b)_k / (c)_k z^(k-1), k = 1
    sum_b, sum_c = 1 / b, 1 / c
    tail = 1 / (1 - float(np.max(z)))
    for k in range(1, 100_000):
        t = v * z
        total += t
        d_b += t * sum_b
        d_c -= t * sum_c
        d_z += k * v
        bk, ck = b + k, c + k
        v = t * bk / ck  # (v z (b+k)) / (c+k), v z being t
        sum_b += 1 / bk
        sum_c += 1 / ck
        # "not >=": a NaN (the optimiser stepped where the likelihood is not a number) stops
        # the sum at once instead of running every term
        if k % 8 == 0 and not float(np.max(v * ((k + 1) + sum_b + sum_c) * tail
                                           / (total + d_z - d_c + d_b))) >= 1e-17:
            break
    return np.log(total), d_b / total, d_c / total, d_z / total


def _a0_term_and_grad(u: FloatArray, rx: FloatArray, r: float, alpha: float, s: float,
                      beta: float) -> tuple[FloatArray, FloatArray]:
    """``_log_a0_term`` and its derivatives in (r, alpha, s, beta), rows of a (4, n) array."""
    la, lb = np.log(alpha + u), np.log(beta + u)
    c = rx + s + 1
    if alpha >= beta:  # b = r+x: r moves b and c, s moves c
        z = (alpha - beta) / (alpha + u)
        lh, d_b, d_c, d_z = _log_h_and_grad(rx, c, z)
        g = lh - s * lb - rx * la
        grad = [d_b + d_c - la, d_z * (beta + u) / (alpha + u) ** 2 - rx / (alpha + u),
                d_c - lb, -d_z / (alpha + u) - s / (beta + u)]
    else:  # b = s+1: r moves c, s moves b and c
        z = (beta - alpha) / (beta + u)
        lh, d_b, d_c, d_z = _log_h_and_grad(s + 1.0, c, z)
        g = lh + (1 - rx) * la - (s + 1) * lb
        grad = [d_c - la, -d_z / (beta + u) + (1 - rx) / (alpha + u),
                d_b + d_c - lb, d_z * (alpha + u) / (beta + u) ** 2 - (s + 1) / (beta + u)]
    return np.asarray(g, dtype=np.float64), np.asarray(np.stack(grad), dtype=np.float64)


def ll_and_grad(theta: FloatArray, rows: Rows, w: FloatArray, w_x: FloatArray
                ) -> tuple[float, FloatArray]:
    """sum_i w_i ln L_i and its gradient in (r, alpha, s, beta); ``w_x`` the weights summed
    per distinct x (``np.bincount(rows.x_at, w)``).

    ln L = lead + logaddexp(term1, term2), term2 = share + hi + ln(1 - exp(lo - hi)), with hi
    and lo the A0 terms at t_x and T. Row by row only the combination and the weights of the
    chain rule are computed; the derivatives of lead, share, term1 and the A0 terms live on
    the distinct x and (x, u), the row weights summed onto them with ``np.bincount``.
    """
    r, alpha, s, beta = theta
    rx = r + rows.xs
    lead = gammaln(rx) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    share = np.log(s) - np.log(rx + s)
    prx, pu = r + rows.px, rows.pu
    term1_p = -prx * np.log(alpha + pu) - s * np.log(beta + pu)
    g, dg = _a0_term_and_grad(pu, prx, r, alpha, s, beta)
    term1, hi, lo = term1_p[rows.at_t], g[rows.at_tx], g[rows.at_t]
    d = np.minimum(lo - hi, 0.0)
    one_minus_q = -np.expm1(d)  # 0 when t_x == T: no death in (t_x, T]
    with np.errstate(divide="ignore"):
        term2 = share[rows.x_at] + hi + np.log(one_minus_q)
    top = np.maximum(term1, term2)
    mix = top + np.log1p(np.exp(-np.abs(term1 - term2)))
    value = float(np.einsum("i,i->", w, lead[rows.x_at] + mix))
    p2 = np.exp(term2 - mix)  # the share of term2 in L
    w2 = w * p2
    on_hi = np.divide(w2, one_minus_q, out=np.zeros_like(w2), where=one_minus_q > 0)
    n_pairs, n_x = len(pu), len(rows.xs)
    to_term1 = np.bincount(rows.at_t, w - w2, n_pairs)
    to_g = (np.bincount(rows.at_tx, on_hi, n_pairs)
            - np.bincount(rows.at_t, on_hi * (1 - one_minus_q), n_pairs))
    to_share = np.bincount(rows.x_at, w2, n_x)
    d_lead = np.stack([digamma(rx) - digamma(r) + np.log(alpha), np.full(n_x, r / alpha),
                       np.full(n_x, np.log(beta)), np.full(n_x, s / beta)])
    d_share = np.stack([-1 / (rx + s), np.zeros(n_x), 1 / s - 1 / (rx + s), np.zeros(n_x)])
    d_term1 = np.stack([-np.log(alpha + pu), -prx / (alpha + pu), -np.log(beta + pu),
                        -s / (beta + pu)])
    grad = (np.einsum("kx,x->k", d_lead, w_x) + np.einsum("kx,x->k", d_share, to_share)
            + np.einsum("kp,p->k", d_term1, to_term1) + np.einsum("kp,p->k", dg, to_g))
    return value, np.asarray(grad, dtype=np.float64)
