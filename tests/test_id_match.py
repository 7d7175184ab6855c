"""The customers file joined to the purchasers by the numbers that stand for their ids
(engine.data.id_match: packed short ids, UUIDs): the same positions as matching the text
exactly, in every case the numbers could get wrong (letter case, widths, nulls, repeats,
other ids), and the text route where they cannot stand for the text."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from engine.data.id_match import all_distinct, index_in
from engine.errors import InputError
from engine.value import customers as customers_module


def _uuids(count: int, seed: int, *, digits_only: bool = False) -> list[str]:
    rng = np.random.default_rng(seed)
    if digits_only:  # every hex digit 0-9: no letters, the same text in either case
        return [str(uuid.UUID("".join(str(d) for d in rng.integers(0, 10, 32))))
                for _ in range(count)]
    return [str(uuid.UUID(bytes=rng.bytes(16))) for _ in range(count)]


def _by_text(values: list[str | None], value_set: list[str]) -> list[int]:
    place = {v: i for i, v in enumerate(value_set)}
    return [place.get(v, -1) if v is not None else -1 for v in values]


KNOWN = _uuids(2_000, 1)
DIGITS = _uuids(50, 2, digits_only=True)
CASES: dict[str, tuple[list[str | None], list[str]]] = {
    "some known, some not": ([*KNOWN[::3], *_uuids(500, 3)], KNOWN),
    "nulls among them": ([None, *KNOWN[:700:7], None, *KNOWN[1:9]], KNOWN),
    "upper case in both": ([v.upper() for v in KNOWN[::2]], [v.upper() for v in KNOWN]),
    "digits only against lower case": ([*DIGITS, *KNOWN[:40]], [*KNOWN, *DIGITS]),
    "upper case against digits only": ([v.upper() for v in KNOWN[:90]] + DIGITS[:5], DIGITS),
    "short ids of 8 bytes": (["C0000003", None, "C0000999", "C0000001"],
                             [f"C{i:07d}" for i in range(500)]),
    "short ids up to 7 bytes": (["7", "42", "", "1000000", "123"], [str(i) for i in range(900)]),
    "7 bytes against 8 bytes": (["C000001", "C000002"], [f"C{i:07d}" for i in range(50)]),
    "8 bytes against 7 bytes": (["C0000001", "C0000002"], [f"C{i:06d}" for i in range(50)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_positions_are_the_exact_texts(case: str) -> None:
    values, value_set = CASES[case]
    found = index_in(pa.array(values, type=pa.string()), pa.array(value_set))
    assert found is not None  # the numbers stand for the text here
    assert found.tolist() == _by_text(values, value_set)


DECLINED: dict[str, tuple[list[str | None], list[str]]] = {
    # "ab..." and "AB..." are one number and two texts: matching numbers would join them
    "upper case against lower case": ([v.upper() for v in KNOWN[:50]], KNOWN),
    "lower case against upper case": (KNOWN[:50], [v.upper() for v in KNOWN]),
    "a value that is no UUID": ([*KNOWN[:5], "C000001"], KNOWN),
    "a set that is no UUID": (KNOWN[:5], [*KNOWN, "C000001"]),
    "a set with a UUID twice": (KNOWN[:5], [*KNOWN, KNOWN[7]]),
    "a set with a short id twice": (["C0000001"], ["C0000001", "C0000002", "C0000001"]),
    "short ids of mixed widths up to 8": (["C0000001", "C01"], ["C0000001", "C01", "C1"]),
    "only nulls": ([None, None], KNOWN),
}


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_the_text_decides_where_numbers_cannot(case: str) -> None:
    values, value_set = DECLINED[case]
    assert index_in(pa.array(values, type=pa.string()), pa.array(value_set)) is None
    # and the join as a whole (the text route) gives the exact texts' positions
    if len(set(value_set)) == len(value_set):
        joined = customers_module._index_in(pa.array(values, type=pa.string()),
                                            pa.array(value_set))
        assert joined.tolist() == _by_text(values, value_set)


def test_large_string_and_sliced_values() -> None:
    values = pa.array(["x", *KNOWN[10:30], *_uuids(5, 9)], type=pa.large_string()).slice(1)
    found = index_in(values, pa.array(KNOWN, type=pa.large_string()))
    assert found is not None
    assert found.tolist() == [*range(10, 30), *[-1] * 5]


def test_distinct_ids() -> None:
    assert all_distinct(pa.array(KNOWN)) is True
    assert all_distinct(pa.array([*KNOWN, KNOWN[3]])) is None  # the text names the repeat
    assert all_distinct(pa.array(["C1", "C2"])) is True  # packed
    assert all_distinct(pa.array(["C1", "C2", "C1"])) is None
    assert all_distinct(pa.array(["C0000001", "C2"])) is None  # mixed widths: the text


def test_the_customers_join_does_not_hash_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 1M customers, hashing their text took 0.4 s (short ids) to 1 s (UUIDs) of CPU."""
    def no_text_hash(*args: object, **kwargs: object) -> None:
        raise AssertionError("the ids' text was hashed")

    monkeypatch.setattr(pc, "index_in", no_text_hash)
    monkeypatch.setattr(pc, "dictionary_encode", no_text_hash)
    for known in (KNOWN, [f"C{i:07d}" for i in range(2_000)]):
        ids = pa.array(known[:300])
        customers_module._check_unique(None, ids, "CustomerID")  # type: ignore[arg-type]
        assert customers_module._index_in(ids, pa.array(known)).tolist() == list(range(300))


@pytest.mark.parametrize("known", [KNOWN, [f"C{i:07d}" for i in range(10)]])
def test_a_repeated_id_is_named_as_before(tmp_path: Path, known: list[str]) -> None:
    from engine.data.header import Source

    src = Source(tmp_path / "customers.csv", "customers.csv", "data.customers")
    ids = pa.array([*known[:4], known[1]])
    with pytest.raises(InputError) as caught:
        customers_module._check_unique(src, ids, "CustomerID")
    assert f"found customer id {known[1]!r} a second time (first on row" in str(caught.value)
