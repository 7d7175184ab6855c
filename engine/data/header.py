"""A user's table before its rows are read: where it is (``Source``), its header line and the
mapped columns it must hold. Light on purpose (no pandas or pyarrow): ``cvm validate`` checks
local data files with it (``preflight``) without paying for the readers' imports; the readers
(``engine.data.tabular``) use the same functions, so both say the same words."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from engine.data import object_store
from engine.errors import InputError, Problem, did_you_mean
from engine.project.location import config_shown
from engine.project.number_format import PLAIN, Numbers
from engine.project.object_store import ObjectPath

PARQUET_SUFFIXES = (".parquet", ".pq")
_DELIMS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class NoRows(InputError):
    """A file without a data row (empty, or a header or a schema alone): in a folder, a file
    skipped and counted (``engine.data.folder``); anywhere else an error like any other."""


@dataclass(frozen=True)
class Source:
    """Where a table comes from and how it is shown in messages."""

    path: Path | ObjectPath  # a local file, or an object read through fsspec
    display: str  # as the user should see it, e.g. examples/retail/transactions.csv
    setting: str  # the cvm.yaml key naming this file, e.g. data.transactions
    delimiter: str = ","
    encoding: str = "utf-8"
    setting_at: str = "cvm.yaml"  # where that key is, e.g. cvm.yaml:5:17
    # False: a file read with fixed settings (a responses file named on the command line):
    # no cvm.yaml setting applies to it, so no hint may name one
    configured: bool = True
    folder: str | None = None  # one file of this folder (as shown), read as part of it
    first_rows: int | None = None  # only this many rows read, the file has more (validate)
    numbers: Numbers = PLAIN  # data.decimal, data.thousands, data.currency_sign

    @property
    def is_parquet(self) -> bool:
        return self.path.suffix.lower() in PARQUET_SUFFIXES

    def no_rows_hint(self) -> str:
        """The hint for a file with no data: where its name is set, or what to look for."""
        where = f"check {self.setting} at {self.setting_at}, or whether " if self.configured \
            else "check whether "
        return where + "the export stopped early or wrote its rows to another file"

    def date_format_of(self, ours: str, date_format: str | None) -> str | None:
        """The format text dates of our column ``ours`` are read with: data.date_format (a
        database's date column, written by the reader itself, has its own)."""
        return date_format

    def damaged_hint(self) -> str:
        """The hint for a value no export writes on purpose (a control character in an id)."""
        return "the file may be damaged" + ("" if self.is_parquet else ", or a quote left open")

    def empty_hint(self, column: str, text: bool = True) -> str | None:
        """The hint for rows without a value in a column that needs one (``text``: a text
        column, where an empty text is missing too); a file read with fixed settings has its
        command's own."""
        return "fill it in, or leave such rows out of the export" if self.configured else None

    def place(self, row: int, column: str) -> str:
        """Where 0-based data row ``row`` is, as a note names it: ``file:line``, or ``file,
        row N`` (a Parquet file, a table)."""
        at = self.row_problem(row, column, "")
        return f"{at.file}:{at.line}" if at.line else f"{at.file}, " + \
            (at.key or f"row {row + 1}").removesuffix(f", column {column!r}")

    def row_problem(self, row: int, column: str, message: str, hint: str | None = None) -> Problem:
        """A problem at 0-based data row ``row``, at its line of a CSV file."""
        line = None if self.is_parquet else data_line(self, row)
        return Problem(message, file=self.display, line=line,
                       key=f"row {row + 1}, column {column!r}", hint=hint)


def data_line(src: Source, row: int) -> int:
    """The line of a CSV file where 0-based data row ``row`` is: the readers skip empty lines
    (``whitespace``: blank ones), which a user's editor numbers all the same. Read up to that
    row when a problem or a warning names it."""
    # (ASCII whitespace only: pandas' runs of spaces keep a line of other spaces as a row)
    ends = " \t\r\n\f\v" if src.delimiter == "whitespace" else "\n"
    rows = -1  # the header line is line 1
    try:
        with opened_bytes(src) as raw, io.TextIOWrapper(raw, encoding=src.encoding,
                                                        errors="replace") as fh:
            for line, text in enumerate(fh, start=1):
                if line == 1 or text.strip(ends):
                    rows += 1
                    if rows == row + 1:
                        return line
    except OSError:  # gone, or no longer readable: where it was when read
        pass
    return row + 2  # not found: the file changed since it was read


HEAD_BYTES = 1 << 20  # enough for any header line; the data is read by pyarrow
def utf16_hint(setting: str = "data.encoding", name: str = "utf-16") -> str:
    """``name``: utf-16 (a file with its byte order mark), utf-16-le or utf-16-be (without
    one: Python's utf-16 then refuses it)."""
    return (f"the file looks like UTF-16 text: set {setting}: {name} in {config_shown()}, "
            "or save the file as UTF-8")


def encoding_setting(src: Source) -> str:
    """The cvm.yaml key of ``src``'s encoding: the customers file's own, or data.encoding."""
    return "data.customers_encoding" if src.setting == "data.customers" else "data.encoding"


def encoding_hint(src: Source, configured: str, *, utf16: str = "") -> str:
    """The hint of undecodable bytes: ``configured`` names data.encoding, which only a file
    cvm.yaml configures can set. ``utf16``: "is" or "looks like" when the bytes are UTF-16's
    (said to a file read with fixed settings, whose hint names no setting)."""
    if src.configured:
        return configured
    shown = _shown(src.encoding)
    if utf16:
        return f"the file {utf16} UTF-16 text: save it as {shown}"
    return f"the file is read as {shown}: save it as {shown}"


def _shown(encoding: str) -> str:
    return "UTF-8" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding


def column_setting(ours: str, *, customers: bool = False) -> str:
    """The cvm.yaml key that names the user's column for our ``ours``: a contract's end under
    subscriptions:, a consent under data.consents, an attribute under data.attributes (its
    name is the column's), a customers file's other columns under data.customer_columns, a
    transactions file's under data.columns."""
    if ours == "end":
        return "subscriptions.end"
    for prefix, key in (("consent:", "data.consents"), ("attr:", "data.attributes")):
        if ours.startswith(prefix):
            return f"{key}.{ours.removeprefix(prefix)}"
    return f"data.{'customer_columns' if customers else 'columns'}.{ours}"


def mapped(ours: str, *, customers: bool = False) -> str:
    """How a message says where cvm.yaml names the column: "mapped to amount", or the key of
    a consent or attribute ("data.consents.email")."""
    if ours.startswith(("consent:", "attr:")):
        return column_setting(ours, customers=customers)
    return f"mapped to {ours}"


def _fix_hint(ours: str, customers: bool) -> str:
    if ours.startswith("attr:"):
        return ("an attribute is read from the column of its name: fix the name under "
                f"data.attributes in {config_shown()}, and in the rules and policies that use it")
    return (f"fix the column name under {column_setting(ours, customers=customers)} in "
            f"{config_shown()}")


def missing_columns(src: Source, present: Sequence[str], wanted: Mapping[str, str],
                    line: int | None) -> None:
    missing = [(ours, theirs) for ours, theirs in wanted.items() if theirs not in present]
    if not missing:
        return
    if len(present) == 1 and (delim_hint := _delimiter_hint(src, present[0])):
        raise InputError(Problem(
            f"found one column {present[0]!r}, expected the columns "
            + ", ".join(repr(t) for t in wanted.values()) + f" separated by {src.delimiter!r}",
            file=src.display, line=line, key="header", hint=delim_hint))
    # a file of a folder with none of the mapped columns, nor one close to them: not data
    if src.folder is not None and len(missing) == len(wanted) > 1 and not any(
            did_you_mean(theirs, present) for _, theirs in missing):
        raise InputError(Problem(
            "none of the mapped columns is in this file of the folder; columns present: "
            + ", ".join(repr(p) for p in present[:20]) + (" ..." if len(present) > 20 else ""),
            file=src.display, line=line, key="header", hint=(
                "a file of another table? move it out of the folder" if src.is_parquet else
                "a file that is not data (notes, a README) is read because its name ends in "
                f"{src.path.suffix}: move it out of the folder, or rename it (.md is not read)")
            + f"; else fix the column names under data.columns in {config_shown()}"))
    problems = []
    customers = src.setting == "data.customers"
    for ours, theirs in missing:
        hint = did_you_mean(theirs, present)
        problems.append(Problem(
            f"column {theirs!r} ({mapped(ours, customers=customers)} in {config_shown()}) not "
            "found; "
            "columns present: " + ", ".join(repr(p) for p in present[:20])
            + (" ..." if len(present) > 20 else ""),
            file=src.display, line=line, key="header", hint=hint or _fix_hint(ours, customers),
        ))
    raise InputError(problems)


def _delimiter_hint(src: Source, only_column: str) -> str | None:
    for delim, name in _DELIMS.items():
        if delim != src.delimiter and delim in only_column:
            shown = "\\t" if delim == "\t" else delim
            if src.setting == "data.customers":  # its own, or the transactions' too
                return (f"the header looks {name}-separated but the customers file is read "
                        f"with {src.delimiter!r}: set data.customers_delimiter: {shown!r} in "
                        f"{config_shown()} (data.delimiter, when the transactions file is "
                        f"{name}-separated too)")
            return (f"the header looks {name}-separated but data.delimiter is "
                    f"{src.delimiter!r}: set data.delimiter: {shown!r} in {config_shown()}")
    return None


def utf8_read_otherwise(src: Source, head: bytes) -> Problem | None:
    """The problem of a UTF-8 file read in a one-byte encoding (cp1252, latin-1), as its
    first bytes ``head`` show it: a UTF-8 byte order mark, or letters beyond ASCII written in
    UTF-8's bytes, which such an encoding reads as two or three others without an error
    (``Süd`` as ``SÃ¼d``): every text of the file would be changed, unsaid. None: not so."""
    if head.isascii() or len(b"\xc3\xbc".decode(src.encoding, errors="replace")) != 2:
        return None  # ASCII, or an encoding of more than one byte a letter (UTF-*, gbk, ...)
    bom = head.startswith(b"\xef\xbb\xbf")
    try:  # (the last bytes may be part of a letter cut by the size of head)
        text = codecs.getincrementaldecoder("utf-8")().decode(head[3:] if bom else head)
    except UnicodeDecodeError:
        return None  # not UTF-8: the encoding it is read in may well be right
    at = next((i for i, ch in enumerate(text) if not ch.isascii()), None)
    line = 1  # where the letter is (a byte order mark: the first line)
    if bom:
        found = "a UTF-8 byte order mark at its start"
    elif at is None:  # only the first byte of a letter, cut at the end: too little to say
        return None
    else:
        letter = text[at]
        line = text.count(chr(10), 0, at) + 1
        found = (f"{letter!r} in UTF-8's bytes, which {src.encoding} reads as "
                 f"{letter.encode('utf-8').decode(src.encoding, errors='replace')!r}")
    setting = encoding_setting(src)
    return Problem(f"the file is UTF-8 text ({found}), read as {src.encoding}: every letter "
                   "beyond ASCII would be changed", file=src.display, line=line,
                   hint=encoding_hint(src, f"set {setting}: utf-8 in {config_shown()}" + (
                       " (the customers file's own encoding; data.encoding stays the "
                       "transactions file's)" if setting != "data.encoding" else "")))


def header_names(src: Source, head: bytes) -> list[str]:
    """The column names of the first line of ``head``, the file's first bytes (any line
    ending; a UTF-8 byte order mark is dropped), checked: not empty, no NUL bytes (a UTF-16
    file read as UTF-8)."""
    utf16_bom = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    if (problem := utf8_read_otherwise(src, head)) is not None:
        raise InputError(problem)
    if utf16_bom and not codecs.lookup(src.encoding).name.startswith(("utf-16", "utf-32")):
        width = "32" if head.startswith(b"\xff\xfe\x00\x00") else "16"
        raise InputError(Problem(  # said as what it is, not as its first byte
            f"the file starts with a UTF-{width} byte order mark, read as "
            f"{_shown(src.encoding)}",
            file=src.display, line=1,
            hint=encoding_hint(src, utf16_hint(encoding_setting(src)), utf16="is")))
    decoder = codecs.getincrementaldecoder(src.encoding)()
    whole = True  # the head decoded to its end (else ``text`` stops at a bad byte)
    try:
        text = decoder.decode(head, final=False)
    except UnicodeDecodeError as exc:
        whole = False
        text = head[: exc.start].decode(src.encoding, errors="replace")
        if not any(c in text for c in "\r\n"):  # the bad byte is in the header itself
            raise InputError(Problem(
                f"byte {head[exc.start]:#04x} at position {exc.start + 1} is not valid "
                f"{src.encoding}", file=src.display, line=1,
                hint=encoding_hint(src, utf16_hint(encoding_setting(src)) if utf16_bom else
                                   "save the file as "
                                   f"UTF-8, or set {encoding_setting(src)} in "
                                   f"{config_shown()} (e.g. latin-1)")
                )) from None
    except UnicodeError as exc:  # not a byte at fault: UTF-16 or UTF-32 without a byte order mark
        raise InputError(Problem(
            f"cannot be read as {src.encoding}: {exc}", file=src.display, line=1,
            hint=encoding_hint(src, f"name the byte order in {encoding_setting(src)} in "
                               f"{config_shown()}: "
                               f"{src.encoding}-le or {src.encoding}-be (a file without a "
                               "byte order mark at its start)"))) from None
    first = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0].lstrip("\ufeff")
    if "\x00" in first:
        # no byte order mark: the order is the NUL's side of the first letter
        order = "utf-16-be" if head[:1] == b"\x00" else "utf-16-le"
        raise InputError(Problem("found NUL bytes in the header line, expected text",
                                 file=src.display, line=1, key="header",
                                 hint=encoding_hint(src, utf16_hint(encoding_setting(src),
                                                                    order),
                                                    utf16="looks like")))
    if not head or (whole and len(head) < HEAD_BYTES and not text.lstrip("\ufeff").strip()):
        # 0 bytes (its readers may not look at its size), or a BOM or blank lines alone
        raise NoRows(Problem("the file is empty" + ("" if not head else " (a byte order mark "
                             "or blank lines alone)") + ", expected a header line and data "
                             "rows", file=src.display, hint=src.no_rows_hint()))
    if not first.strip():
        raise InputError(Problem(
            "the first line is empty, expected the header line with the column names",
            file=src.display, line=1, key="header",
            hint="the header must be the first line: remove the blank lines above it"))
    if src.delimiter == "whitespace":
        return first.split()
    try:
        return next(csv.reader([first], delimiter=src.delimiter))
    except csv.Error as exc:  # a "header" the size of the file: not the text it is read as
        raise InputError(Problem(
            f"cannot read the header line as {src.encoding} text ({exc})", file=src.display,
            line=1, key="header", hint=encoding_hint(src, f"check {encoding_setting(src)} in "
                                                     f"{config_shown()}: the file may be "
                                                     "written in another encoding"))) from None


def names(ours: str) -> str:
    """How a hint begins to say which cvm.yaml setting names a column."""
    if ours.startswith(("consent:", "attr:")):
        return f"{column_setting(ours)} in {config_shown()} names"
    return f"{config_shown()} maps {ours} to"


def duplicated_columns(src: Source, header: list[str], wanted: Mapping[str, str]) -> None:
    """A mapped column named twice in the header: which one holds the values is a guess."""
    for ours, theirs in wanted.items():
        where = [i + 1 for i, name in enumerate(header) if name == theirs]
        if len(where) > 1:
            raise InputError(Problem(
                f"column {theirs!r} appears {len(where)} times (columns "
                + ", ".join(map(str, where)) + "), expected once", file=src.display, line=1,
                key="header", hint=f"{names(ours)} {theirs!r}, which must name "
                "one column: rename the others" if src.configured else "a column is named "
                "once in the header: rename or remove the others"))




def check_local(src: Source) -> None:
    """What a local file must be before it is read: there, a file, not empty."""
    assert isinstance(src.path, Path)
    if not src.path.exists():
        raise InputError(Problem("file not found", file=src.display,
                                 hint=f"check {src.setting} at {src.setting_at} (paths are "
                                 "relative to the project folder)"))
    if src.path.is_dir():
        raise InputError(Problem("is a folder, expected a CSV or Parquet file", file=src.display,
                                 hint=object_store.folder_hint(src.setting, src.setting_at)))
    if src.path.stat().st_size == 0:
        raise NoRows(Problem("the file is empty, expected a header line and data rows",
                                 file=src.display, hint=src.no_rows_hint()))


def no_rows(src: Source) -> Problem:
    return Problem("the file has columns but no rows" if src.is_parquet else
                   "the file has a header but no data rows", file=src.display,
                   hint=src.no_rows_hint())


def preflight(src: Source, wanted: Mapping[str, str]) -> None:
    """``cvm validate``'s look at a file without reading its rows: what the readers refuse
    before they read (missing, a folder, empty, a mapped column not in the header or schema)
    and no data row at all. The values are checked when the rows are read. An object on a
    store: its header line or Parquet footer alone (``object_store.check_stores`` has found
    it, not empty)."""
    if isinstance(src.path, Path):
        check_local(src)
    if src.is_parquet:
        import pyarrow as pa  # only for a Parquet file: validate imports no reader otherwise
        import pyarrow.parquet as pq

        try:
            with opened_bytes(src, head=True) as fh:
                meta = pq.read_metadata(fh)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(Problem(f"not a readable Parquet file ({exc})", file=src.display,
                                     hint="a .parquet file must be written by a Parquet "
                                     "writer")) from None
        missing_columns(src, meta.schema.to_arrow_schema().names, wanted, None)
        if meta.num_rows == 0:
            raise NoRows(no_rows(src))
        return
    with opened_bytes(src, head=True) as fh:
        head = fh.read(HEAD_BYTES)
    header = header_names(src, head)
    missing_columns(src, header, wanted, 1)
    duplicated_columns(src, header, wanted)
    rest = re.split(rb"\r\n|\r|\n", head, maxsplit=1)[1:]
    if len(head) < HEAD_BYTES and not (rest and rest[0].strip()):
        raise NoRows(no_rows(src))  # blank lines after the header are no rows either


@contextmanager
def opened_bytes(src: Source, *, head: bool = False) -> Iterator[IO[bytes]]:
    """The file, or the object through fsspec, open for reading bytes (``head``: a header
    line or a Parquet footer alone, ``object_store.opened``)."""
    if isinstance(src.path, Path):
        with src.path.open("rb") as fh:
            yield fh
    else:
        with object_store.opened(src.path, src.setting, head=head) as fh:
            yield fh
