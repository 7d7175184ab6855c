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


def uniform(customer_ids: np.ndarray, campaigns: np.ndarray, salt: str) -> np.ndarray:
    """The u value of each (customer, campaign) pair, in [0, 1)."""
    out = np.empty(len(customer_ids), dtype=np.float64)
    blake = hashlib.blake2b
    scale = float(2**64)
    for i, (cid, camp) in enumerate(zip(customer_ids, campaigns, strict=True)):
        digest = blake(f"{salt}|{camp}|{cid}".encode(), digest_size=8).digest()
        out[i] = int.from_bytes(digest, "big") / scale
    return out


def in_holdout(customer_ids: np.ndarray, campaigns: np.ndarray, shares: np.ndarray,
               salt: str) -> np.ndarray:
    return np.asarray(uniform(customer_ids, campaigns, salt) < shares, dtype=bool)
