"""The contact window, one definition (README "Value-change attributes", "Contact policies"):
"the last D days" are the D days ending on the as-of date, the as-of date and the D-1 days
before it; a run on the as-of date is this run, so a contact counts 1 to D-1 days back. Of 30
days: 29 days back counts, 30 does not, for contacts_last_30_days and a cap alike."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from engine.activation.contact import suppress
from engine.history import record
from engine.history.changes import add_changes
from engine.history.contacts import contact_log
from engine.project.contact_policies import ContactPolicies, ContactPolicy
from tests.history_runs import TIERS, open_history, snapshot

AS_OF = dt.date(2025, 3, 31)
MONTHLY = ContactPolicies((ContactPolicy("monthly", "cap", "", None, None, 1, 30, (), 2),),
                          "policies/contact_policies.yaml")


def test_29_days_back_counts_and_30_does_not(history_url: str, tmp_path: Path) -> None:
    store = open_history(history_url, tmp_path)
    base = snapshot(3).assign(customer_id=["a", "b", "c"])
    try:
        # a: contacted 30 days back and 29; b: 30 days back only; c: never
        for back, status in ((30, ["allocated", "allocated", None]),
                             (29, ["allocated", None, None])):
            record.record_run(store, run_id=f"r{back}", as_of=AS_OF - dt.timedelta(days=back),
                              project="t", inputs={},
                              snapshot=base.assign(status=status, channel="email"))
        table = base[["customer_id", "value_tier", "total_value"]].copy()
        table["customer_id"] = table["customer_id"].astype("string[pyarrow]")
        got = add_changes(table, store, as_of=AS_OF, tiers=TIERS)
        log = contact_log(store, as_of=AS_OF, window=MONTHLY.window, source="test")
    finally:
        store.close()
    assert got["contacts_last_30_days"].tolist() == [1, 0, 0]
    assert pd.Series(got["days_since_last_contact"]).fillna(-1).tolist() == [29, 30, -1]
    found = suppress(MONTHLY, log, np.array(["a", "b", "c"], dtype=object),
                     np.array(["x"] * 3, dtype=object), ["email"], np.ones((3, 1), dtype=bool))
    assert found.reason.tolist() == [
        "contact policy monthly: 1 contact in the last 30 days (at most 1)", "", ""]
