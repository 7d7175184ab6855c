"""Atomic output: write to a temporary place beside the target, then rename.

A crash or an error never leaves a half-written file or folder where the user looks for one,
and an earlier output stays untouched until the new one is complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

import pandas as pd

from engine.errors import OutputError, Problem


def _fail(path: Path, exc: OSError) -> OutputError:
    reason = exc.strerror or str(exc)
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        reason = "a file is in the way, expected a folder"
    return OutputError(Problem(f"cannot write here: {reason}", file=str(path),
                               hint="choose another output folder with --out, or fix its "
                               "permissions"))


def ensure_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(folder, exc) from None
    if not os.access(folder, os.W_OK):
        raise OutputError(Problem("cannot write here: permission denied", file=str(folder),
                                  hint="choose another output folder with --out"))


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yields a temporary path in the same folder; renamed onto ``path`` on success."""
    ensure_folder(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".cvm-tmp-{path.name}.", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise _fail(path.parent, exc) from None
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except OSError as exc:
        raise _fail(path, exc) from None
    finally:
        tmp_path.unlink(missing_ok=True)


def write_files(writers: dict[Path, Callable[[Path], None]]) -> None:
    """Write several files, each atomically, all temporaries first, then all renames."""
    staged: list[tuple[Path, Path]] = []
    try:
        for target, write in writers.items():
            ensure_folder(target.parent)
            fd, tmp = tempfile.mkstemp(prefix=f".cvm-tmp-{target.name}.", dir=target.parent)
            os.close(fd)
            staged.append((Path(tmp), target))
            write(Path(tmp))
        for tmp_path, target in staged:
            os.replace(tmp_path, target)
    except OSError as exc:
        raise _fail(staged[-1][1] if staged else next(iter(writers)), exc) from None
    finally:
        for tmp_path, _ in staged:
            tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_folder(folder: Path, *, keep: tuple[str, ...] = ()) -> Iterator[Path]:
    """Yields a temporary folder beside ``folder``; it replaces ``folder`` on success.

    ``keep``: entries of the old folder carried over into the new one (outputs of other
    commands, such as ``report/`` and ``fit/`` in a run folder), unless the new one has them.
    """
    ensure_folder(folder.parent)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".cvm-tmp-{folder.name}.", dir=folder.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; the output is for others too
    except OSError as exc:
        raise _fail(folder.parent, exc) from None
    try:
        yield tmp
        if folder.is_file():
            raise NotADirectoryError(20, "a file is in the way", str(folder))
        for name in keep:
            if (folder / name).exists() and not (tmp / name).exists():
                os.replace(folder / name, tmp / name)
        old = None
        if folder.exists():
            old = folder.with_name(f".cvm-old-{folder.name}.{os.getpid()}")
            os.replace(folder, old)
        os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise _fail(folder, exc) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def rounded(frame: pd.DataFrame, money: Collection[str]) -> pd.DataFrame:
    """A table as written: ``money`` columns to cents, other decimals to 6 places. Adding 0.0
    turns -0.0 (a tiny negative rounded, or a negated 0) into 0, so no cell reads "-0"."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype.kind == "f":
            out[col] = out[col].round(2 if col in money else 6) + 0.0
        elif col in money:
            out[col] = out[col].round(2)
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV through Arrow's writer (about ten times pandas' speed at a million rows): dates at
    midnight as YYYY-MM-DD, booleans as true/false, empty cells for missing values, floats in
    their shortest exact form (zero as 0, never -0), quotes only where needed, "\n" line
    ends."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(frame, preserve_index=False)
    columns = []
    for col in table.columns:
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if pa.types.is_timestamp(col.type):
            as_date = pc.cast(col, pa.date32())
            if pc.all(pc.equal(pc.cast(as_date, col.type), col)).as_py() is not False:
                col = as_date
        if pa.types.is_floating(col.type):
            col = pc.add(col, 0.0)  # -0.0 + 0.0 is 0.0: no cell reads "-0"
        columns.append(col)
    table = pa.table(columns, names=table.column_names)
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(
        quoting_style="needed", batch_size=1 << 16))


def csv_writer(frame: pd.DataFrame) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        write_csv(frame, path)
    return write


def parquet_writer(frame: pd.DataFrame) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata(None)  # pandas metadata is not needed downstream
        pq.write_table(table, path, compression="zstd")
    return write
