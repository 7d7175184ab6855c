"""``data.transactions`` as a folder of CSV or Parquet files (a Parquet dataset, as ``cvm run
--engine dask`` reads it), local or a prefix on object storage: read by one process as the
concatenation of its files, in the order the Dask engine reads them (sorted by path; a
``name=value`` folder tree is walked; hidden and ``_`` names left out), each file with the same
reader and checks as a single file. A bad row is named by its own file (an object by its URL)
and its row (its CSV line) in that file."""

from __future__ import annotations

import bisect
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa

from engine.data import object_store
from engine.data.empty_tail import counted, dropped
from engine.data.header import NoRows
from engine.data.object_store import DATA_SUFFIXES, is_left_out, shown_names
from engine.data.tabular import Source, read_columns
from engine.errors import InputError, Problem
from engine.project.object_store import ObjectPath


def listing(folder: Path) -> tuple[list[Path], list[str]]:
    """The data files of ``folder``, in the order they are read, and the names (under the
    folder) of its other files, not read (hidden and ``_`` names are neither)."""
    found = sorted(p for p in folder.rglob("*")
                   if p.is_file() and not is_left_out(p.relative_to(folder).parts))
    files = [p for p in found if p.suffix.lower() in DATA_SUFFIXES]
    return files, [p.relative_to(folder).as_posix() for p in found
                   if p.suffix.lower() not in DATA_SUFFIXES]


def data_files(folder: Path) -> list[Path]:
    """The data files of ``folder``, in the order they are read."""
    return listing(folder)[0]


@dataclass(frozen=True)
class FolderRows(Source):
    """A folder as the typed checks see it: row ``i`` of the whole is a row of one file
    (``starts``: each file's first row in the whole, and the file; filled as they are read)."""

    starts: list[tuple[int, Source]] = field(default_factory=list, compare=False)

    def damaged_hint(self) -> str:
        files = [part for _, part in self.starts]  # a quote only in a CSV file
        return files[0].damaged_hint() if files and all(f.is_parquet for f in files) \
            else super().damaged_hint()

    def row_problem(self, row: int, column: str, message: str, hint: str | None = None
                    ) -> Problem:
        at = bisect.bisect_right([s for s, _ in self.starts], row) - 1
        if at < 0:
            return super().row_problem(row, column, message, hint)
        start, part = self.starts[at]
        return part.row_problem(row - start, column, message, hint)


def as_folder(src: Source) -> Source:
    """``src`` as a FolderRows when it names a local folder or a prefix on a store, else
    unchanged."""
    if isinstance(src, FolderRows):
        return src
    if isinstance(src.path, ObjectPath):
        if object_store.info(src.path, src.setting).get("type") != "directory":
            return src
    elif not src.path.is_dir():
        return src
    return FolderRows(**{f: getattr(src, f) for f in ("path", "display", "setting",
                                                      "delimiter", "encoding", "setting_at",
                                                      "numbers")})


def no_data_file(folder: Source) -> Problem:
    if isinstance(folder.path, ObjectPath):  # as cvm validate and --engine dask say it
        return object_store.empty_prefix(folder.path, folder.setting)
    return Problem("the folder holds no data file", file=folder.display,
                   hint=f"check {folder.setting} at {folder.setting_at}: a Parquet dataset is a "
                   "folder of .parquet files (CSV files work too)")


def part_source(folder: Source, file: Path) -> Source:
    """One file of ``folder``, named in messages by its path under the folder's name."""
    assert isinstance(folder.path, Path)
    return replace(Source(file, str(Path(folder.display) / file.relative_to(folder.path)),
                          folder.setting), delimiter=folder.delimiter, encoding=folder.encoding,
                   setting_at=folder.setting_at, folder=folder.display, numbers=folder.numbers)


def parts(folder: Source) -> tuple[list[tuple[str, Source]], list[str]]:
    """The data files of a folder or prefix as they are read (each by its name under the
    folder, and as a source of its own), and the names of its other files, not read."""
    if isinstance(folder.path, ObjectPath):
        found, skipped = object_store.files_under(folder.path, folder.setting)
        root = folder.path.url.rstrip("/") + "/"
        return [(loc.url.removeprefix(root), replace(
            Source(loc, loc.url, folder.setting), delimiter=folder.delimiter,
            encoding=folder.encoding, setting_at=folder.setting_at, folder=folder.display,
            numbers=folder.numbers))
            for loc, _ in found], skipped
    files, skipped = listing(folder.path)
    return [(file.relative_to(folder.path).as_posix(), part_source(folder, file))
            for file in files], skipped


def read_folder(src: Source, wanted: Mapping[str, str], repetitive: Collection[str] = ()
                ) -> tuple[pa.Table, list[str], list[str]]:
    """Every file's ``wanted`` columns, one file after the other (``tabular.read_columns``),
    the names of the folder's other files, not read (``parts``: the folder is walked once),
    and of its files without a row (empty, or a header or schema alone: as a job writing one
    file per partition leaves for an empty one), skipped."""
    rows = as_folder(src)
    assert isinstance(rows, FolderRows)
    files, skipped = parts(rows)
    if not files:
        raise InputError(no_data_file(rows))
    rows.starts.clear()
    tables: list[tuple[str, pa.Table]] = []
    empty: list[str] = []
    start = 0
    for name, part in files:
        try:
            table = read_columns(part, wanted, repetitive)
        except NoRows:
            empty.append(name)
            continue
        rows.starts.append((start, part))
        start += table.num_rows
        tables.append((name, table))
    if not tables:
        raise InputError(no_rows_at_all(rows, empty))
    try:
        return counted(pa.concat_tables([t for _, t in tables], promote_options="permissive"),
                       sum(dropped(t) for _, t in tables)), skipped, empty
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise InputError(mixed_types(rows.display, list(tables), wanted)) from None


def no_rows_at_all(folder: Source, empty: Sequence[str]) -> Problem:
    """A folder whose every data file is without a row (``empty``: their names in it)."""
    return Problem(f"every data file of the folder is without rows: {shown_names(empty)}",
                   file=folder.display, hint=folder.no_rows_hint())


def mixed_types(display: str, tables: list[tuple[str | None, pa.Table]],
                wanted: Mapping[str, str]) -> Problem:
    """The files of a folder whose columns cannot be put together: the first column whose
    kind differs, and in which files (``None``: a file not named)."""
    said = "have different column types"
    for name in tables[0][1].column_names if tables else ():
        kinds = [(file, _kind(t.column(name).type)) for file, t in tables if name in t.column_names]
        if len({kind for _, kind in kinds}) > 1:
            (a, ka), (b, kb) = kinds[0], next(k for k in kinds if k[1] != kinds[0][1])
            column = wanted.get(name, name)
            said = (f"hold column {column!r} as {ka} in {a or 'one file'} and as {kb} in "
                    f"{b or 'another'}")
            break
    return Problem(f"the files of the folder {said}", file=display,
                   hint="write every file of the folder with the same columns and types (a "
                   "folder of Parquet files, or one of CSV files: CSV files hold text)")


def _kind(kind: pa.DataType) -> str:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "text"
    if pa.types.is_date(kind):
        return "dates"
    if pa.types.is_timestamp(kind):
        return "timestamps"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "numbers"
    return str(kind)
