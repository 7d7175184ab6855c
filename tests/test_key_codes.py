"""Integer keys coded part by part (engine.data.key_codes): every key's code names its own
value, equal keys share a code, and no table is larger than its part."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.data import key_codes
from engine.data.key_codes import factorized, factorized_holding

RNG = np.random.default_rng(11)
CASES = {
    "few keys": RNG.integers(0, 50, 1_000).astype(np.uint64),
    "random, repeated": RNG.integers(0, 2**64 - 1, 40_000, dtype=np.uint64)[
        RNG.integers(0, 40_000, 700_000)],
    "all distinct": RNG.permutation(np.arange(600_000, dtype=np.uint64) * np.uint64(977)),
    "one key": np.full(300_000, 42, dtype=np.uint64),
    "two keys": np.tile(np.array([0, 2**64 - 1], dtype=np.uint64), 150_000),
    "int64 with negatives": RNG.integers(-(2**62), 2**62, 500_000),
    "the top bits equal": np.arange(400_000, dtype=np.uint64) | np.uint64(0xFF << 56),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_codes_name_their_keys(case: str) -> None:
    keys = CASES[case]
    codes, uniques = factorized(keys)
    assert codes.dtype == np.intp and uniques.dtype == keys.dtype
    assert np.array_equal(uniques[codes], keys)
    assert len(uniques) == len(np.unique(keys))  # each distinct key once


@pytest.fixture
def hashed_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every array key_codes hands to pd.factorize, in order."""
    sizes: list[int] = []
    real = pd.factorize

    def counted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sizes.append(len(values))
        return real(values)

    monkeypatch.setattr(key_codes.pd, "factorize", counted)
    return sizes


def test_large_inputs_are_coded_in_parts(hashed_sizes: list[int]) -> None:
    sizes = hashed_sizes
    keys = RNG.integers(0, 2**64 - 1, 2_000_000, dtype=np.uint64)
    codes, uniques = factorized(keys)
    assert np.array_equal(uniques[codes], keys)
    assert sum(sizes) == len(keys) and max(sizes) < 200_000  # 16 parts of about 125,000


def test_shuffled_short_order_ids_are_coded_in_parts(hashed_sizes: list[int]) -> None:
    """Packed order ids in random order: few rise above every earlier one, so nearly all are
    coded by hashing; at 3M customers 28.5M keys in one hash table (10.5M distinct) made the
    load of a shuffled file 6 x its 1M time. They are coded part by part too, and each code
    still names one id."""
    import pyarrow as pa

    from engine.data.codes import order_codes

    numbers = RNG.permutation(np.repeat(RNG.choice(10**8, 300_000, replace=False), 3))
    ids = np.char.add("O", np.char.zfill(numbers.astype(str), 8))
    codes = order_codes(pa.chunked_array([pa.array(ids[:500_000]), pa.array(ids[500_000:])]))
    coded = list(hashed_sizes)
    # the same partition of the rows (pd.factorize still counted: `coded` was copied first)
    assert np.array_equal(pd.factorize(codes)[0], pd.factorize(ids)[0])
    assert sum(coded) > 800_000 and max(coded) < 200_000


@pytest.mark.parametrize("count", [1_000, 2_000_000])  # one table, and part by part
def test_each_code_holds_its_rows_word(count: int) -> None:
    keys = RNG.integers(0, 50_000, count).astype(np.uint64)
    words = keys * np.uint64(3) + np.uint64(7)
    coded = factorized_holding(keys, words)
    assert coded is not None
    codes, uniques, held = coded
    assert np.array_equal(uniques[codes], keys) and np.array_equal(held[codes], words)
    assert np.array_equal(codes, factorized(keys)[0])


@pytest.mark.parametrize("count", [1_000, 2_000_000])
def test_a_key_whose_rows_hold_two_words_is_refused(count: int) -> None:
    keys = RNG.integers(0, count // 40, count).astype(np.uint64)  # every key on many rows
    words = keys.copy()
    words[count // 3] += np.uint64(1)  # one row of its key holds another word
    assert factorized_holding(keys, words) is None
