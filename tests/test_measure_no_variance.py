"""Why a measured campaign has no interval names every group without a variance: a CRM
manager's trial read "the holdout has 1 customer" for a run whose treated group was empty."""

from __future__ import annotations

from engine.history.measure_verdict import no_variance


def test_each_group_without_a_variance_is_named() -> None:
    assert no_variance(0, 1) == ("the treated group is empty and the holdout has 1 customer, "
                                 "too few for a variance")
    assert no_variance(5, 0) == "the holdout is empty"
    assert no_variance(1, 9) == "the treated group has 1 customer, too few for a variance"
    assert no_variance(0, 0) == "the treated group is empty and the holdout is empty"
    assert no_variance(2, 2) is None
