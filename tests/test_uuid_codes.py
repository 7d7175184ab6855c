"""Customer and order ids that are UUIDs are coded as the 128-bit numbers they spell
(engine.data.uuids): the same codes and the same distinct ids as the text route, exactly, and
the text route wherever the numbers could not stand for the text."""

from __future__ import annotations

import uuid

import numpy as np
import pyarrow as pa
import pytest

from engine.data import codes as codes_module
from engine.data.codes import customer_codes, order_codes
from engine.data.uuids import Uuids, keys_of, parse


def _uuids(count: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [str(uuid.UUID(bytes=rng.bytes(16))) for _ in range(count)]


def _chunked(values: list[str], kind: pa.DataType | None = None) -> pa.ChunkedArray:
    """In three chunks, the middle one a slice (its offsets start past zero)."""
    kind = kind or pa.string()
    third = len(values) // 3
    whole = pa.array(["x" * 5, *values[third:2 * third]], type=kind)  # data from byte 5
    return pa.chunked_array([pa.array(values[:third], type=kind), whole.slice(1),
                             pa.array(values[2 * third:], type=kind)], type=kind)


def _expected_customer_codes(values: list[str]) -> tuple[list[int], list[str]]:
    distinct = sorted(set(values), key=lambda v: v.encode())
    place = {v: i for i, v in enumerate(distinct)}
    return [place[v] for v in values], distinct


def _same_pattern(codes: np.ndarray, values: list[str]) -> bool:
    """Equal ids, equal codes; different ids, different codes."""
    first: dict[str, int] = {}
    owner: dict[int, str] = {}
    for code, value in zip(codes.tolist(), values, strict=True):
        if first.setdefault(value, code) != code or owner.setdefault(code, value) != value:
            return False
    return True


def _text_route(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codes_module, "parse", lambda text: None)


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
@pytest.mark.parametrize("upper", [False, True])
def test_uuid_customer_ids_are_coded_as_numbers_with_the_texts_codes(
        kind: pa.DataType, upper: bool) -> None:
    people = _uuids(30_000, seed=1)
    people = [p.upper() for p in people] if upper else people
    rng = np.random.default_rng(2)
    values = [people[i] for i in rng.integers(0, len(people), 250_000)]  # both cores' halves
    ids = _chunked(values, kind)
    assert parse(ids) is not None  # the numbers' route is taken
    codes, distinct = customer_codes(ids)
    want_codes, want_distinct = _expected_customer_codes(values)
    assert codes.tolist() == want_codes
    assert distinct.type == kind
    assert distinct.to_pylist() == want_distinct


def test_uuid_order_ids_get_a_code_each_run_or_not() -> None:
    orders = _uuids(5_000, seed=3)
    rng = np.random.default_rng(4)
    values = [orders[i] for i in np.repeat(rng.integers(0, len(orders), 20_000),
                                           rng.integers(1, 4, 20_000))]
    coded = order_codes(_chunked(values))
    assert _same_pattern(coded, values)


@pytest.mark.parametrize("odd", [
    "0F8FAD5B-D9CB-469F-A165-70867728950E",  # upper case among lower case: two texts, one number
    "0f8fad5b-d9cb-469f-a165-70867728950g",  # not a hex digit
    "0f8fad5b-d9cb-469f-a165:70867728950e",  # not a dash
    "0f8fad5bd9cb469fa16570867728950e0000",  # 36 bytes, no dashes
    "0f8fad5b-d9cb-469f-a165-70867728950",   # 35 bytes
    "ü8fad5b-d9cb-469f-a165-70867728950e",   # 36 bytes, a two-byte character
])
def test_anything_but_uuids_in_one_case_takes_the_text_route(odd: str) -> None:
    values = [*_uuids(50, seed=5), odd, "0f8fad5b-d9cb-469f-a165-70867728950e"]
    ids = pa.chunked_array([pa.array(values)])
    assert parse(ids) is None
    codes, distinct = customer_codes(ids)
    want_codes, want_distinct = _expected_customer_codes(values)
    assert codes.tolist() == want_codes and distinct.to_pylist() == want_distinct
    assert _same_pattern(order_codes(ids), values)


def test_lengths_that_only_add_up_to_uuids_take_the_text_route() -> None:
    # 35 and 37 bytes: together 72, as two UUIDs would be
    values = [*_uuids(10, seed=6), "0f8fad5b-d9cb-469f-a165-70867728950",
              "0f8fad5b-d9cb-469f-a165-70867728950ef"]
    assert parse(pa.chunked_array([pa.array(values)])) is None


def test_nulls_take_the_text_route() -> None:
    assert parse(pa.chunked_array([pa.array([_uuids(1, seed=6)[0], None])])) is None


def _colliding_pair() -> list[str]:
    """Two different UUIDs with the same 64-bit hashing key."""
    hi, lo = np.array([1234567], dtype=np.uint64), np.array([89], dtype=np.uint64)
    lo2 = lo + np.uint64(1)
    hi2 = keys_of(hi, lo) ^ keys_of(np.zeros(1, dtype=np.uint64), lo2)
    assert keys_of(hi2, lo2)[0] == keys_of(hi, lo)[0] and (hi2[0], lo2[0]) != (hi[0], lo[0])
    form = Uuids(hi, lo, upper=False)
    return [form.text(hi, lo, pa.string())[0].as_py(), form.text(hi2, lo2, pa.string())[0].as_py()]


def test_two_uuids_sharing_a_hashing_key_are_still_two_ids() -> None:
    pair = _colliding_pair()
    values = [pair[0], pair[1], pair[0], *_uuids(20, seed=7), pair[1]]
    ids = pa.chunked_array([pa.array(values)])
    assert parse(ids) is not None
    codes, distinct = customer_codes(ids)
    want_codes, want_distinct = _expected_customer_codes(values)
    assert codes.tolist() == want_codes and distinct.to_pylist() == want_distinct
    assert _same_pattern(order_codes(ids), values)


@pytest.mark.parametrize("arrangement", ["shuffled", "by customer", "pair side by side"])
def test_a_shared_hashing_key_among_many_ids_is_still_two_ids(arrangement: str) -> None:
    """Past 262,144 rows the keys are coded part by part, each code checked in its part: two
    UUIDs with one key, in any order, still get two codes (or the text route decides)."""
    pair = _colliding_pair()
    people = [*_uuids(20_000, seed=10), *pair]
    rng = np.random.default_rng(11)
    values = [people[i] for i in rng.integers(0, len(people), 300_000)] + pair * 50
    if arrangement == "by customer":
        values.sort()
    elif arrangement == "pair side by side":  # one's run right after the other's
        values = sorted(v for v in values if v not in pair) + [pair[0]] * 60 + [pair[1]] * 40
    else:
        rng.shuffle(values)
    ids = _chunked(values)
    codes, distinct = customer_codes(ids)
    want_codes, want_distinct = _expected_customer_codes(values)
    assert codes.tolist() == want_codes and distinct.to_pylist() == want_distinct
    assert _same_pattern(order_codes(ids), values)


def test_the_numbers_route_agrees_with_the_text_route(monkeypatch: pytest.MonkeyPatch) -> None:
    people = _uuids(2_000, seed=8)
    values = [people[i] for i in np.random.default_rng(9).integers(0, 2_000, 10_000)]
    ids = _chunked(values)
    fast_codes, fast_distinct = customer_codes(ids)
    fast_orders = order_codes(ids)
    _text_route(monkeypatch)
    slow_codes, slow_distinct = customer_codes(ids)
    assert np.array_equal(fast_codes, slow_codes)
    assert fast_distinct.equals(slow_distinct)
    assert _same_pattern(fast_orders, values) and _same_pattern(order_codes(ids), values)


def test_parsed_block_by_block_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # the values are parsed a few thousand at a time: every block lands in its place, and a
    # value that is no UUID, or a letter of the other case, is found in any block
    from engine.data import uuids as uuids_module

    monkeypatch.setattr(uuids_module, "_BLOCK", 7)
    values = _uuids(100, seed=9)
    parsed = parse(_chunked(values))
    assert parsed is not None
    assert [str(uuid.UUID(int=int(h) << 64 | int(lo)))
            for h, lo in zip(parsed.hi, parsed.lo, strict=True)] == values
    for odd in ("0f8fad5b-d9cb-469f-a165-70867728950g", values[90].upper()):
        assert parse(_chunked([*values[:90], odd, *values[91:]])) is None
