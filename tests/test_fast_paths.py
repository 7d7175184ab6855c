"""The fast loading and feature paths against plain reference implementations.

Each fast path (packed ids, run-coded orders, the count-table duplicate filter, windowed
distinct days) must give exactly what the obvious slow computation gives, on random data
built to hit its edge cases: empty and blank ids, ids of mixed lengths, ids longer than
8 bytes, NaN values, refunds listed after their order, and data sizes on both sides of the
thresholds where the code switches strategy.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from engine.data.codes import customer_codes, order_codes
from engine.data.dedupe import duplicate_rows
from engine.data.packing import pack
from engine.value.occasions import active_periods, first_of_day, first_of_order, order_counts

ROOT = Path(__file__).resolve().parents[1]

POOL = ["", " ", "\t", "1", "10", "2", "A", "AB", "AB\x00", "ABCDEFGH", "ABCDEFGI",
        "ABCDEFGHI", "O0000001", "O0000002", "zz", "é", "12345678"]


def _chunked(values: list[str | None]) -> pa.ChunkedArray:
    half = len(values) // 2
    return pa.chunked_array([pa.array(values[:half], pa.string()),
                             pa.array(values[half:], pa.string())])


def _random_texts(rng: np.random.Generator, n: int) -> list[str]:
    choice = rng.integers(0, 4)
    pool = (POOL, ["ABCDEFGH", "ABCDEFGI", "12345678"], ["1", "22", "333", "4444", "0"],
            POOL[:6])[choice]
    values = [str(v) for v in rng.choice(pool, size=n)]
    return sorted(values) if rng.random() < 0.3 else values


@pytest.mark.parametrize("seed", range(40))
def test_order_codes_partition_rows_like_the_ids(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values: list[str | None] = list(_random_texts(rng, int(rng.integers(1, 80))))
    if rng.random() < 0.3:
        values = [None if v == "" else v for v in values]
    codes = order_codes(_chunked(values))
    ids = [None if v is None or not v.strip() else v for v in values]
    for i, a in enumerate(ids):
        assert (codes[i] == -1) == (a is None)
        for j, b in enumerate(ids):
            if a is not None and b is not None:
                assert (codes[i] == codes[j]) == (a == b)


@pytest.mark.parametrize("seed", range(40))
def test_customer_codes_follow_the_sorted_ids(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = [v for v in _random_texts(rng, int(rng.integers(1, 80))) if v.strip()] or ["x"]
    if seed % 10 == 0:  # large enough to be coded in two halves
        ids = ids * (250_000 // len(ids) + 1)
    codes, distinct = customer_codes(_chunked(list(ids)))
    expected = sorted(set(ids), key=lambda s: s.encode())
    assert distinct.to_pylist() == expected
    assert [expected[c] for c in codes[:500]] == ids[:500]
    assert np.array_equal(codes, pd.Index(expected).get_indexer(ids))


@pytest.mark.parametrize("kind", ["short", "uuid"])
@pytest.mark.parametrize("layout", ["runs", "runs then scattered", "scattered"])
def test_customer_codes_of_ids_in_runs(kind: str, layout: str) -> None:
    # an export sorted by customer: only the first row of each run is looked up
    rng = np.random.default_rng(3)
    distinct = [f"C{i:05d}" if kind == "short" else str(uuid.UUID(int=int(rng.integers(1 << 62))
                                                                  << 66 | i)) for i in range(700)]
    ids = [v for v in distinct for _ in range(int(rng.integers(1, 6)))]
    if layout != "runs":
        many = 500 if layout == "runs then scattered" else 2_000  # runs still most rows
        scattered = [distinct[i] for i in rng.integers(0, len(distinct), many)]
        ids = ids + scattered if layout == "runs then scattered" else scattered
    codes, union = customer_codes(_chunked(ids))
    expected = sorted(set(ids), key=lambda s: s.encode())
    assert union.to_pylist() == expected
    assert np.array_equal(codes, pd.Index(expected).get_indexer(ids))


def test_packed_keys_are_one_to_one_and_sort_like_the_text() -> None:
    short = ["", "0", "00", "007", "7", "A", "A\x00", "AB", "ab", "é", "zzzzzzz"]
    packed = pack(_chunked(short))
    assert packed is not None and packed.width == 7
    order = np.argsort(packed.keys, kind="stable")
    assert [short[i] for i in order] == sorted(short, key=lambda s: s.encode())
    assert len(set(packed.keys.tolist())) == len(short)
    assert packed.text(packed.keys).to_pylist() == short
    full = pack(_chunked(["ABCDEFGH", "12345678"]))
    assert full is not None and full.width == 8
    assert full.text(full.keys).to_pylist() == ["ABCDEFGH", "12345678"]
    assert pack(_chunked(["1234567", "12345678"])) is None  # 8 bytes and shorter: no room
    assert pack(_chunked(["123456789"])) is None


@pytest.mark.parametrize("n", [1, 2, 50, 500, 250_000])
def test_duplicate_rows_match_pandas(n: int) -> None:
    rng = np.random.default_rng(n)
    k = max(2, n // 20)  # few distinct values: many duplicates
    columns = [rng.integers(0, k, n), rng.integers(0, 3, n).astype(np.int32),
               np.round(rng.integers(0, 4, n) * 1.5, 2),
               np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 2, n).astype(float))]
    frame = pd.DataFrame({i: c.view(np.int64) if c.dtype == np.float64 else c
                          for i, c in enumerate(columns)})
    assert np.array_equal(duplicate_rows(columns), frame.duplicated().to_numpy())


def test_duplicate_rows_compare_few_candidates_when_the_rows_outnumber_the_buckets(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # at 3M customers (28.5M rows, more than the count table's 2^24 buckets) most rows shared a
    # bucket with another, and 21.8M of them went on to the exact comparison (5.5 s, 6 times
    # the 1M time): the filter goes on with other slices of the hash while it leaves many
    from engine.data import dedupe

    monkeypatch.setattr(dedupe, "_BUCKET_BITS", 13)  # 8,192 buckets: as 2^25 at 28.5M rows
    rng = np.random.default_rng(5)
    n = 7_000
    columns = [rng.integers(0, 1 << 62, n), rng.integers(0, 3, n)]
    columns[0][n - 10:] = columns[0][:10]  # ten duplicate rows, at the end
    columns[1][n - 10:] = columns[1][:10]
    compared: list[int] = []
    exact = pd.Series.duplicated

    def counting(self: pd.Series, *args: object, **kwargs: object) -> pd.Series:
        compared.append(len(self))
        return exact(self, *args, **kwargs)

    monkeypatch.setattr(pd.Series, "duplicated", counting)
    found = duplicate_rows(columns)
    assert np.flatnonzero(found).tolist() == list(range(n - 10, n))
    assert compared and compared[0] < n // 32  # about 3 % at most: 22 % before


@pytest.mark.parametrize("customers,days,sort", [(5, 3, True), (300, 900, False),
                                                 (2_000_000, 40, False), (10, 1, True)])
def test_first_of_day_marks_the_first_row_of_each_customer_day(customers: int, days: int,
                                                               sort: bool) -> None:
    rng = np.random.default_rng(customers)
    n = 5_000
    code = rng.integers(0, min(customers, 400), n).astype(np.intp)
    day = rng.integers(18_000, 18_000 + days, n).astype(np.int32)
    if sort:
        day = np.sort(day)
    expected = ~pd.DataFrame({"c": code, "d": day}).duplicated().to_numpy()
    assert np.array_equal(first_of_day(code, day, customers), expected)


def test_orders_are_distinct_order_ids_per_customer() -> None:
    code = np.array([0, 0, 0, 1, 1, 2, 2, 2], dtype=np.intp)
    day = np.array([1, 1, 2, 1, 1, 1, 1, 3], dtype=np.int32)

    def orders(order: np.ndarray) -> list[int]:
        return np.bincount(code[first_of_order(code, day, order, 3)], minlength=3).tolist()

    assert orders(np.array([5, 5, 6, 7, 7, 8, 8, 9])) == [2, 1, 2]
    # order 5 shared by customers 0 and 1; customer 2 without ids: one order per purchase day
    assert orders(np.array([5, 5, 6, 5, 7, -1, -1, -1])) == [2, 2, 2]


@pytest.mark.parametrize("seed,shared", [(0, False), (1, True), (2, False)])
def test_first_of_order_marks_the_first_row_of_each_order(seed: int, shared: bool) -> None:
    """Against a plain reference: an order is (customer, id), or (customer, day) without id."""
    rng = np.random.default_rng(seed)
    n = 4_000
    code = rng.integers(0, 300, n).astype(np.intp)
    day = rng.integers(18_000, 18_400, n).astype(np.int32)
    order = rng.integers(0, 900, n) if shared else code * 10 + rng.integers(0, 10, n)
    order = np.where(rng.random(n) < 0.3, -1, order)  # blank ids
    order = np.unique(order, return_inverse=True)[1].astype(np.int64) - 1  # dense, -1 blank
    key = np.where(order >= 0, order, -1 - day.astype(np.int64))
    expected = ~pd.DataFrame({"c": code, "k": key}).duplicated().to_numpy()
    assert np.array_equal(first_of_order(code, day, order, 300), expected)
    counts = np.bincount(code[expected], minlength=300)
    assert np.array_equal(order_counts(code, day, order, 300), counts)
    ided = order >= 0  # every row with an id: the owners' shortcut when ids are not shared
    assert np.array_equal(order_counts(code[ided], day[ided], order[ided], 300),
                          np.bincount(code[ided][first_of_order(code[ided], day[ided],
                                                                order[ided], 300)],
                                      minlength=300))


@pytest.mark.parametrize("customers,days", [(300, 900), (2_000_000, 400)])
def test_active_periods_count_distinct_periods(customers: int, days: int) -> None:
    rng = np.random.default_rng(days)
    n = 5_000
    code = rng.integers(0, min(customers, 400), n).astype(np.intp)
    day = np.sort(rng.integers(18_000, 18_000 + days, n)).astype(np.int32)
    end = 18_000 + days + 3
    period = (end - 1 - day) // 30
    expected = pd.DataFrame({"c": code, "p": period}).drop_duplicates()["c"].value_counts()
    got = active_periods(code, day, end, 30, customers)  # a flags table, or slot windows
    assert got[expected.index.to_numpy()].tolist() == expected.tolist()
    assert got.sum() == expected.sum()


def test_ids_with_surrounding_spaces_are_the_same_customer(make_project: Callable[..., Path]
                                                         ) -> None:
    from engine.data.load import load_transactions
    from engine.project.config import load_config

    config = """\
    name: spaces
    data:
      transactions: tx.csv
      columns: {customer_id: cust, date: day, amount: amount, order_id: order}
    currency: EUR
    """
    tx = ("cust,day,amount,order\n"
          "a,2024-01-10,100,1\n"
          " a ,2024-02-15,50,2\n"
          "b,2024-01-20,200,3\n"
          "b,2024-01-20,200,3\n")
    loaded = load_transactions(load_config(make_project(config, tx)))
    assert loaded.customer_ids.tolist() == ["a", "b"]
    assert loaded.code.tolist() == [0, 0, 1]
    assert loaded.report.duplicates == 1


def test_row_order_does_not_change_the_value_table(tmp_path: Path) -> None:
    """The bundled example scored as shipped and with its rows shuffled: the run-based
    shortcuts apply to one and not the other, and the tables must agree."""
    from engine.project.config import load_config
    from engine.value.score import output_frame, score
    from tests.conftest import copy_example_project

    project = copy_example_project(tmp_path)
    shuffled = tmp_path / "shuffled.csv"
    rows = pd.read_csv(ROOT / "examples" / "retail" / "transactions.csv", dtype=str,
                       keep_default_na=False)
    rows.sample(frac=1.0, random_state=3).to_csv(shuffled, index=False)
    text = (project / "cvm.yaml").read_text()
    shipped = f"{ROOT}/examples/retail/transactions.csv"
    assert shipped in text
    (project / "cvm.yaml").write_text(text.replace(shipped, str(shuffled)))
    original = score(load_config(ROOT)).table
    reordered = score(load_config(project)).table
    pd.testing.assert_frame_equal(output_frame(original), output_frame(reordered))
