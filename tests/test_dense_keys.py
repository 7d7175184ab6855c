"""Customer ids ranked without hashing (engine/data/dense_keys.py): the same codes and the same
sorted ids as the hashed route, on ids whose bytes span few values and on ids that do not."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from engine.data import codes as codes_module
from engine.data.codes import customer_codes
from engine.data.dense_keys import dense_ranks
from engine.data.packing import pack


def _expected(ids: list[str]) -> tuple[list[int], list[str]]:
    distinct = sorted(set(ids), key=lambda s: s.encode())
    place = {v: i for i, v in enumerate(distinct)}
    return [place[v] for v in ids], distinct


CASES = {
    "digits of one width": lambda rng: [f"{v:07d}" for v in rng.integers(0, 5_000, 20_003)],
    "a shared prefix": lambda rng: [f"C{v:07d}" for v in rng.integers(0, 3_000, 9_001)],
    "8 bytes": lambda rng: [f"{v:08d}" for v in rng.integers(10_000_000, 10_004_000, 7_777)],
    "widths that differ": lambda rng: [str(v) for v in rng.integers(0, 3_000, 5_000)],
    "letters and digits": lambda rng: [f"{chr(65 + a)}{b:03d}" for a, b in zip(
        rng.integers(0, 3, 4_000), rng.integers(0, 1_000, 4_000), strict=True)],
    "sparse": lambda rng: [f"{v:08d}" for v in rng.integers(0, 99_999_999, 3_000)],
    "one id": lambda rng: ["C1"] * 1_500,
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("runs", [False, True])
def test_customer_codes_agree_with_the_hashed_route(case: str, runs: bool,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(len(case))
    ids = CASES[case](rng)
    if runs:
        ids = sorted(ids)
    text = pa.chunked_array([pa.array(ids[:len(ids) // 3]), pa.array(ids[len(ids) // 3:])])
    want_codes, want_ids = _expected(ids)
    codes, distinct = customer_codes(text)
    assert codes.dtype == np.intp
    assert codes.tolist() == want_codes and distinct.to_pylist() == want_ids
    monkeypatch.setattr(codes_module, "dense_ranks", lambda keys: None)
    hashed, hashed_ids = customer_codes(text)
    assert np.array_equal(hashed, codes) and hashed_ids.equals(distinct)


@pytest.mark.parametrize("case,dense", [("digits of one width", True), ("a shared prefix", True),
                                        ("8 bytes", True), ("sparse", False),
                                        ("widths that differ", False)])
def test_the_dense_route_is_taken_only_where_the_bytes_span_few_values(case: str,
                                                                       dense: bool) -> None:
    packed = pack(pa.chunked_array([pa.array(CASES[case](np.random.default_rng(1)))]))
    assert packed is not None
    ranked = dense_ranks(packed.keys)
    assert (ranked is not None) == dense
    if ranked is not None:
        codes, distinct = ranked
        assert np.array_equal(distinct[codes], packed.keys)  # each key its own place
        assert np.all(distinct[1:] > distinct[:-1])  # in order, once each


def test_no_keys_and_a_table_too_large() -> None:
    assert dense_ranks(np.zeros(0, dtype=np.uint64)) is None
    # two keys 2^40 apart in one byte each: 2 x 2^8 x ... values; a few keys, a huge table
    keys = np.array([0, (1 << 56) - 1], dtype=np.uint64)
    assert dense_ranks(keys) is None


def test_keys_spanning_every_byte_are_declined_not_overflowed() -> None:
    # each of the 8 bytes spans 256 values: 2^64 in all, past int64 in numpy's product
    keys = np.array([0, (1 << 64) - 1], dtype=np.uint64)
    assert dense_ranks(keys) is None


def test_more_keys_than_a_block_rank_in_order() -> None:
    # 300,000 keys (4.6 blocks of 65,536), 150,000 distinct even numbers in random order
    rng = np.random.default_rng(7)
    distinct_numbers = np.arange(150_000, dtype=np.uint64) * np.uint64(2)
    keys = rng.permutation(np.concatenate([distinct_numbers, distinct_numbers]))
    ranked = dense_ranks(keys)
    assert ranked is not None
    codes, distinct = ranked
    assert np.array_equal(distinct, distinct_numbers)
    assert np.array_equal(codes, keys // np.uint64(2))
