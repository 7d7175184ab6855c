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
POINT_THOUSANDS = re.compile(r"^-?[1-9][0-9]{0,2}(\.[0-9]{3})+$")  # 1.250, 12.000.000
EU_COMMA = re.compile(r"^-?[0-9]{1,3}(\.[0-9]{3})+,[0-9]+$")  # 1.234,56, not 1.234


def plain_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def decimal_mark(columns: dict[str, list[str]]) -> tuple[str, str]:
    """A decimal comma (and why) when some column named like an amount, a cost or a margin
    has its values all numbers written with one (or whole; quoted where the delimiter is a
    comma too), at least one with other than three digits after it; no such column's commas
    all stand before three digits (1,234 alone may be an English thousands separator); and
    no column has a number with a decimal point, unless every point stands before three
    digits (1.250: a thousands separator beside 12,50). Other columns say nothing: item ids
    listed "143,98" are no decimal numbers."""
    from engine.workflow.sniff_names import money_named

    with_comma, thousands_like, points = [], False, []
    for name, values in columns.items():
        filled = [v.strip() for v in values if v.strip()]
        points += [v for v in filled if POINTED.match(v)]
        if money_named(name) and filled and all(DECIMAL_COMMA.match(v) or WHOLE.match(v) or
                                    EU_COMMA.match(v) for v in filled):
            commas = [v for v in filled if DECIMAL_COMMA.match(v)]
            if commas and all(len(v.rpartition(",")[2]) == 3 for v in commas):
                thousands_like = True
            elif commas:
                with_comma.append(name)
    if not with_comma or thousands_like or not all(_thousands_point(v) for v in points):
        return ".", ""
    sample = next(v.strip() for v in columns[with_comma[0]] if _decimals(v.strip()))
    return ",", f"column {with_comma[0]!r} writes numbers with a decimal comma ({sample!r})"


def _thousands_point(text: str) -> bool:
    """1.250: a point that may stand for thousands (three digits after it; not 0.750)."""
    return bool(POINT_THOUSANDS.match(text))


def _thousands(values: Sequence[str], semicolons: bool = False) -> str | None:
    """The first of a column's numbers written 1.250 when each number with a point has three
    digits after it, none before them is 0, and some number is whole (980, 45): whole amounts
    written with a thousands separator, not three decimals (1.459 beside 12.5, or 0.750
    beside 1.500, are read as written)."""
    filled = [v.strip() for v in values if v.strip()]
    pointed = [v for v in filled if POINTED.match(v)]
    # a semicolon file is European: 1.250 / 4.500 alone are thousands there too
    whole = semicolons or any(WHOLE.match(v) for v in filled)
    return pointed[0] if whole and pointed and all(_thousands_point(v) for v in pointed) \
        else None


def as_read(values: list[str], decimal: str, semicolons: bool = False) -> list[str]:
    """The sampled values as the engine reads them under ``decimal``, for telling a column's
    kind: with a decimal comma, 12,50 is 12.50 and a number written with a point (1.250,
    12.5) is no number (its marks swapped: 1,250)."""
    if decimal == ".":
        return values if _thousands(values, semicolons) is None else \
            [v.translate(_SWAP) if POINTED.match(v.strip()) else v for v in values]
    out = []
    for v in values:
        text = v.strip()
        if DECIMAL_COMMA.match(text):
            out.append(text.replace(",", "."))
        elif POINTED.match(text) or EU_THOUSANDS.match(text):
            out.append(text.translate(_SWAP))
        else:
            out.append(v)
    return out


_SWAP = str.maketrans(",.", ".,")


def _decimals(text: str) -> bool:
    """A number with a decimal comma that cannot be a thousands separator: 12,50 (not 1,234,
    which is 1234 in an English export)."""
    return bool(DECIMAL_COMMA.match(text)) and len(text.rpartition(",")[2]) != 3


def number_trouble(col: str, values: Sequence[str], decimal: str = ".",
                   semicolons: bool = False) -> str | None:
    """Why a column of numbers the engine cannot read is not one: a currency symbol, a
    thousands separator, or decimal commas where the file's numbers are not all written with
    them (all read as text), in some values or all; None when a value is no number at all,
    or every one is plain."""
    found: dict[str, str] = {}  # what -> its first value
    filled = [v for v in values if v]
    if decimal == ",":
        return _comma_trouble(col, filled)
    if (point := _thousands(filled, semicolons)) is not None:
        found["a thousands separator"] = point
    for v in filled:
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
    return _said(col, found)


def _comma_trouble(col: str, filled: list[str]) -> str | None:
    """``number_trouble`` in a file of decimal commas: a point is a thousands separator or
    the other decimal mark, neither of which the engine reads there."""
    found: dict[str, str] = {}
    for v in filled:
        text = CURRENCY.sub("", v).strip()
        if text != v:
            found.setdefault("a currency symbol", v)
        if DECIMAL_COMMA.match(text) or WHOLE.match(text):
            continue
        if EU_THOUSANDS.match(text):
            found.setdefault("a thousands separator", v)
        elif POINTED.match(text):
            found.setdefault("a decimal point", v)
        else:
            return None
    return _said(col, found)


def _said(col: str, found: dict[str, str]) -> str | None:
    if not found:
        return None
    fix = {"a currency symbol": "as plain numbers, or with one currency sign (data."
           "currency_sign)", "a thousands separator": "without one, or set data.thousands "
           "in cvm.yaml if it separates thousands (cvm init cannot tell 1.250 from three "
           "decimals)",
           "a decimal comma": "with a decimal point, or every number of the file with a "
           "decimal comma (data.decimal: ',')",
           "a decimal point": "with a decimal comma, as the file's other numbers (data.decimal: "
           "',')"}[next(iter(found))] \
        if len(found) == 1 else "with one decimal mark (data.decimal: ',' reads commas), " \
        "no currency symbol or thousands separator" if "a decimal comma" in found \
        else "as plain numbers"
    listed = " and ".join(f"{what} ({sample!r})" for what, sample in found.items())
    return (f"column {col!r} holds numbers with {listed}, which cvm init cannot read as they are: "
            f"export them {fix}")


CURRENCY_WORDS = frozenset(("currency", "wahrung", "devise", "moneda", "valuta", "waluta"))
SYMBOLS = {"€": "EUR", "£": "GBP", "$": "USD", "¥": "JPY"}
CODES = frozenset(("eur", "usd", "gbp", "chf", "jpy", "sek", "nok", "dkk", "pln", "czk", "huf",
                   "aud", "cad", "nzd", "kwd", "bhd", "aed", "sar", "inr", "cny", "brl", "mxn",
                   "zar", "try", "sgd", "hkd"))


def currency_of(columns: dict[str, list[str]], sign: str | None = None
                ) -> tuple[str, str] | None:
    """The currency (and why) a money column's name or values say: a code in its name
    (amount_kwd, Total (CHF)) or a symbol before or after its numbers (£12.99, 12,99 €), or
    after them (``sign``: 12.50 EUR), or a column named currency holding one code (GBP);
    None when they say none, or more than one."""
    from engine.workflow.sniff_names import money_named, tokens

    found: dict[str, str] = {}
    if sign is not None and sign.lower() in CODES:
        found[sign.upper()] = f"the amounts are written with {sign}"
    for name, values in columns.items():
        codes = {v.strip().upper() for v in values if v.strip()}
        if set(tokens(name)) & CURRENCY_WORDS and len(codes) == 1 \
                and codes <= {c.upper() for c in CODES}:
            found.setdefault(next(iter(codes)), f"column {name!r} holds {next(iter(codes))}")
        if not money_named(name) and not any(t in CODES for t in tokens(name)):
            continue
        for token in tokens(name):
            if token in CODES:
                found.setdefault(token.upper(), f"column {name!r} is named in {token.upper()}")
        for v in values:
            for symbol, code in SYMBOLS.items():
                if symbol in v:
                    found.setdefault(code, f"column {name!r} writes {symbol} ({v.strip()!r})")
    return next(iter(found.items())) if len(found) == 1 else None
