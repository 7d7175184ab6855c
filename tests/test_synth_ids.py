"""The synthetic generator's long-id option (``ids="uuid"``), used by the growth benchmark."""

from __future__ import annotations

import re

import pytest
import synth  # examples/retail/synth.py (pytest's pythonpath)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_uuid_ids_are_distinct_deterministic_and_the_rest_is_unchanged() -> None:
    short, long = synth.generate(400, seed=9), synth.generate(400, seed=9, ids="uuid")
    again = synth.generate(400, seed=9, ids="uuid")
    assert long.transactions.equals(again.transactions)
    assert long.customers.equals(again.customers)
    for frame, column in ((long.customers, "CustomerID"), (long.transactions, "OrderID")):
        assert frame[column].map(lambda v: bool(UUID.match(v))).all()
    assert long.customers.CustomerID.is_unique
    assert long.transactions.OrderID.nunique() == short.transactions.OrderID.nunique()
    # the same customers and orders, renamed one to one
    assert long.transactions.groupby("CustomerID").size().sort_values().tolist() == \
        short.transactions.groupby("CustomerID").size().sort_values().tolist()
    rest = ["OrderDate", "Category", "SalesChannel", "Qty", "NetAmount", "Cost"]
    assert long.transactions[rest].equals(short.transactions[rest])
    assert synth.generate(400, seed=10, ids="uuid").customers.CustomerID.iloc[0] != \
        long.customers.CustomerID.iloc[0]
    with pytest.raises(ValueError, match="unknown ids"):
        synth.generate(10, ids="long")  # type: ignore[arg-type]
