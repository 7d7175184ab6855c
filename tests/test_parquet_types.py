"""customers.parquet has the same schema on a first run as on the next: the columns the
previous run fills (previous_tier, previous_stage, last_outcome) were typed null when every
value was missing, text later, which a warehouse load with a fixed schema refuses (an
integrator's find)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.history_runs import retail_copy, two_runs


def test_the_value_table_s_parquet_schema_is_the_same_on_every_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    runs = two_runs(retail_copy(tmp_path), tmp_path, "2025-07-01")
    first = pq.read_schema(runs.first / "customers.parquet")
    second = pq.read_schema(runs.second / "customers.parquet")
    for name in ("previous_tier", "previous_stage", "last_outcome"):
        assert first.field(name).type == first.field("customer_id").type, name
    assert first == second
