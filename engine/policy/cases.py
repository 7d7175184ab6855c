"""Customers cut into the cases a set of conditions cannot tell apart (numpy, no Python loops).

Per attribute, a customer's *code* names the interval between the conditions' thresholds its
value falls in (0 = missing): numbers with thresholds t1 < ... < tk get 1 below t1, 2 exactly
t1, 3 between t1 and t2, ..., 2k+1 above tk; text and true/false get 1 + the index of the value
among those the conditions name, or one code for any other value; dates 1 when present. Every
condition is constant within a code, so customers with the same codes of the attributes a
condition reads get the same answer.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from engine.policy.condition_reads import Memo, Reads, merged, reads
from engine.project.conditions import (
    BOOLEAN,
    DATE,
    MISSING,
    NUMBER,
    TEXT,
    Condition,
    normalize,
)

if TYPE_CHECKING:  # pandas where a table is read: compiling conditions needs none
    import pandas as pd

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


def codes(series: pd.Series | None, kind: str, cuts: tuple[Any, ...],
          n: int) -> tuple[Ints, int]:
    """Per customer the code of one attribute (see the module), and the number of codes."""
    import pandas as pd

    if series is None:
        return np.zeros(n, dtype=np.int64), 1
    if kind == NUMBER:
        values, valid = _numbers(series)
        edges = np.array(cuts, dtype=np.float64)
        found = 1 + np.searchsorted(edges, values, "left") + np.searchsorted(edges, values,
                                                                             "right")
        return np.where(valid, found, 0).astype(np.int64), 2 * len(edges) + 2
    named = {v: i + 1 for i, v in enumerate(cuts)}
    other = len(named) + 1
    # codes run from 0 to radix - 1; a boolean is coded 1/2 whatever values are named
    radix = {BOOLEAN: 3, DATE: 2}.get(kind, other + 1)

    def code(value: Any) -> int:
        value = normalize(value, kind)
        if value is MISSING:
            return 0
        if kind == DATE:
            return 1
        return named.get(value, other) if kind == TEXT else (2 if value else 1)

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        table = np.array([code(c) for c in dtype.categories] + [0], dtype=np.int64)
        return table[series.cat.codes.to_numpy()], radix
    fast = _uniform(series, kind)
    if kind == DATE and fast:
        return series.notna().to_numpy().astype(np.int64), radix
    if fast:  # every value is of the right type, or null: factorize, then code the uniques
        inverse, uniques = pd.factorize(series, use_na_sentinel=True)
        table = np.array([code(u) for u in uniques] + [0], dtype=np.int64)
        return table[inverse], radix
    if not _is_object(dtype):  # a whole column of the wrong type: all missing
        return np.zeros(n, dtype=np.int64), radix
    found = np.fromiter((code(v) for v in series.to_numpy()), dtype=np.int64, count=n)
    return found, radix


def recode(kind: str, cuts: tuple[Any, ...], fewer: tuple[Any, ...]) -> Ints | None:
    """Code -> code under a subset ``fewer`` of the thresholds ``cuts`` (None: the same).

    Conditions that read only some thresholds need fewer cases: each group of conditions
    works with its own thresholds, looked up from the codes computed once per attribute.
    """
    if len(fewer) == len(cuts):
        return None
    if kind == NUMBER:
        (edges, lows), mine = _edges(cuts), np.array(fewer, dtype=np.float64)
        at = (1 + np.searchsorted(mine, edges, "left") + np.searchsorted(mine, edges, "right"))
        # the interval below edge j lies just above edge j-1: as many of ours are at most it
        below = 1 + 2 * np.searchsorted(mine, lows, "right")
        table = np.zeros(2 * len(edges) + 2, dtype=np.int64)
        table[1::2] = below
        table[2::2] = at
        return table
    if kind in (BOOLEAN, DATE):
        return None
    mine_named = {v: i + 1 for i, v in enumerate(fewer)}
    other = len(fewer) + 1
    return np.array([0, *(mine_named.get(v, other) for v in cuts), other], dtype=np.int64)


@functools.lru_cache(maxsize=64)
def _edges(cuts: tuple[Any, ...]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """An attribute's thresholds as an array, and with -inf in front. Every unit of a matcher
    recodes from the same thresholds, thousands with thousands of policies: converted once,
    not once per unit (which made compiling grow with the square of the policies)."""
    edges = np.array(cuts, dtype=np.float64)
    return edges, np.concatenate([[-np.inf], edges])


def radix(kind: str, cuts: tuple[Any, ...]) -> int:
    """The number of codes of an attribute with these thresholds (named values)."""
    if kind == NUMBER:
        return 2 * len(cuts) + 2
    return {BOOLEAN: 3, DATE: 2}.get(kind, len(cuts) + 2)


def case_keys(parts: Sequence[tuple[Ints, int]], n: int) -> tuple[Ints, int]:
    """One integer per customer naming its combination of codes, and the number of keys."""
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for found, base in parts:
        if size * base >= 1 << 62:  # re-number the combinations seen so far
            uniques, key = np.unique(key, return_inverse=True)
            size = len(uniques)
        key = key * base + found
        size *= base
    return key, size


def distinct(key: Ints, size: int) -> tuple[Ints, Ints]:
    """(per customer its case 0..m-1, per case one customer of it), cases in key order."""
    n = len(key)
    if size <= 4 * n + 4096:  # a dense table of keys: no sort needed
        rep = np.full(size, -1, dtype=np.int64)
        rep[key] = np.arange(n)  # any customer of a case represents it
        present = np.flatnonzero(rep >= 0)
        number = np.zeros(size, dtype=np.int64)
        number[present] = np.arange(len(present))
        return number[key], rep[present]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), first.astype(np.int64)


def message_value(value: Any, kind: str) -> str | None:
    """A normalized value as the JSON text of a message property (None: missing, left out).

    durable-rules' JSON reader rejects numbers with an exponent, which Python writes for small
    and large floats (1e-05, 1e+16): every number is written as a double without exponent.
    """
    if value is MISSING:
        return None
    if kind == NUMBER:
        return number_text(value)
    if kind == TEXT:
        return json.dumps(value, ensure_ascii=False)
    return "true" if (value if kind == BOOLEAN else True) else "false"  # a date: present


def number_text(value: float) -> str:
    """A double as durable-rules' JSON reader reads it exactly: with a point, no exponent."""
    from decimal import Decimal

    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text if "." in text else text + ".0"


def _is_object(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def _uniform(series: pd.Series, kind: str) -> bool:
    """True when every non-null value of the column has the attribute's type."""
    import pandas as pd

    dtype = series.dtype
    if kind == DATE:
        return bool(pd.api.types.is_datetime64_any_dtype(dtype))
    if _is_object(dtype):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        return inferred in ({"string", "empty"} if kind == TEXT else {"boolean", "empty"})
    if kind == TEXT:
        return bool(pd.api.types.is_string_dtype(dtype))
    return bool(pd.api.types.is_bool_dtype(dtype))


def _numbers(series: pd.Series) -> tuple[npt.NDArray[np.float64], Bools]:
    import pandas as pd

    dtype = series.dtype
    numeric = (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
               and not pd.api.types.is_complex_dtype(dtype))
    if _is_object(dtype):
        numeric = pd.api.types.infer_dtype(series, skipna=True) in (
            "integer", "floating", "mixed-integer-float", "empty")
    if numeric:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.isfinite(values)
    if not _is_object(dtype):  # booleans, dates, text dtypes: never numbers
        return np.zeros(len(series)), np.zeros(len(series), dtype=bool)
    normal = [normalize(v, NUMBER) for v in series.to_numpy()]
    values = np.array([np.nan if v is MISSING else v for v in normal], dtype=np.float64)
    return values, np.array([v is not MISSING for v in normal], dtype=bool)


def reads_of(cond: Condition, memo: Memo | None = None) -> Reads:
    """Per attribute a condition reads: its type and the thresholds it compares it with (each
    subtree's found once per ``memo``)."""
    return reads(cond, memo)


def merged_reads(a: Reads, b: Reads) -> Reads:
    return merged(a, b)


def case_count(reads: Reads) -> float:
    return float(np.prod([radix(kind, tuple(cuts)) for kind, cuts in reads.values()],
                         dtype=np.float64))


def case_space(cond: Condition, memo: Memo | None = None) -> float:
    """How many cases the attributes of a condition make, at its own thresholds."""
    return case_count(reads_of(cond, memo))
