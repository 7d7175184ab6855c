"""engine.history.day_order: each row's place, made a block of rows at a time, is the stable
sort of the days (ties as they come), across block boundaries, with days over 16 bits too."""

from __future__ import annotations

import numpy as np
import pytest

from engine.history import day_order


@pytest.mark.parametrize("span", [1, 3, 100, 70_000])
def test_places_are_the_stable_sort_of_the_days(monkeypatch: pytest.MonkeyPatch,
                                                span: int) -> None:
    monkeypatch.setattr(day_order, "BLOCK", 7)  # many blocks, some rows of a day in each
    rng = np.random.default_rng(span)
    for n in (0, 1, 6, 7, 8, 50, 141):
        day = (20_000 + rng.integers(-5, span, n)).astype(np.int32)
        low = int(day.min()) if n else 0
        place = day_order.places(day, low, day_order.starts(day, low, None))
        values = rng.random(n)
        assert np.array_equal(day_order.placed(values, place),
                              values[np.argsort(day, kind="stable")])
