"""The shortcuts of measure's and learning's array paths (issue 13's speed round) against the
plain computations: transactions in day order, shuffled or grouped by customer give the same
window sums; every row a purchase (the codes reused, no copy) or not; window sums forgotten
and made again; a run's groups found by a pass per campaign or by a sort; campaign codes in
narrow integers; a few ids looked up in many by hashing the few."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from engine.activation.ids import _index_in
from engine.data.load import LoadReport, Transactions
from engine.history import measured
from engine.history.columnar import categories
from engine.history.measured import Measured, Sums, _sums, groups


def _tx(rng: np.random.Generator, layout: str, refunds: bool) -> Transactions:
    n = int(rng.integers(1, 15))
    per = rng.integers(0, 8, n)
    code = np.repeat(np.arange(n), per).astype(np.intp)  # grouped by customer
    day = rng.integers(200, 200 + int(rng.integers(1, 40)), len(code)).astype(np.int32)
    order = {"customer": np.arange(len(code)), "shuffled": rng.permutation(len(code)),
             "day": np.argsort(day, kind="stable")}[layout]
    amount = np.round(rng.uniform(0.5, 90, len(code)), 2)
    if refunds:
        amount[rng.random(len(code)) < 0.2] *= -1
        amount[rng.random(len(code)) < 0.1] = 0.0
    margin = np.round(amount * rng.random(len(code)), 3)
    ids = np.array([f"K{i:03d}" for i in range(n)], dtype=object)
    return Transactions(ids, pa.array(ids.tolist()), code[order], day[order], amount[order],
                        margin[order], None, None, (), dt.date(2001, 1, 1), LoadReport("t"))


def _plain(tx: Transactions, codes: np.ndarray, first: int, last: int) -> list[tuple]:
    """Each customer's rows in day order (ties in row order), summed one by one."""
    rows = sorted(range(len(tx.day)), key=lambda i: (int(tx.day[i]), i))
    out = []
    for c in codes:
        mine = [i for i in rows if tx.code[i] == c and first <= tx.day[i] < last]
        revenue = margin = 0.0
        for i in mine:
            revenue += float(tx.amount[i])
            margin += float(tx.margin[i])
        out.append((sum(1 for i in mine if tx.amount[i] > 0), revenue, margin))
    return out


@pytest.mark.parametrize("layout", ["customer", "shuffled", "day"])
@pytest.mark.parametrize("refunds", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_window_sums_whatever_the_row_order(layout: str, refunds: bool, seed: int,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    tx = _tx(rng, layout, refunds)
    monkeypatch.setattr(measured, "KEEP", 2)  # windows forgotten and made again
    monkeypatch.setattr(measured, "BLOCK", 7)  # the days counted over several blocks
    cache: Sums = {}
    n = len(tx.customer_ids)
    codes = rng.integers(-1, n, 12)
    windows = [(int(rng.integers(195, 245)), int(rng.integers(0, 25))) for _ in range(5)]
    for first, days in windows + windows[::-1]:
        found = _sums(tx, codes, first, first + days, cache)
        plain = _plain(tx, codes, first, first + days)
        for k, c in enumerate(codes):
            want = plain[k] if c >= 0 else (0, 0.0, 0.0)
            assert (found[0][k], found[1][k], found[2][k]) == want
    if not refunds and len(tx.day):  # every row a purchase: the codes are the purchases
        assert cache[(1, 0, "bought")] is cache[(1, 0, "code")]


@pytest.mark.parametrize("seed", range(15))
def test_groups_by_pass_and_by_sort_agree(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(0, 60))
    run = np.sort(rng.choice([3, 5, 9], rows))
    names = ["a", "b", "c", "d"][:int(rng.integers(1, 5))]
    campaign = rng.integers(-1, len(names), rows).astype(np.int8)
    runs = [(r, f"r{r}", "2025-01-01") for r in (3, 5, 7, 9)]  # run 7 has no row
    m = Measured(runs, run, np.zeros(rows, dtype=np.int64), np.zeros(0, dtype=object),
                 campaign, names, np.zeros(0, dtype=np.int64), [], np.zeros(rows, bool),
                 np.zeros(rows, bool), np.zeros(rows), pd.DataFrame())
    by_pass = [(r, k, g.tolist()) for r, k, g in groups(m)]
    monkeypatch.setattr(measured, "FEW", 0)
    by_sort = [(r, k, g.tolist()) for r, k, g in groups(m)]
    plain = [(r, k, [i for i in range(rows) if run[i] == r and names[campaign[i]] == k
                     and campaign[i] >= 0]) for r in (3, 5, 9) for k in names]
    assert by_pass == by_sort == [g for g in plain if g[2]]


def test_campaign_codes_in_narrow_integers() -> None:
    texts = [f"c{k:03d}" for k in range(300)]
    column = pa.chunked_array([pa.array(["c002", None, "c001"]).dictionary_encode(),
                               pa.array([*texts, None]).dictionary_encode()])
    codes, words = categories(column)
    assert codes.dtype == np.int16 and words == sorted(texts)
    assert codes.tolist() == [2, -1, 1, *range(300), -1]
    small, few = categories(pa.chunked_array([pa.array(["x", "y", None, "x"])]))
    assert small.dtype == np.int8 and small.tolist() == [0, 1, -1, 0] and few == ["x", "y"]


@pytest.mark.parametrize("seed", range(30))
def test_a_few_ids_looked_up_in_many(seed: int) -> None:
    rng = np.random.default_rng(seed)
    value_set = pa.array([f"C{int(i)}" for i in rng.integers(0, 300, 200)])  # repeats
    chunks = [pa.array([None if rng.random() < 0.1 else f"C{int(i)}"
                        for i in rng.integers(0, 320, int(rng.integers(0, 20)))],
                       type=pa.string()) for _ in range(3)]
    found = pa.chunked_array(chunks, type=pa.string())
    want = np.asarray(pc.index_in(found, value_set=value_set).fill_null(-1).to_numpy())
    assert _index_in(found, value_set).tolist() == want.tolist()
