"""The report's "Two measures of customer equity" table adds up as shown: a finance analyst's
trial found a difference of +158,113 split into +113,731 and +44,381 (158,112), each figure
rounded to the unit on its own."""

from __future__ import annotations

from engine.report.model_sections import Reconciliation, SegmentEquity, reconciliation_rows


def test_the_shown_parts_add_up_to_the_shown_difference_and_the_rows_to_the_total() -> None:
    rec = Reconciliation(83051.4, SegmentEquity("counted", 10, 196782.4, 190000.0, 200000.0),
                         SegmentEquity("other", 5, 44381.4, 40000.0, 50000.0),
                         (241163.8, 230000.0, 250000.0))
    rows = reconciliation_rows(rec)
    assert [row[2] for row in rows] == ["83,051", "196,782", "44,382", "241,164", "+158,113"]
    assert rows[4][3] == "+113,731 on the same customers, +44,382 from the others"


def test_a_move_of_the_retention_rate_is_said_from_two_points() -> None:
    """README: the page says how much a move of r alone changed customer equity; a finance
    analyst's trial read it as said for any move (the code, from 2 points: now documented)."""
    import pandas as pd

    from engine.report.html import r_moved

    def frame(r0: float, r1: float) -> pd.DataFrame:
        return pd.DataFrame({"month": ["2025-01", "2025-02"], "retention_rate": [r0, r1]})

    assert r_moved(frame(0.616846, 0.615573), 0.025, 4) is None
    assert r_moved(frame(0.60, 0.581), 0.025, 4) is None  # 1.9 points
    assert r_moved(frame(0.15, 0.13), 0.025, 4) is not None  # 2 points, 0.0199999... in floats
    said = r_moved(frame(0.60, 0.63), 0.025, 4)
    k0, k1 = 0.60 / (1.025 - 0.60), 0.63 / (1.025 - 0.63)
    assert said == ("the retention rate r moved from 60.0% to 63.0% in Feb 2025 (it is "
                    "measured again each month over the last 4 periods): that alone changes "
                    f"every CLV, and customer equity, by +{(k1 / k0 - 1) * 100:.1f}%")
