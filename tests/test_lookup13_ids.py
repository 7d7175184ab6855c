"""The history's ids looked up once per run (issue 13's look-up speed): the allocated rows of a
run come as indices into the run's whole id column (engine.history.columnar.read_blocks), and
engine.activation.ids.positions hashes each distinct id column once; the positions are those
of a plain look-up of every id, on random data built to hit the edge cases (equal runs,
missing ids, ids absent from the set, null ids, empty chunks)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from engine.activation.ids import id_texts, positions, positions_of
from engine.history.columnar import lookup, read_blocks
from engine.history.record import record_run
from engine.history.settings import parse
from engine.history.store import open_store
from engine.history.tables import run_actions


def _plain(ids: list[str | None], value_set: list[str]) -> np.ndarray:
    where = {v: k for k, v in enumerate(value_set)}
    return np.array([where.get(i, -1) if i is not None else -1 for i in ids], dtype=np.int64)


def _chunks(rng: np.random.Generator) -> tuple[pa.ChunkedArray, list[str | None]]:
    pool = [f"C{i:03d}" for i in range(30)]
    runs: list[pa.Array] = []
    flat: list[str | None] = []
    base: list[str | None] = []
    for _ in range(int(rng.integers(0, 5))):
        if not base or rng.random() < 0.4:  # a new run's ids, else the same as before
            base = [None if rng.random() < 0.05 else pool[int(k)]
                    for k in rng.integers(0, 30, int(rng.integers(0, 12)))]
        whole = pa.array(base, type=pa.string())
        if rng.random() < 0.5 or not base:
            runs.append(whole)
            flat.extend(base)
            continue
        rows = np.flatnonzero(rng.random(len(base)) < 0.5).astype(np.int32)
        runs.append(pa.DictionaryArray.from_arrays(pa.array(rows, type=pa.int32()), whole))
        flat.extend(base[int(r)] for r in rows)
    kind = pa.dictionary(pa.int32(), pa.string())
    if any(isinstance(r, pa.DictionaryArray) for r in runs):
        runs = [r if isinstance(r, pa.DictionaryArray) else
                pa.DictionaryArray.from_arrays(pa.array(np.arange(len(r), dtype=np.int32)), r)
                for r in runs]
        return pa.chunked_array(runs, type=kind), flat
    return pa.chunked_array(runs, type=pa.string()), flat


@pytest.mark.parametrize("seed", range(40))
def test_positions_are_a_plain_look_up(seed: int) -> None:
    rng = np.random.default_rng(seed)
    found, flat = _chunks(rng)
    value_set = [f"C{i:03d}" for i in rng.permutation(30)[:int(rng.integers(0, 25))]]
    expected = _plain(flat, value_set)
    assert np.array_equal(positions(found, pa.array(value_set, type=pa.string())), expected)
    code, missing = lookup(found, pa.array(value_set, type=pa.string()))
    assert np.array_equal(code, expected)
    assert missing.tolist() == [i if c < 0 else None for i, c in zip(flat, expected,
                                                                      strict=True)]
    assert id_texts(found, np.arange(len(flat))).tolist() == flat
    # with a group equal to the value set itself (no look-up for it), in one call
    whole = pa.array(value_set, type=pa.string())
    coded = pa.DictionaryArray.from_arrays(pa.array(np.arange(len(value_set))[::-1],
                                                    type=pa.int32()), whole)
    got = positions_of([found, whole, coded, np.array(flat[:3], dtype=object)], whole)
    assert [g.tolist() for g in got] == [expected.tolist(), list(range(len(value_set))),
                                         list(range(len(value_set)))[::-1],
                                         expected[:3].tolist()]


def test_allocated_ids_are_indices_into_each_runs_ids(tmp_path: Path) -> None:
    ids = np.array([f"C{i:03d}" for i in range(8)], dtype=object)
    status = [["allocated", "not_served", "holdout", "allocated", None, "allocated",
               "not_served", "allocated"],
              ["not_served", "allocated", "allocated", None, "holdout", "not_served",
               "allocated", "not_served"]]
    store = open_store(parse(str(tmp_path / "h.sqlite"), tmp_path, source="test"),
                       create=True)
    assert store is not None
    try:
        for k, states in enumerate(status):
            frame = pd.DataFrame({
                "customer_id": ids, "value_tier": "silver", "lifecycle_stage": "maturity",
                "total_value": 1.0, "value_score": 1.0, "action": "retain",
                "campaign": "c", "policy_id": "c", "channel": "email",
                "status": np.array(states, dtype=object), "holdout": False, "cost": 0.1,
                "value_at_stake": 1.0, "expected_response": 0.1})
            record_run(store, run_id=f"r{k}", as_of=dt.date(2025, 1, 6 + 7 * k),
                       project="p", inputs={}, snapshot=frame)
        with store.reading() as conn:
            made, run, sizes = read_blocks(conn, run_actions, [1, 2], ("customer_id",),
                                           status="allocated")
    finally:
        store.close()
    column = made.column("customer_id")
    assert column.type == pa.dictionary(pa.int32(), pa.string())
    # each run's whole id column, its allocated rows as indices: no id text copied
    assert [c.dictionary.to_pylist() for c in column.chunks] == [ids.tolist()] * 2
    assert [c.indices.to_pylist() for c in column.chunks] == [[0, 3, 5, 7], [1, 2, 6]]
    assert sizes == [4, 3] and run.tolist() == [1] * 4 + [2] * 3
    assert id_texts(column, np.arange(7)).tolist() == \
        ["C000", "C003", "C005", "C007", "C001", "C002", "C006"]
