"""first_of_pair on 32-bit values whose span does not fit 32 bits (a reviewer: subtracting in
the values' own type wrapped, and a pair was marked first twice)."""

from __future__ import annotations

import numpy as np

from engine.value.occasions import first_of_pair


def test_int32_values_spanning_more_than_2_to_the_31() -> None:
    v = 7
    value = np.array([v, 2**31 - 1, v, -5], dtype=np.int32)
    code = np.zeros(4, dtype=np.intp)
    assert first_of_pair(code, value, 3000).tolist() == [True, True, False, True]
