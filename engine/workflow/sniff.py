"""Guess how a transactions file is written and which columns hold what (``cvm init --from``).

Reads the first rows only. Every guess carries how sure it is and why, so that the scaffolded
``cvm.yaml`` can say so in its comments; what cannot be guessed is named, not invented.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from engine.data.date_text import read_dates
from engine.data.typed_columns import AFTER_LATEST_S, EARLIEST_S
from engine.errors import InputError, Problem
from engine.workflow import sniff_format, sniff_parquet
from engine.workflow.sniff_names import name_score, net_first
from engine.workflow.sniff_numbers import (
    DECIMAL_COMMA,
    as_read,
    currency_of,
    decimal_mark,
    number_trouble,
    plain_number,
)
from engine.workflow.sniff_values import by_values, order_numbers

SAMPLE_BYTES = 1 << 20
SAMPLE_ROWS = 2000
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# formats tried on the date column after ISO 8601 (which needs no date_format in cvm.yaml),
# most common first; each is tried with the engine's own date reader
ISO = "ISO 8601"
DATE_FORMATS = ("%Y%m%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y",
                "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S",
                "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S",
                "%d/%m/%y", "%m/%d/%y", "%d.%m.%y", "%d-%m-%y")
REQUIRED = ("customer_id", "date", "amount")
PLURAL = {"text": "text", "integer": "whole numbers", "decimal": "decimal numbers",
          "date": "dates", "empty": "empty", "words": "text of several words"}


@dataclass(frozen=True)
class Guess:
    column: str
    sure: str  # "high", "medium" or "low"
    why: str


@dataclass(frozen=True)
class Contracts:
    """A contracts file (``subscriptions:`` in cvm.yaml; engine/workflow/sniff_contracts.py)."""

    end: Guess  # the column with each contract's end
    billing_days: int
    billing_sure: str
    billing_why: str


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
    date_sure: str = "high"  # "low" when day and month cannot be told apart
    date_other: str | None = None  # then the format with day and month swapped
    date_first: str = "the month"  # what comes first in date_other
    mapping: dict[str, Guess] = field(default_factory=dict)
    not_guessed: dict[str, str] = field(default_factory=dict)  # required field -> why
    not_mapped: dict[str, str] = field(default_factory=dict)  # optional field -> why
    columns: dict[str, list[str]] = field(default_factory=dict, repr=False)  # the sample
    # as read under ``decimal``; ``written``: as the file writes it
    written: dict[str, list[str]] = field(default_factory=dict, repr=False)
    contracts: Contracts | None = None  # one row per contract, not per purchase
    decimal: str = "."  # the numbers' decimal mark, as cvm.yaml's data.decimal
    currency: tuple[str, str] | None = None  # the currency code a money column says, and why
    decimal_why: str = ""
    # the currency sign and thousands separator the amounts are written with, if any
    written_as: sniff_format.Format | None = None
    parquet: bool = False  # a Parquet file: no delimiter or encoding in cvm.yaml


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


def _reads(values: Sequence[str], fmt: str) -> bool:
    """Whether the engine reads every value as a date in ``fmt`` (ISO: no date_format), each
    within the years it takes (02.12.24 read with %Y is in year 24: refused)."""
    text = pa.chunked_array([pa.array(list(values), pa.string())])
    try:
        dates, bad = read_dates(text, None if fmt == ISO else fmt)
    except (pa.ArrowInvalid, ValueError):
        return False
    if bad.any():
        return False
    # in seconds, a fraction dropped (as the engine reads it): a year 20000 is no Python date
    ticks = pc.min_max(pc.cast(dates, pa.int64())).as_py()
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[dates.type.unit]
    if ticks["min"] is None:
        return True
    return bool(ticks["min"] // per_second >= EARLIEST_S
                and ticks["max"] // per_second < AFTER_LATEST_S)


def _date_format(values: Sequence[str]) -> str | None:
    """The first format (ISO first) the engine reads every value with, or None. Plain numbers
    are dates only as YYYYMMDD."""
    values = [v.strip() for v in values if v.strip()]
    if not values:
        return None
    numbers = all(plain_number(v) is not None for v in values)
    if numbers and not all(len(v) == 8 and v.isdigit() for v in values):
        return None
    for fmt in (() if numbers else (ISO,)) + DATE_FORMATS:
        if (fmt == "%Y%m%d") != numbers:
            continue
        if _reads(values, fmt):
            return fmt
    return None


ZIP = b"PK\x03\x04"


def _refuse_binary(path: Path, raw: bytes) -> None:
    """A workbook, a Parquet file or UTF-16 without a byte order mark would be read as
    nonsense text (and its bytes written into cvm.yaml's comments): refused first."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" not in raw[:SAMPLE_BYTES]:
        return
    head = raw[:4096]
    if raw.startswith(ZIP):
        like = "; it starts like a zip archive (an Excel .xlsx or .ods workbook)"
    elif head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4:
        like = "; it looks like UTF-16 text without a byte order mark"
    else:
        like = ""
    raise InputError(Problem(
        f"found binary data (NUL bytes), expected a text file such as CSV{like}",
        file=str(path), hint="export or save it as CSV (UTF-8), then run `cvm init --from` "
        "again"))


def _refuse_headerless(path: Path, first: Sequence[str], delimiter: str) -> None:
    """cvm.yaml maps columns by the names of a header line: a first line of data would give
    columns named "00004" and lose the first row, so it is refused with the fix."""
    if not first or not all(plain_number(v) is not None or DECIMAL_COMMA.match(v.strip())
                            or _date_format([v]) for v in first):
        return
    sep = " " if delimiter == "whitespace" else delimiter
    shown = ", ".join(repr(v) for v in first[:6]) + (", ..." if len(first) > 6 else "")
    raise InputError(Problem(
        f"found no header line: every field of the first line is a number or a date "
        f"({shown}), expected the names of the columns", file=str(path), line=1,
        hint="CVM Engine reads files whose first line names the columns: add one (e.g. "
        f"{sep.join(('customer_id', 'date', 'amount'))}, with the file's delimiter) and run "
        "`cvm init --from` again"))


def sniff(path: Path) -> Sniffed:
    with path.open("rb") as fh:
        raw = fh.read(SAMPLE_BYTES)
    if raw.startswith(sniff_parquet.MAGIC):  # read by its column types
        header, columns, numeric = sniff_parquet.sample(path, SAMPLE_ROWS)
        found = _sniffed(path, ("utf-8", "a Parquet file"), (",", "a Parquet file"), header,
                         columns, parquet=True)
        guess = found.mapping.get("date")
        if (why := sniff_parquet.number_date(guess.column if guess else None, columns,
                                             numeric)):
            del found.mapping["date"]  # a date of numbers: the engine refuses it
            found.not_guessed["date"], found.date_format, found.date_other = why, None, None
        return found
    _refuse_binary(path, raw)
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
    if not body:  # nothing to guess from: said, not a project of empty columns
        raise InputError(Problem(
            ("found a header line and no data rows" if header else "found an empty file")
            + ", expected a header line and rows of transactions", file=str(path),
            hint="export the transactions with their rows, then run `cvm init --from` again"))
    _refuse_headerless(path, header, delimiter)
    return _sniffed(path, (encoding, enc_why), (delimiter, delim_why), header,
                    {name: [row[i] if i < len(row) else "" for row in body]
                     for i, name in enumerate(header)})


def _sniffed(path: Path, encoding: tuple[str, str], delimiter: tuple[str, str],
             header: list[str], columns: dict[str, list[str]], *, parquet: bool = False
             ) -> Sniffed:
    """The guesses from the sampled ``columns`` (each column's values as text)."""
    written = columns  # guessed from as the engine will read them: 12,50 is 12.50
    if (fmt := sniff_format.guess(columns)) is not None:  # £1,250.00: data.thousands...
        decimal, decimal_why = fmt.numbers.decimal, fmt.why
        columns = {name: sniff_format.as_read(values, fmt.numbers)
                   for name, values in columns.items()}
    else:
        decimal, decimal_why = decimal_mark(columns)
        columns = {name: as_read(values, decimal, delimiter[0] == ";")
                   for name, values in columns.items()}
    found = Sniffed(path, *encoding, *delimiter, header,
                    max((len(v) for v in written.values()), default=0),
                    columns=columns, written=written, decimal=decimal, decimal_why=decimal_why,
                    written_as=fmt, parquet=parquet)
    found.currency = currency_of(written, fmt.numbers.sign if fmt else None)
    _guess(found, columns)
    return found


def _kind(values: Sequence[str]) -> str:
    filled = [v for v in values if v.strip()]
    if not filled:
        return "empty"
    numbers = [plain_number(v) for v in filled]
    if all(n is not None for n in numbers):
        if all(float(n).is_integer() for n in numbers if n is not None):
            return "date" if _date_format(filled) == "%Y%m%d" else "integer"
        return "decimal"
    if _date_format(filled):
        return "date"
    # names and descriptions (mostly several words) are never ids
    return "words" if sum(" " in v.strip() for v in filled) * 2 > len(filled) else "text"


FITS = {  # which kinds of values each field can hold
    "customer_id": ("text", "integer"), "date": ("date",),
    "amount": ("decimal", "integer"), "cost": ("decimal", "integer"),
    "margin": ("decimal", "integer"), "quantity": ("integer",),
    "order_id": ("text", "integer"), "channel": ("text", "words"),
    "category": ("text", "words")}


def _guess(found: Sniffed, columns: dict[str, list[str]]) -> None:
    kinds = {name: _kind(values) for name, values in columns.items()}
    taken: set[str] = set()
    for name in ("date", "customer_id", "amount", "quantity", "cost", "margin", "order_id",
                 "channel", "category"):
        # a cost or a margin changes every margin: by its whole name or words only (not
        # Versandkosten, shipping)
        least = 2 if name in ("cost", "margin") else 1
        ranked = sorted(((name_score(name, col), -net_first(col) if name == "amount" else 0,
                          -i, col) for i, col in enumerate(columns)
                         if col not in taken and name_score(name, col) >= least), reverse=True)
        named = [(sc, i, col) for sc, _, i, col in ranked]  # net before gross, then leftmost
        fitting = [(sc, col) for sc, _, col in named if kinds[col] in FITS[name]]
        pick: Guess | None = None
        if fitting:
            score, col = fitting[0]
            what = "the name" if score >= 2 else "part of the name"
            sure = "high" if score >= 2 else "medium"
            why = f"{what}, and the values are {PLURAL[kinds[col]]}"
            rival = next((c for sc, c in fitting[1:] if sc >= 2 and score >= 2), None)
            if rival is not None:  # two columns named alike: the first is only a guess
                sure = "medium" if sure == "high" else "low"
                why += f"; {rival!r} is named like it too: check which holds the " + (
                    "customer" if name == "customer_id" else name.replace("_", " "))
            pick = Guess(col, sure, why)
        elif named and named[0][0] >= 2:
            col = named[0][2]
            (found.not_guessed if name in REQUIRED else found.not_mapped)[name] = \
                _unfit_why(found, col, kinds[col], name)
        if pick is None and name in REQUIRED and not (
                named and named[0][0] >= 2 and _trouble(found, named[0][2])) and not (
                name == "amount" and any(_trouble(found, c) for c in columns if c not in taken)):
            # by its values only when no column is named like it: a column named like it that
            # cannot be read (amounts with a currency symbol), or any column of numbers that
            # cannot (Umsatz written 42,70 beside Kosten 28.42), must not hand the field to
            # another column of numbers (the cost)
            pick = Guess(*hit) if (hit := by_values(name, columns, kinds, taken)) else None
        if pick is None and name == "order_id" and not named:
            pick = Guess(*hit) if (hit := order_numbers(columns, taken)) else None
        if pick is None:
            if name in REQUIRED:
                found.not_guessed.setdefault(name, _why_not(found, name, taken))
            continue
        found.not_guessed.pop(name, None)
        found.mapping[name] = pick
        taken.add(pick.column)
        if name == "date":
            _date_guess(found, [v for v in columns[pick.column] if v.strip()])


def _date_guess(found: Sniffed, values: list[str]) -> None:
    fmt = _date_format(values)
    found.date_format = None if fmt == ISO else fmt
    found.date_why = f"every sampled date parses as {fmt} (e.g. {values[0]!r})"
    swapped = _swapped(fmt or "")
    if swapped and _reads(values, swapped):
        found.date_sure, found.date_other = "low", swapped
        found.date_why += "; day and month cannot be told apart in the sample"
    first = None if found.date_other else _year_first(fmt or "")  # 03/01/24: month first
    if first and _reads(values, first) and not _ahead(values, first):  # 23.04.17: 2017 or 2023?
        found.date_sure, found.date_other, found.date_first = "low", first, "the year"
        found.date_why += "; a two-digit year may come first or last"


def _ahead(values: list[str], fmt: str) -> bool:
    """Whether a reading of the dates puts one after today (28.12.24 read year first is in
    2028: not a purchase made yet)."""
    from engine.project.as_of_today import today

    dates = read_dates(pa.chunked_array([pa.array(values, pa.string())]), fmt)[0]
    latest = pc.max(pc.cast(dates, pa.timestamp("s"))).as_py()
    return latest is not None and latest.date() > today()


def _year_first(fmt: str) -> str | None:
    """A two-digit year written last (%d.%m.%y), written first instead (%y.%m.%d)."""
    found = re.fullmatch(r"%[dm]([./-])%[dm]\1%y", fmt)
    return f"%y{found.group(1)}%m{found.group(1)}%d" if found else None


def _swapped(fmt: str) -> str | None:
    for a, b in (("%d/%m", "%m/%d"), ("%m/%d", "%d/%m"), ("%d.%m", "%m.%d"),
                 ("%d-%m", "%m-%d")):
        if a in fmt:
            return fmt.replace(a, b)
    return None


def _trouble(found: Sniffed, col: str) -> str | None:
    if found.written_as is not None:  # every money column reads under its settings
        return None
    return number_trouble(col, found.written.get(col, found.columns[col]), found.decimal,
                          found.delimiter == ";")


def _unfit_why(found: Sniffed, col: str, kind: str, field: str = "") -> str:
    odd = [v for v in found.columns[col] if v and plain_number(v) is None]
    # the value that tells: a negative in parentheses or with its minus after, if any
    text = next((v for v in odd if re.search(r"^\(.*\)$|-$", v.strip())), odd[0] if odd else None)
    if field == "customer_id" and kind == "words":  # QuickBooks' Customer: Acme54 Ltd
        return (f"{col!r} holds names of several words (e.g. {text!r}), not ids: write it here "
                "if they identify your customers")
    return _trouble(found, col) or (
        f"{col!r} is named like it but holds {'text' if kind == 'words' else kind} values"
        + (f" (e.g. {text!r})" if text is not None and kind in ("words", "text") else ""))


def _why_not(found: Sniffed, name: str, taken: set[str]) -> str:
    if name in ("amount", "cost", "margin"):  # the columns named like it first
        free = [c for c in found.columns if c not in taken]
        for col in sorted(free, key=lambda c: -name_score(name, c)):
            why = _trouble(found, col)
            if why is not None:
                return why
    if name == "amount":
        return "no column is named like it, and not exactly one column holds decimal numbers"
    return "no column is named like it or holds values like it"
