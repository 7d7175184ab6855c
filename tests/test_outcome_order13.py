"""Two responses of one customer on one day: ``last_outcome`` and the contact policies'
quiet days read the same fact, the one outcome a fixed precedence puts last (README "Value-change
attributes"), whatever order the files were imported in."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import numpy as np
import pytest

from engine.activation.contact import suppress
from engine.history import record
from engine.history.changes import add_changes
from engine.history.contacts import contact_log
from engine.history.responses import import_responses
from engine.project.contact_policies import ContactPolicies, ContactPolicy
from tests.history_runs import TIERS, open_history, snapshot

AS_OF = dt.date(2025, 2, 1)
HEADER = "customer_id,campaign,date,outcome\n"
# one customer per pair of outcomes on one day (C0000003: a day apart, the later wins)
A = ("C0000000,retain_high_value,2025-01-30,converted\n"
     "C0000001,retain_high_value,2025-01-30,responded\n"
     "C0000002,retain_high_value,2025-01-30,complained\n"
     "C0000003,retain_high_value,2025-01-29,complained\n")
B = ("C0000000,retain_high_value,2025-01-30,complained\n"
     "C0000001,retain_high_value,2025-01-30,converted\n"
     "C0000002,retain_high_value,2025-01-30,opted_out\n"
     "C0000003,retain_high_value,2025-01-30,responded\n")
QUIET = ContactPolicies((ContactPolicy("quiet", "quiet_after", "", None, None, 0, 14,
                                       ("converted", "complained"), 2),),
                        "policies/contact_policies.yaml")


def read(history_url: str, tmp_path: Path, first: str, second: str
         ) -> tuple[list[str], list[str]]:
    store = open_history(history_url, tmp_path)
    try:
        frame = snapshot(5)
        record.record_run(store, run_id="r1", as_of=dt.date(2025, 1, 1), project="t",
                          inputs={}, snapshot=frame)
        for name, text in (("first.csv", first), ("second.csv", second)):
            (tmp_path / name).write_text(HEADER + text)
            import_responses(store, tmp_path / name, name)
        log = contact_log(store, as_of=AS_OF, window=14, source="test")
        table = frame[["customer_id", "value_tier", "total_value"]].copy()
        table["customer_id"] = table["customer_id"].astype("string[pyarrow]")
        changed = add_changes(table, store, as_of=AS_OF, tiers=TIERS)
    finally:
        store.close()
    ids = frame["customer_id"].to_numpy(dtype=object)
    found = suppress(QUIET, log, ids, np.full(5, "retain_high_value", dtype=object),
                     ["email"], np.ones((5, 1), dtype=bool))
    return changed["last_outcome"].fillna("").tolist(), found.reason.tolist()


def test_the_import_order_changes_no_attribute_and_no_decision(
        history_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    (tmp_path / "ab").mkdir()
    (tmp_path / "ba").mkdir()
    other = f"sqlite:///{tmp_path / 'ba' / 'history.sqlite'}"
    if history_url.startswith("postgresql"):  # a second empty database on the same server
        from tests.pg_server import new_database

        other = new_database(request.getfixturevalue("postgres_server"),
                             f"cvm_test_{uuid.uuid4().hex[:12]}")
    ab = read(history_url, tmp_path / "ab", A, B)
    ba = read(other, tmp_path / "ba", B, A)
    assert ab == ba
    outcome, reason = ab
    assert outcome == ["complained", "converted", "opted_out", "responded", ""]
    assert reason == ["contact policy quiet: complained 2 days ago (quiet for 14 days)",
                      "contact policy quiet: converted 2 days ago (quiet for 14 days)",
                      "opted out on 2025-01-30 (campaign retain_high_value); contact policy "
                      "quiet: complained 2 days ago (quiet for 14 days)",
                      "contact policy quiet: complained 3 days ago (quiet for 14 days)", ""]
