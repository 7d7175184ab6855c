"""Numbers in a sampled file, for ``cvm init --from``: the decimal mark, and why a column of
numbers is one CVM Engine cannot read (a currency symbol, a thousands separator)."""

from __future__ import annotations

import re
from collections.abc import Sequence

CURRENCY = re.compile(r"[$€£¥]")
DECIMAL_COMMA = re.compile(r"^-?[0-9]+,[0-9]+$")
THOUSANDS = re.compile(r"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$")
WHOLE = re.compile(r"^-?[0-9]+$")


def as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def decimal_mark(columns: dict[str, list[str]], pointed: bool
                 ) -> tuple[str, str]:
    """A decimal comma (and why) when some column's values are all numbers written with one
    (or whole; quoted where the delimiter is a comma too), and no column's numbers have a
    decimal point (``pointed``)."""
    with_comma = [name for name, values in columns.items()
                  if (filled := [v.strip() for v in values if v.strip()])
                  and all(DECIMAL_COMMA.match(v) or WHOLE.match(v) for v in filled)
                  and any(_decimals(v) for v in filled)]
    if not with_comma or pointed:
        return ".", ""
    sample = next(v.strip() for v in columns[with_comma[0]] if _decimals(v.strip()))
    return ",", f"column {with_comma[0]!r} writes numbers with a decimal comma ({sample!r})"


def _decimals(text: str) -> bool:
    """A number with a decimal comma that cannot be a thousands separator: 12,50 (not 1,234,
    which is 1234 in an English export)."""
    return bool(DECIMAL_COMMA.match(text)) and len(text.rpartition(",")[2]) != 3


def number_trouble(col: str, values: Sequence[str]) -> str | None:
    """Why a column of numbers the engine cannot read is not one: a currency symbol, a
    thousands separator or a decimal comma (all read as text), in some values or all; None
    when a value is no number at all, or every one is plain."""
    found: dict[str, str] = {}  # what -> its first value
    for v in (v for v in values if v):
        text = CURRENCY.sub("", v).strip()
        if text != v:
            found.setdefault("a currency symbol", v)
        if as_number(text) is not None:
            continue
        if THOUSANDS.match(text):
            found.setdefault("a thousands separator", v)
        elif DECIMAL_COMMA.match(text):
            found.setdefault("a decimal comma", v)
        else:
            return None
    if not found:
        return None
    fix = {"a currency symbol": "as plain numbers", "a thousands separator": "without one",
           "a decimal comma": "with a decimal point, or every one with a decimal comma "
           "(data.decimal: ',')"}[next(iter(found))] \
        if len(found) == 1 else "as plain numbers"
    listed = " and ".join(f"{what} ({sample!r})" for what, sample in found.items())
    return (f"column {col!r} holds numbers with {listed}, which CVM Engine does not read: "
            f"export them {fix}")
