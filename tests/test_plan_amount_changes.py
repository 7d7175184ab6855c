"""`cvm plan`'s "of which cost / expected response / expected value / value at stake": a
customer without an action row costs nothing and has nothing at stake, so one who gains a row
of 0 (held out, not served) is a change of action and status, not of cost (the new-user trial
read "cost 251" where the cost of 90 customers changed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.plan.dry_run import _changed


def test_no_row_is_an_amount_of_0() -> None:
    before = pd.Series([np.nan, np.nan, 1.5, 2.0, np.nan], dtype=object)
    after = pd.Series([0.0, 0.06, 1.5, 0.0, np.nan], dtype=object)
    assert _changed("cost", before, after).tolist() == [False, True, False, True, False]
    assert _changed("expected_value", before, after).tolist() == [
        False, True, False, True, False]


def test_a_text_field_without_a_row_is_still_a_change() -> None:
    before = pd.Series([np.nan, "email"], dtype=object)
    after = pd.Series(["", "email"], dtype=object)
    assert _changed("channel", before, after).tolist() == [True, False]
