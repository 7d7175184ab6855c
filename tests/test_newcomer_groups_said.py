"""How `cvm score` says each group of one-time buyers was valued: a finance analyst's trial
read "4 or more periods ago EUR 0.00 (441 earlier, pooled with older ones)" for the oldest
group, which has none older, valued 0 because it had too few customers."""

from __future__ import annotations

from engine.value.newcomers import NewcomerGroup, Newcomers


def test_each_group_says_how_it_was_valued() -> None:
    found = Newcomers((
        NewcomerGroup("bought in the last period", 900, 12.0, 12.0, False),
        NewcomerGroup("1 period ago", 100, 3.0, 5.0, True),
        NewcomerGroup("2 periods ago", 50, 1.0, 0.0, True, True),
        NewcomerGroup("3 or more periods ago", 441, 2.0, 0.0, True, True)), ())
    assert found.describe(lambda v: f"EUR {v:.2f}") == (
        "bought in the last period EUR 12.00 (900 earlier); 1 period ago EUR 5.00 (100 "
        "earlier, pooled with older ones); 2 periods ago EUR 0.00 (50 earlier, fewer than "
        "retention.min_customers even with older ones); 3 or more periods ago EUR 0.00 (441 "
        "earlier, fewer than retention.min_customers)")
