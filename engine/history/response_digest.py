"""The responses a run knows, as its run id covers them: by content, cheaply (README "History").

Every stored response carries a digest of its content (``cvm_responses.digest``: 32 bits of
BLAKE2b over customer, campaign, date, outcome and revenue), made once when it is imported
(and by migration 0007 for the responses stored before). A run as of a date reads the number
and the sum of the digests of the responses it knows (engine.history.lookback:
``known_responses_digest``, dated before the as-of date) in one pass inside the database,
never a row in Python: a sum is the same whatever order the rows were imported in, whichever
file brought them, and whatever their import ids, and a response dated on or after the as-of
date is not in it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable

import numpy as np

SEPARATOR = "\x1f"  # the unit separator: never in an id, campaign or outcome read by the engine


def row_digest(customer_id: object, campaign: object, date: object, outcome: object,
               revenue: float | None) -> int:
    """One response's digest: 32 bits, so that the sum of two billion fits in 63 bits
    (SQLite's integer sum refuses to overflow)."""
    money = "" if revenue is None or math.isnan(revenue) else repr(float(revenue))
    text = SEPARATOR.join((str(customer_id), str(campaign), str(date)[:10], str(outcome),
                           money))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big")


def row_digests(rows: Iterable[tuple[object, object, object, object, float | None]]) -> np.ndarray:
    """The digests of (customer_id, campaign, date, outcome, revenue) rows, made at import:
    hashlib per row, so the same content gives the same digest on every stack."""
    return np.fromiter((row_digest(*row) for row in rows), dtype=np.int64)
