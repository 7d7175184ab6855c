"""Numbers in a sampled file, for ``cvm init --from``: the decimal mark, and why a column of
numbers is one CVM Engine cannot read (a currency symbol, a thousands separator)."""

from __future__ import annotations

import re
from collections.abc import Sequence

CURRENCY = re.compile(r"[$€£¥]")
DECIMAL_COMMA = re.compile(r"^-?[0-9]+,[0-9]+$")
THOUSANDS = re.compile(r"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$")
WHOLE = re.compile(r"^-?[0-9]+$")
POINTED = re.compile(r"^[-+]?[0-9]*\.[0-9]+$")  # 12.50 (not a date: 03.01.2024)
EU_THOUSANDS = re.compile(r"^-?[0-9]{1,3}(\.[0-9]{3})+(,[0-9]+)?$")  # 1.234,56
EU_COMMA = re.compile(r"^-?[0-9]{1,3}(\.[0-9]{3})+,[0-9]+$")  # 1.234,56, not 1.234


def plain_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def decimal_mark(columns: dict[str, list[str]]) -> tuple[str, str]:
    """A decimal comma (and why) when some column's values are all numbers written with one
    (or whole; quoted where the delimiter is a comma too), at least one with other than three
    digits after it, no column has a number with a decimal point, and no column's commas all
    stand before three digits (1,234 alone may be an English thousands separator)."""
    with_comma, thousands_like = [], False
    for name, values in columns.items():
        filled = [v.strip() for v in values if v.strip()]
        if any(POINTED.match(v) for v in filled):
            return ".", ""
        if filled and all(DECIMAL_COMMA.match(v) or WHOLE.match(v) or EU_COMMA.match(v)
                          for v in filled):  # 1.299,00 beside 26,59: the export's mark too
            commas = [v for v in filled if DECIMAL_COMMA.match(v)]
            if commas and all(len(v.rpartition(",")[2]) == 3 for v in commas):
                thousands_like = True
            elif commas:
                with_comma.append(name)
    if not with_comma or thousands_like:
        return ".", ""
    sample = next(v.strip() for v in columns[with_comma[0]] if _decimals(v.strip()))
    return ",", f"column {with_comma[0]!r} writes numbers with a decimal comma ({sample!r})"


def _decimals(text: str) -> bool:
    """A number with a decimal comma that cannot be a thousands separator: 12,50 (not 1,234,
    which is 1234 in an English export)."""
    return bool(DECIMAL_COMMA.match(text)) and len(text.rpartition(",")[2]) != 3


def number_trouble(col: str, values: Sequence[str]) -> str | None:
    """Why a column of numbers the engine cannot read is not one: a currency symbol, a
    thousands separator, or decimal commas where the file's numbers are not all written with
    them (all read as text), in some values or all; None when a value is no number at all,
    or every one is plain."""
    found: dict[str, str] = {}  # what -> its first value
    for v in (v for v in values if v):
        text = CURRENCY.sub("", v).strip()
        if text != v:
            found.setdefault("a currency symbol", v)
        if plain_number(text) is not None:
            if POINTED.match(text):
                found.setdefault("a decimal point", v)
            continue
        if THOUSANDS.match(text) or EU_THOUSANDS.match(text):
            found.setdefault("a thousands separator", v)
        elif DECIMAL_COMMA.match(text):
            found.setdefault("a decimal comma", v)
        else:
            return None
    if "a decimal comma" not in found:  # points alone are plain numbers
        found.pop("a decimal point", None)
    if not found:
        return None
    fix = {"a currency symbol": "as plain numbers", "a thousands separator": "without one",
           "a decimal comma": "with a decimal point, or every number of the file with a "
           "decimal comma (data.decimal: ',')"}[next(iter(found))] \
        if len(found) == 1 else "with one decimal mark (data.decimal: ',' reads commas), " \
        "no currency symbol or thousands separator" if "a decimal comma" in found \
        else "as plain numbers"
    listed = " and ".join(f"{what} ({sample!r})" for what, sample in found.items())
    return (f"column {col!r} holds numbers with {listed}, which CVM Engine does not read: "
            f"export them {fix}")
