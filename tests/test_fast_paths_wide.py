"""The fast paths for long ids, many categories and shuffled rows against plain computations.

Ids longer than 8 bytes are packed once a prefix they all share is set aside (``O`` of
``O000123456``), else hashed as text; category breadth and active periods are counted with a
table of flags while it is small beside the rows. Each must give exactly what the obvious
computation gives, on random data built for their edge cases: ids sharing a prefix, mixed
lengths, an id that is the prefix of others, non-ASCII prefixes, blank ids, UUIDs.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from engine.data.codes import customer_codes, order_codes
from engine.value.features import _category_breadth
from engine.value.occasions import active_periods

ROOT = Path(__file__).resolve().parents[1]


def _chunked(values: list[str | None]) -> pa.ChunkedArray:
    third = len(values) // 3
    return pa.chunked_array([pa.array(values[:third], pa.string()),
                             pa.array(values[third:], pa.string())])


def _long_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Ids that defeat the 8-byte packing, with ties on the first word and prefixes."""
    kind = int(rng.integers(0, 7))
    if kind == 5:  # a shared prefix, then 8 digits: packed once the prefix is set aside
        return [f"O{rng.integers(0, 10**8):08d}" for _ in range(n)]
    if kind == 6:  # a shared prefix that is a whole id, and non-ASCII in the prefix
        return [str(v) for v in rng.choice(["éé", "ééA", "ééAB", "ééABCDEFG", "ééB", "éé€"],
                                           size=n)]
    if kind == 0:  # UUID-like: one length, random bytes
        return [f"{rng.integers(0, 2**32):08x}-{rng.integers(0, 2**16):04x}-4abc-8def-"
                f"{rng.integers(0, 2**48):012x}" for _ in range(n)]
    if kind == 1:  # long numbers: a common prefix, then digits (9 to 12 bytes)
        return [f"ORDER{rng.integers(0, 10 ** int(rng.integers(4, 8)))}" for _ in range(n)]
    if kind == 2:  # prefixes of one another, and NUL bytes, around the word boundaries
        pool = ["ABCDEFGH", "ABCDEFGHI", "ABCDEFGH\x00", "ABCDEFGHIJKLMNOP", "ABCDEFGHIJKLMNOPQ",
                "ABCDEFGHIJKLMNO", "ABCDEFGI", "é" * 9, "ABCDEFGH" * 8, "a" * 63, "b" * 64]
        return [str(v) for v in rng.choice(pool, size=n)]
    if kind == 3:  # a few ids longer than 64 bytes: coded as text
        return [("x" * int(rng.integers(60, 70))) + str(rng.integers(0, 5)) for _ in range(n)]
    return [f"cust-{rng.integers(0, 50):03d}@example.com" for _ in range(n)]  # e-mails


@pytest.mark.parametrize("seed", range(30))
def test_long_customer_ids_are_coded_in_text_order(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = _long_ids(rng, int(rng.integers(1, 120)))
    if seed % 10 == 0:  # large enough to be coded in two halves, in slices
        ids = ids * (1_200_000 // len(ids) + 1)
    codes, distinct = customer_codes(_chunked(list(ids)))
    expected = sorted(set(ids), key=lambda s: s.encode())
    assert distinct.to_pylist() == expected
    assert np.array_equal(codes, pd.Index(expected).get_indexer(ids))


@pytest.mark.parametrize("seed", range(30))
def test_long_order_ids_partition_rows_like_the_ids(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values: list[str | None] = list(_long_ids(rng, int(rng.integers(1, 120))))
    if rng.random() < 0.5:  # runs of equal ids, as order lines are listed
        values = [v for v in values for _ in range(int(rng.integers(1, 4)))]
    for i in rng.integers(0, len(values), int(rng.integers(0, 4))):
        values[i] = [None, "", "  ", "\t"][int(rng.integers(0, 4))]
    codes = order_codes(_chunked(values))
    ids = [None if v is None or not v.strip() else v for v in values]
    expected = pd.Series(ids, dtype=object)
    assert np.array_equal(codes == -1, expected.isna().to_numpy())
    known = expected.notna().to_numpy()
    pairs = pd.DataFrame({"id": expected[known], "code": codes[known]})
    assert (pairs.groupby("id")["code"].nunique() == 1).all()  # one code per id
    assert (pairs.groupby("code")["id"].nunique() == 1).all()  # one id per code


@pytest.mark.parametrize("customers,categories,shuffled", [
    (50, 8, False), (3_000_000, 8, True), (2_100_000, 8, False), (1_000, 40_000, True),
    (40_000, 1_000, False)])
def test_category_breadth_counts_distinct_categories(customers: int, categories: int,
                                                     shuffled: bool) -> None:
    rng = np.random.default_rng(customers + categories)
    n = 20_000
    code = np.sort(rng.integers(0, customers, n)).astype(np.intp)
    cat = rng.integers(-1, categories, n).astype(np.int32)  # -1: no category
    if shuffled:
        perm = rng.permutation(n)
        code, cat = code[perm], cat[perm]
    frame = pd.DataFrame({"c": code, "k": cat})
    expected = frame[frame.k >= 0].groupby("c")["k"].nunique()
    got = _category_breadth(code, cat, customers, categories)
    assert len(got) == customers
    assert got[expected.index.to_numpy()].tolist() == expected.tolist()
    assert got.sum() == expected.sum()


@pytest.mark.parametrize("customers,days", [(3_000_000, 1100), (5_000_000, 400)])
def test_active_periods_count_distinct_periods_of_shuffled_rows(customers: int,
                                                                days: int) -> None:
    rng = np.random.default_rng(days)
    n = 20_000
    code = rng.integers(0, customers, n).astype(np.intp)
    day = rng.integers(18_000, 18_000 + days, n).astype(np.int32)  # in no order
    end = 18_000 + days + 3
    period = (end - 1 - day) // 90
    expected = pd.DataFrame({"c": code, "p": period}).drop_duplicates()["c"].value_counts()
    got = active_periods(code, day, end, 90, customers)
    assert got[expected.index.to_numpy()].tolist() == expected.tolist()
    assert got.sum() == expected.sum()


def test_uuid_ids_and_shuffled_rows_give_the_same_value_table(tmp_path: Path) -> None:
    """The same synthetic customers with short ids, with 36-character UUIDs, and with the
    UUID rows shuffled: the value tables agree customer for customer (each path of the
    loader and the feature counts taken by at least one of them)."""
    sys.path.insert(0, str(ROOT / "examples" / "retail"))
    import synth

    from engine.project.config import load_config
    from engine.value.score import output_frame, score

    tables = []
    for name, ids, shuffle in (("short", "short", False), ("uuid", "uuid", False),
                               ("shuffled", "uuid", True)):
        data = synth.generate(1500, seed=5, ids=ids)
        tx = data.transactions
        if shuffle:
            tx = tx.sample(frac=1.0, random_state=1).reset_index(drop=True)
        folder = tmp_path / name
        synth.write(synth.SynthData(tx, data.customers), folder)
        config = (ROOT / "cvm.yaml").read_text()
        config = config.replace("examples/retail/transactions.csv", "transactions.csv")
        config = config.replace("examples/retail/customers.csv", "customers.csv")
        (folder / "cvm.yaml").write_text(config)
        shutil.copytree(ROOT / "rules", folder / "rules")
        short_of = dict(zip(data.customers.CustomerID,
                            synth.generate(1500, seed=5).customers.CustomerID, strict=True))
        table = output_frame(score(load_config(folder)).table)
        if ids == "uuid":
            for column in ("customer_id", "referred_by"):
                table[column] = table[column].map(short_of)
        tables.append(table.sort_values("customer_id").reset_index(drop=True))
    for other in tables[1:]:  # counts exactly; the models' fits sum the customers in
        # another order (their codes follow the ids' text), so decimals agree to rounding
        pd.testing.assert_frame_equal(tables[0], other, rtol=1e-4)
