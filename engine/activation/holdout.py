"""Holdout groups: a stable share of each campaign's audience that is not contacted, so the
campaign's effect can be measured against it: against everyone else assigned to the campaign,
contacted or not (intention to treat), never against the contacted customers alone.

A customer is in the holdout of campaign k when u < holdout_share, with u the BLAKE2b hash of
"<salt>|<campaign id>|<customer id>" (UTF-8, an 8-byte digest) read big-endian, / 2**64. The
draw depends on nothing else: the same customer stays in the same group across runs, whatever
else changes, until the salt or the share changes. BLAKE2b is in Python's standard library and
is the same on every platform.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd


def uniform(customer_ids: np.ndarray, campaigns: np.ndarray, salt: str,
            only: np.ndarray | None = None) -> np.ndarray:
    """The u value of each (customer, campaign) pair, in [0, 1); with ``only`` (a mask), of
    those pairs alone (the others 1.0: in no holdout).

    A campaign's prefix "<salt>|<campaign>|" is hashed once and copied per customer, and the
    8-byte digests are read as big-endian integers in one pass: the same u, bit for bit, as
    hashing each whole text (the digest of the same bytes; a uint64 converted to a float64
    rounds as Python's int does, and dividing by 2**64 is exact)."""
    out = np.ones(len(customer_ids), dtype=np.float64)
    # grouped by the text hashed (None and NaN are different campaigns: "None", "nan")
    codes, names = pd.factorize(np.array([f"{c}" for c in np.asarray(campaigns).tolist()],
                                         dtype=object))
    for k, camp in enumerate(names):
        where = codes == k
        if only is not None:
            where &= only
        rows = np.flatnonzero(where)
        if not len(rows):
            continue
        prefix = hashlib.blake2b(f"{salt}|{camp}|".encode(), digest_size=8)
        digests = bytearray()
        for cid in customer_ids[rows].tolist():
            h = prefix.copy()
            h.update(f"{cid}".encode())
            digests += h.digest()
        out[rows] = np.frombuffer(bytes(digests), dtype=">u8").astype(np.float64) / 2.0**64
    return out


def in_holdout(customer_ids: np.ndarray, campaigns: np.ndarray, shares: np.ndarray,
               salt: str) -> np.ndarray:
    """Whether each (customer, campaign) pair is in the campaign's holdout group (u < share);
    a pair whose share is 0 is in none, and its u is not drawn."""
    shares = np.asarray(shares, dtype=np.float64)
    return np.asarray(uniform(customer_ids, campaigns, salt, only=shares > 0) < shares,
                      dtype=bool)
