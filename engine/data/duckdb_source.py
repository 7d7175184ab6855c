"""Reading ``data.transactions`` from a table or query of a DuckDB file (``duckdb:///path``).

The file is opened read-only and with DuckDB's ``enable_external_access`` off (the setting then
locked): a query reads the file's own tables only, never another file, a URL or an extension
(``read_text``, ``read_csv``, ``ATTACH``, ``COPY``, httpfs are refused, said as ``outside``).
Each mapped column is read as DuckDB's text of it (``CAST(... AS
VARCHAR)``: ISO dates, exact decimals), in Arrow batches, and then goes through the same typed
checks as a CSV file's text, as a PostgreSQL source does (``engine.data.database``). The input
hash is the SHA-256 of the rows as CSV text. Needs the ``duckdb`` package (``pip install
'cvm-engine[duckdb]'``).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from engine.errors import InputError, Problem, did_you_mean
from engine.project.database_source import DatabaseSource

BATCH_ROWS = 1 << 20


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table(source: DatabaseSource) -> str:
    assert source.table is not None
    return ".".join(_q(p) for p in source.table.split(".", 1))


def _select_all(source: DatabaseSource) -> str:
    if source.table is not None:
        return f"SELECT * FROM {_table(source)}"
    assert source.query is not None
    return source.query.strip().rstrip(";")


def _connect(source: DatabaseSource) -> Any:
    try:
        import duckdb
    except ImportError:
        raise InputError(Problem(
            "reading a DuckDB file needs the duckdb package, which is not installed",
            file=source.display, key=f"data.transactions ({source.setting_at})",
            hint="pip install 'cvm-engine[duckdb]'")) from None
    assert source.file is not None
    if not source.file.is_file():
        raise InputError(Problem(
            "file not found" if not source.file.exists() else "is not a file",
            file=str(source.file), key=source.key("url"),
            hint="duckdb:///path is relative to the project folder; duckdb:////path is an "
            "absolute path"))
    try:
        # nothing outside the file: no other file, URL, database or extension, and the query
        # cannot turn that back on (lock_configuration)
        conn = duckdb.connect(str(source.file), read_only=True,
                              config={"enable_external_access": False})
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SET lock_configuration = true")
    except duckdb.Error as exc:
        if "Could not set lock" in str(exc):  # DuckDB: one writer, and no reader beside it
            pid = re.search(r"\(PID (\d+)\)", str(exc))
            raise InputError(Problem(
                "cannot be read while another process has it open for writing"
                + (f" (PID {pid.group(1)})" if pid else ""), file=source.display,
                key=source.key("url"),
                hint="run when that process has closed the file (DuckDB lets no one read a "
                "file while it is written), or point data.transactions.url at a copy of it"
            )) from None
        raise InputError(Problem(
            f"cannot be opened as a DuckDB database: {_first_line(exc)}", file=source.display,
            key=source.key("url"), hint=None if _is_duckdb_file(source.file) else
            "duckdb:/// names a database file made by DuckDB; a CSV or Parquet file is named "
            "as a path: data.transactions: path/to/file.csv")) from None
    return conn


def _is_duckdb_file(path: Path) -> bool:
    """Whether the file starts as DuckDB's files do ("DUCK" after an 8-byte checksum)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(12)[8:12] == b"DUCK"
    except OSError:
        return False


def _first_line(exc: BaseException) -> str:
    return str(exc).split("\n", 1)[0].strip() or type(exc).__name__


def _kind(duck_type: str) -> str:
    """DuckDB's type name as the PostgreSQL one the column checks know."""
    t = duck_type.upper()
    if t.startswith("DECIMAL") or t in ("HUGEINT", "UHUGEINT"):
        return "numeric"
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
             "UBIGINT"):
        return "int8"
    if t in ("FLOAT", "DOUBLE"):
        return "float8"
    return {"DATE": "date", "TIMESTAMP": "timestamp", "TIMESTAMP_S": "timestamp",
            "TIMESTAMP_MS": "timestamp", "TIMESTAMP_NS": "timestamp",
            "TIMESTAMP WITH TIME ZONE": "timestamptz", "VARCHAR": "text",
            "UUID": "uuid"}.get(t, duck_type.lower())


def describe(source: DatabaseSource) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """The columns of the table or query, their types as PostgreSQL names them
    (``engine.data.database`` checks them against the mapping) and as DuckDB does (its
    messages)."""
    import duckdb

    conn = _connect(source)
    try:
        cur = conn.execute(f"SELECT * FROM ({_select_all(source)}) AS cvm_source LIMIT 0")
        description = cur.description or []
    except duckdb.CatalogException as exc:
        if source.table is None:
            raise InputError(_query_failed(source, exc)) from None
        tables = [r[0] if r[1] == "main" else f"{r[1]}.{r[0]}" for r in conn.execute(
            "SELECT table_name, table_schema FROM information_schema.tables ORDER BY 2, 1"
        ).fetchall()]
        raise InputError(Problem(
            f"table {source.table!r} not found", file=source.url,
            key=source.key("table"),
            hint=did_you_mean(str(source.table), tables) or (
                "tables present: " + ", ".join(tables[:20]) if tables else
                "the file has no tables"))) from None
    except duckdb.PermissionException as exc:  # a file, URL or extension beyond the file
        raise InputError(outside(source, exc)) from None
    except duckdb.Error as exc:
        raise InputError(outside(source, exc) if LOCKED in str(exc) else
                         _query_failed(source, exc)) from None
    finally:
        conn.close()
    return ([d[0] for d in description], {d[0]: _kind(str(d[1])) for d in description},
            {d[0]: str(d[1]) for d in description})


LOCKED = "the configuration has been locked"  # DuckDB's words for a SET refused


def outside(source: DatabaseSource, exc: BaseException) -> Problem:
    """The table or query reached beyond the file: DuckDB refused it (what it names is a path
    or URL, never the content)."""
    what = "query" if source.table is None else "table"
    does = "changes DuckDB's locked settings" if LOCKED in str(exc) else \
        "reads outside the DuckDB file"  # (a review: SET enable_external_access was 'reads')
    return Problem(
        f"found a {what} that {does} ({_first_line(exc)}), expected one that reads the file's "
        "own tables", file=source.display, key=source.key(what),
        hint="a query reads the tables of the DuckDB file only: load other data into the file "
        "first (in the duckdb shell: CREATE TABLE ... AS SELECT ...), or name a CSV or Parquet "
        "file as data.transactions")


def _query_failed(source: DatabaseSource, exc: BaseException) -> Problem:
    return Problem(f"the query failed: {_first_line(exc)}", file=source.display,
                   key=source.key("query"),
                   hint="run the query in the duckdb shell to see the problem")


def primary_key(conn: Any, source: DatabaseSource) -> tuple[str, ...]:
    assert source.table is not None
    schema, _, name = source.table.rpartition(".")
    rows = conn.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() WHERE table_name = ? AND "
        "schema_name = ? AND constraint_type = 'PRIMARY KEY'", [name, schema or "main"]
    ).fetchall()
    return tuple(rows[0][0]) if rows else ()


def read(source: DatabaseSource, theirs: list[str], *, first: int | None = None
         ) -> tuple[pa.Table, str, tuple[str, ...]]:
    """Every row's (or the ``first`` rows') mapped columns as text (null where NULL), their
    SHA-256 as CSV, and the key's column names: of a table, its key's columns (order_by, else
    the primary key) are read too, so that a bad row's messages name it, as
    engine.data.database's do."""
    import duckdb

    conn = _connect(source)
    order = source.order_by if source.order_by is not None else (
        primary_key(conn, source) if source.table is not None else ())
    keys = tuple(order) if source.table is not None else ()
    columns = ", ".join(f"CAST({_q(n)} AS VARCHAR) AS {_q(n)}"
                        for n in dict.fromkeys([*theirs, *keys]))
    sql = f"SELECT {columns} FROM ({_select_all(source)}) AS cvm_source"
    if order:  # the source's typed columns, not their text selected above (1, 10, 2, ...)
        sql += " ORDER BY " + ", ".join(f"cvm_source.{_q(n)}" for n in order)
    if first is not None:  # cvm validate: the first rows, in the same order
        sql += f" LIMIT {int(first)}"
    try:
        # a table is scanned in insertion order; a query keeps its ORDER BY through the
        # projection (DuckDB's preserve_insertion_order, on by default)
        relation = conn.sql(sql)
        reader = relation.to_arrow_reader(BATCH_ROWS) if hasattr(relation, "to_arrow_reader") \
            else relation.fetch_arrow_reader(BATCH_ROWS)  # older duckdb
        table = pa.Table.from_batches(list(reader), reader.schema)
    except duckdb.PermissionException as exc:
        raise InputError(outside(source, exc)) from None
    except duckdb.Error as exc:
        raise InputError(outside(source, exc) if LOCKED in str(exc) else
                         source.reading_failed(_first_line(exc))) from None
    finally:
        conn.close()
    digest = hashlib.sha256()
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table.select(theirs), sink)  # the mapped columns, as before the keys
    digest.update(sink.getvalue())
    return table, digest.hexdigest(), keys
