"""cvm measure's and learning's array paths against plain computations (as
tests/test_fast_paths.py does for loading): the per-customer window sums (rows in day order,
purchases counted over the positive rows kept apart) and learning's tallies (labels and a
table of flags for the distinct customers), on random data built to hit their edge cases:
days in and out of order, ties, refunds, zero and NaN amounts, windows past either end,
customers absent from the transactions, contacts without a channel, customers in several
runs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from engine.activation.learned import Counts, Tally
from engine.data.load import LoadReport, Transactions
from engine.history.learn import _tallies
from engine.history.measured import Measured, Sums, _sums


def _transactions(rng: np.random.Generator) -> Transactions:
    n, rows = int(rng.integers(1, 12)), int(rng.integers(0, 80))
    ids = np.array([f"C{i:03d}" for i in range(n)], dtype=object)
    day = rng.integers(100, 100 + int(rng.integers(1, 30)), rows).astype(np.int32)
    if rng.random() < 0.4:
        day = np.sort(day)
    amount = np.round(rng.normal(10, 20, rows), 2)
    amount[rng.random(rows) < 0.1] = 0.0
    amount[rng.random(rows) < 0.05] = np.nan
    margin = np.round(amount * rng.random(rows), 3)
    return Transactions(ids, pa.array(ids.tolist()), rng.integers(0, n, rows).astype(np.intp),
                        day, amount, margin, None, None, (), dt.date(2000, 1, 1),
                        LoadReport("test"))


@pytest.mark.parametrize("seed", range(40))
def test_window_sums_are_the_plain_ones(seed: int) -> None:
    rng = np.random.default_rng(seed)
    tx = _transactions(rng)
    n = len(tx.customer_ids)
    codes = rng.integers(-1, n, 15)  # -1: a customer without any transaction
    cache: Sums = {}
    for _ in range(6):  # windows share the cache, as the runs of cvm measure do
        first = int(rng.integers(90, 135))
        last = first + int(rng.integers(0, 20))
        bought, revenue, margin = _sums(tx, codes, first, last, cache)
        # plain: each customer's rows in day order (ties in row order), summed one by one
        order = sorted(range(len(tx.day)), key=lambda i: (int(tx.day[i]), i))
        for k, c in enumerate(codes):
            mine = [i for i in order if tx.code[i] == c and first <= tx.day[i] < last]
            total_r, total_m = 0.0, 0.0
            for i in mine:
                total_r += float(tx.amount[i])
                total_m += float(tx.margin[i])
            assert bought[k] == sum(1 for i in mine if tx.amount[i] > 0)
            assert np.array_equal([revenue[k], margin[k]], [total_r, total_m], equal_nan=True)


def _measured(rng: np.random.Generator) -> tuple[Measured, np.ndarray, np.ndarray]:
    rows = int(rng.integers(1, 60))
    channels = sorted(["email", "sms", "call"][:int(rng.integers(1, 4))])  # text order
    code = rng.integers(-1, 8, rows)
    ids = np.array([None if c >= 0 else f"X{rng.integers(0, 3)}" for c in code], dtype=object)
    m = Measured([], rng.integers(1, 4, rows), code, ids, np.zeros(rows, dtype=np.int64),
                 ["c"], rng.integers(-1, len(channels), rows), channels,
                 rng.random(rows) < 0.6, rng.random(rows) < 0.3, np.zeros(rows),
                 pd.DataFrame())
    picked = np.flatnonzero(rng.random(rows) < 0.8)
    return m, picked, rng.random(len(picked)) < 0.4


@pytest.mark.parametrize("seed", range(40))
def test_learning_tallies_are_the_plain_ones(seed: int) -> None:
    m, rows, converted = _measured(np.random.default_rng(seed))
    groups: dict[str, list[tuple[object, bool]]] = {}
    for r, won in zip(rows.tolist(), converted.tolist(), strict=True):
        who = int(m.code[r]) if m.code[r] >= 0 else m.customer_id[r]
        if m.holdout[r]:
            names = ["holdout"]
        elif m.allocated[r] and m.channel[r] >= 0:
            names = ["assigned", "contacted", m.channels[m.channel[r]]]
        else:
            names = ["assigned"]
        for name in names:
            groups.setdefault(name, []).append((who, won))

    def plain(name: str) -> Tally:
        got = groups.get(name, [])
        return Tally(len({w for w, _ in got}), len(got), sum(x for _, x in got))

    want = Counts({c: plain(c) for c in sorted(m.channels) if c in groups},
                  plain("contacted"), plain("assigned"), plain("holdout"))
    found = _tallies(m, rows, converted)
    assert found == want
    assert list(found.channels) == list(want.channels)
