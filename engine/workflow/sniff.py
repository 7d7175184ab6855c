"""Guess how a transactions file is written and which columns hold what (``cvm init --from``).

Reads the first rows only. Every guess carries how sure it is and why, so that the scaffolded
``cvm.yaml`` can say so in its comments; what cannot be guessed is named, not invented.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_BYTES = 1 << 20
SAMPLE_ROWS = 2000
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# formats tried on the date column, most common first; ISO needs no date_format in cvm.yaml
DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y%m%d", "%d/%m/%Y",
                "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%d/%m/%Y %H:%M",
                "%m/%d/%Y %H:%M", "%d/%m/%y", "%m/%d/%y")
ISO = ("%Y-%m-%d",)
# words in a column name that point at one of our fields (lower case, after splitting
# camelCase, spaces, dashes and underscores); the first list is the stronger sign
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "customer_id": (("customerid", "customer_id", "custid", "clientid", "memberid",
                     "customer", "client", "member", "shopper", "buyer"),
                    ("cust", "user", "account", "kunde", "kundennr")),
    "date": (("orderdate", "date", "purchasedate", "invoicedate", "transactiondate"),
             ("day", "time", "timestamp", "datum", "ordered", "created")),
    "amount": (("netamount", "amount", "revenue", "sales", "dollarvalue", "value", "total",
                "net", "spend", "turnover", "betrag"),
               ("price", "sum", "gross", "dollar", "eur", "usd")),
    "cost": (("cost", "cogs", "costofgoods"), ("purchaseprice",)),
    "margin": (("margin", "profit", "grossmargin"), ()),
    "quantity": (("qty", "quantity", "units", "numberofcds", "items"), ("count", "number")),
    "order_id": (("orderid", "order", "invoice", "invoiceno", "transactionid", "receipt",
                  "ordernumber", "basket"), ("ticket",)),
    "channel": (("saleschannel", "channel"), ("source", "store")),
    "category": (("category", "productcategory", "department", "productgroup"),
                 ("family", "segment")),
}
REQUIRED = ("customer_id", "date", "amount")
PLURAL = {"text": "text", "integer": "whole numbers", "decimal": "decimal numbers",
          "date": "dates", "empty": "empty"}


@dataclass(frozen=True)
class Guess:
    column: str
    sure: str  # "high", "medium" or "low"
    why: str


@dataclass
class Sniffed:
    file: Path
    encoding: str
    encoding_why: str
    delimiter: str  # as cvm.yaml writes it: ",", ";", "\t", "|" or "whitespace"
    delimiter_why: str
    header: list[str]
    rows: int  # sampled data rows
    date_format: str | None = None
    date_why: str = ""
    mapping: dict[str, Guess] = field(default_factory=dict)
    not_guessed: dict[str, str] = field(default_factory=dict)  # field -> why


def _encoding(raw: bytes) -> tuple[str, str]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", "a UTF-16 byte order mark"
    cut = raw[: max(0, len(raw) - 4)] if len(raw) == SAMPLE_BYTES else raw
    try:
        cut.decode("utf-8")
        return "utf-8", ("a UTF-8 byte order mark" if raw.startswith(b"\xef\xbb\xbf")
                         else "the sample is valid UTF-8")
    except UnicodeDecodeError:
        pass
    try:
        cut.decode("cp1252")
        return "cp1252", "not UTF-8; every byte is a Windows-1252 (Western European) character"
    except UnicodeDecodeError:
        return "latin-1", "neither UTF-8 nor Windows-1252: read as Latin-1, check accents"


def _delimiter(lines: Sequence[str]) -> tuple[str, str]:
    best, best_n = None, 0
    for delim in DELIMITERS:
        counts = {len(next(csv.reader([line], delimiter=delim))) for line in lines}
        if len(counts) == 1 and (n := counts.pop()) > max(best_n, 1):
            best, best_n = delim, n
    if best is not None:
        return best, f"every sampled line has {best_n} {DELIMITERS[best]}-separated fields"
    counts = {len(line.split()) for line in lines}
    if len(counts) == 1 and counts.pop() > 1:
        return "whitespace", "fields are separated by runs of spaces (no comma, semicolon, " \
            "tab or pipe splits every line alike)"
    return ",", "no separator splits every line alike: a single column, or a damaged file"


def _words(name: str) -> str:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return re.sub(r"[^a-z0-9]", "", spaced.lower())


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date_format(values: Sequence[str]) -> str | None:
    """The first format every value parses with, or None."""
    values = [v for v in values if v]
    if not values:
        return None
    for fmt in DATE_FORMATS:
        try:
            for v in values:
                dt.datetime.strptime(v, fmt)
        except ValueError:
            continue
        if fmt == "%Y%m%d" and not all(len(v) == 8 for v in values):
            continue
        return fmt
    return None


def sniff(path: Path) -> Sniffed:
    with path.open("rb") as fh:
        raw = fh.read(SAMPLE_BYTES)
    encoding, enc_why = _encoding(raw)
    text = raw.decode(encoding, errors="replace").lstrip("\ufeff")
    lines = [line for line in re.split(r"\r\n|\r|\n", text)[: SAMPLE_ROWS + 1] if line.strip()]
    if len(raw) == SAMPLE_BYTES and len(lines) > 2:
        lines = lines[:-1]  # the last sampled line may be cut
    delimiter, delim_why = _delimiter(lines[: 200])
    split = (lambda line: line.split()) if delimiter == "whitespace" else (
        lambda line: next(csv.reader([line], delimiter=delimiter)))
    table = [split(line) for line in lines]
    header, body = (table[0], table[1:]) if table else ([], [])
    found = Sniffed(path, encoding, enc_why, delimiter, delim_why, header, len(body))
    columns = {name: [row[i] if i < len(row) else "" for row in body]
               for i, name in enumerate(header)}
    _guess(found, columns)
    return found


def _kind(values: Sequence[str]) -> str:
    filled = [v for v in values if v.strip()]
    if not filled:
        return "empty"
    numbers = [_number(v) for v in filled]
    if all(n is not None for n in numbers):
        if all(float(n).is_integer() for n in numbers if n is not None):
            return "date" if _date_format(filled) == "%Y%m%d" else "integer"
        return "decimal"
    return "date" if _date_format(filled) else "text"


def _name_score(field_name: str, column: str) -> int:
    strong, weak = NAMES[field_name]
    word = _words(column)
    if word in strong:
        return 3
    if any(s in word for s in strong):
        return 2
    return 1 if any(w in word for w in weak) else 0


def _guess(found: Sniffed, columns: dict[str, list[str]]) -> None:
    kinds = {name: _kind(values) for name, values in columns.items()}
    fits = {  # which kinds of values each field can hold
        "customer_id": ("text", "integer"), "date": ("date",),
        "amount": ("decimal", "integer"), "cost": ("decimal", "integer"),
        "margin": ("decimal", "integer"), "quantity": ("integer",),
        "order_id": ("text", "integer"), "channel": ("text",), "category": ("text",)}
    taken: set[str] = set()
    for name in ("date", "customer_id", "amount", "quantity", "cost", "margin", "order_id",
                 "channel", "category"):
        scored = sorted(((_name_score(name, col), -i, col) for i, col in enumerate(columns)
                         if col not in taken), reverse=True)
        pick: Guess | None = None
        for score, _, col in scored:
            fit = kinds[col] in fits[name]
            if score >= 2 and fit:
                pick = Guess(col, "high", f"the name, and the values are {PLURAL[kinds[col]]}")
            elif score == 1 and fit:
                pick = Guess(col, "medium",
                             f"part of the name, and the values are {PLURAL[kinds[col]]}")
            elif score >= 2:
                pick = None
                found.not_guessed.setdefault(name, f"{col!r} is named like it but holds "
                                             f"{kinds[col]} values")
            if pick is not None or score >= 2:
                break
        if pick is None and name in REQUIRED:
            pick = _by_values(name, columns, kinds, taken)
        if pick is None:
            if name in REQUIRED:
                found.not_guessed.setdefault(name, _why_not(name, columns, taken))
            continue
        found.not_guessed.pop(name, None)
        found.mapping[name] = pick
        taken.add(pick.column)
        if name == "date":
            fmt = _date_format([v for v in columns[pick.column] if v])
            found.date_format = None if fmt in ISO else fmt
            sample = next((v for v in columns[pick.column] if v), "")
            found.date_why = (f"every sampled date parses as {fmt} (e.g. {sample!r})"
                              + ("; day and month cannot be told apart in the sample"
                                 if fmt and _ambiguous(columns[pick.column], fmt) else ""))


def _ambiguous(values: Sequence[str], fmt: str) -> bool:
    swapped = {"%d/%m": "%m/%d", "%m/%d": "%d/%m"}
    for a, b in swapped.items():
        if a in fmt:
            return _date_format_is(values, fmt.replace(a, b))
    return False


def _date_format_is(values: Sequence[str], fmt: str) -> bool:
    try:
        for v in values:
            if v:
                dt.datetime.strptime(v, fmt)
    except ValueError:
        return False
    return True


def _by_values(name: str, columns: dict[str, list[str]], kinds: dict[str, str],
               taken: set[str]) -> Guess | None:
    """A required field no column is named like: the first column whose values fit."""
    free = [c for c in columns if c not in taken]
    if name == "date":
        hits = [c for c in free if kinds[c] == "date"]
        return Guess(hits[0], "medium", "its values are dates (the name says nothing)") \
            if hits else None
    if name == "amount":
        hits = [c for c in free if kinds[c] == "decimal"]
        return Guess(hits[0], "low", "its values have decimals (the name says nothing)") \
            if len(hits) == 1 else None
    hits = [c for c in free if kinds[c] in ("text", "integer")
            and len(set(columns[c])) < len(columns[c])]  # ids repeat: customers buy again
    return Guess(hits[0], "low", "its values repeat like customer ids (the name says "
                 "nothing)") if hits else None


DECIMAL_COMMA = re.compile(r"^-?[0-9]+,[0-9]+$")


def _why_not(name: str, columns: dict[str, list[str]], taken: set[str]) -> str:
    if name in ("amount", "cost", "margin"):
        comma = [c for c in columns if c not in taken and any(
            DECIMAL_COMMA.match(v) for v in columns[c]) and all(
            DECIMAL_COMMA.match(v) or _number(v) is not None for v in columns[c] if v)]
        if comma:
            sample = next(v for v in columns[comma[0]] if DECIMAL_COMMA.match(v))
            return (f"column {comma[0]!r} holds numbers with a decimal comma ({sample!r}), "
                    "which CVM Engine does not read: export them with a decimal point")
    if name == "amount":
        return "no column is named like it, and not exactly one column holds decimal numbers"
    return "no column is named like it or holds values like it"
