"""Reading ``data.transactions`` from a PostgreSQL table or query (its setting:
``engine.project.database_source``).

The rows come out of PostgreSQL by ``COPY (SELECT ...) TO STDOUT`` in CSV, streamed into the
same Arrow CSV reader and the same typed checks as a file, so a table gives the value table the
same rows in a CSV file give, byte for byte, and a bad value the same message (its row named by
its number in the order read, and by its order id when one is mapped). Before the rows, the
table and the mapped columns are checked to exist and to have types the engine can read
(``probe``, also run by ``cvm validate``). The SHA-256 of the text read is the source's input
hash in the run manifest (``digest``).
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from engine.data import duckdb_source
from engine.data.tabular import DICTIONARY, Source, column_setting
from engine.errors import InputError, Problem, did_you_mean
from engine.project.config import Config
from engine.project.database_source import (
    CLEARTEXT_HINT,
    HOST_HINT,
    DatabaseSource,
    auth_options,
    refused_cleartext,
)
from engine.project.location import config_shown

CONNECT_SECONDS = 10
BLOCK = 1 << 24  # bytes of COPY output gathered before they are hashed and kept
NUMBER_TYPES = ("numeric", "int2", "int4", "int8", "float4", "float8")  # money: "$1,234.00"
DATE_TYPES = ("date", "timestamp", "timestamptz")
TEXT_TYPES = ("text", "varchar", "bpchar", "char", "name", "citext", "uuid")
# what each of our columns may be in the database; text is read and checked value by value
ACCEPTED = {"amount": NUMBER_TYPES, "cost": NUMBER_TYPES, "margin": NUMBER_TYPES,
            "quantity": NUMBER_TYPES, "date": DATE_TYPES, "end": DATE_TYPES}
ID_TYPES = ("int2", "int4", "int8", "numeric")
# what a column of the wrong type should have been, in each database's words
EXPECTED = {NUMBER_TYPES: "numbers (numeric, integer, real, double precision) or text",
            DATE_TYPES: "dates (date, timestamp, timestamptz) or text"}
DUCKDB_EXPECTED = {NUMBER_TYPES: "numbers (DECIMAL, INTEGER, BIGINT, FLOAT, DOUBLE) or text",
                   DATE_TYPES: "dates (DATE, TIMESTAMP, TIMESTAMP WITH TIME ZONE) or text"}
_digests: dict[DatabaseSource, str] = {}


@dataclass(frozen=True)
class DatabaseRows(Source):
    """A database source as the typed checks see it: rows are named by their number in the
    order read and, when order ids are mapped, by the order id."""

    source: DatabaseSource | None = None
    keys: dict[str, pa.ChunkedArray] = field(default_factory=dict, compare=False)
    # our columns the database holds as dates (date, timestamp): their text is the reader's
    # own ISO form, never data.date_format's
    dated: set[str] = field(default_factory=set, compare=False)

    def date_format_of(self, ours: str, date_format: str | None) -> str | None:
        return None if ours in self.dated else date_format

    def damaged_hint(self) -> str:
        held = "the query returns it" if self.source is not None and self.source.query \
            else "the table holds it"
        return f"{held}: clean the value in the database, or read a cleaned one with " \
            "data.transactions.query"

    def empty_hint(self, column: str, text: bool = True) -> str | None:
        # a table's NULL (or empty text): the rows are left out by the query that reads them
        name = '"' + column.replace('"', '""') + '"'
        # an id of spaces is empty too, and an integer id cannot be compared with text
        where = f"{name} IS NOT NULL" + (f" AND trim(CAST({name} AS text)) <> ''"
                                          if text else "")
        return ("fill it in, or leave such rows out with data.transactions.query "
                f"(... WHERE {where})")

    def row_problem(self, row: int, column: str, message: str, hint: str | None = None) -> Problem:
        # a table's rows come in the order of its key (order_by, or the primary key): the
        # row's key is said, then its order id
        said = [f"{name.removeprefix('key:')} = {values[row].as_py()!s}"
                for name, values in self.keys.items()
                if name.startswith("key:") and values[row].is_valid]
        order = self.keys.get("order_id")
        if order is not None and order[row].is_valid:
            said.append(f"order id {order[row].as_py()!s}")
        key = f"row {row + 1}" + (f" ({', '.join(said)})" if said else "")
        return Problem(message, file=self.display, key=f"{key}, column {column!r}", hint=hint)


def rows_source(source: DatabaseSource) -> DatabaseRows:
    return DatabaseRows(path=Path(), display=source.display, setting="data.transactions",
                        setting_at=source.setting_at, source=source)


def _connect(source: DatabaseSource) -> Any:
    import psycopg

    # every statement in a read-only transaction: whatever the query says, nothing is written
    extra: dict[str, Any] = {"connect_timeout": CONNECT_SECONDS,
                             "application_name": "cvm-engine",
                             "options": "-c default_transaction_read_only=on",
                             **auth_options()}
    if source.password_env is not None:
        if not os.environ.get(source.password_env):
            raise InputError(Problem(
                f"the environment variable {source.password_env} is "
                f"{'empty' if source.password_env in os.environ else 'not set'}, expected the "
                "database password in it", file=source.display,
                key=source.key("password_env"),
                hint=f"export {source.password_env}=... before running cvm, or remove "
                "password_env to use PGPASSWORD or ~/.pgpass"))
        extra["password"] = os.environ[source.password_env]
    try:
        return psycopg.connect(source.url, autocommit=True, **extra)
    except UnicodeError as exc:  # the host name: the idna codec refuses it before any lookup
        raise InputError(Problem(
            f"connection failed: the host name cannot be looked up ({exc})",
            file=source.display, key=f"data.transactions ({source.setting_at})",
            hint=HOST_HINT)) from None
    except psycopg.Error as exc:
        raise InputError(Problem(
            f"connection failed: {_first_line(exc)}", file=source.display,
            key=f"data.transactions ({source.setting_at})",
            hint=CLEARTEXT_HINT if refused_cleartext(str(exc)) else "check that the "
            "PostgreSQL server is running and reachable, the database exists and the user may "
            "read it (password: PGPASSWORD, ~/.pgpass or the variable named by password_env)")
        ) from None


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split("\n")[:1]).strip()
    return text.removeprefix("connection failed: ") or type(exc).__name__


def _table_sql(source: DatabaseSource) -> Any:
    from psycopg import sql

    assert source.table is not None
    return sql.SQL(".").join(sql.Identifier(p) for p in source.table.split(".", 1))


def _select_all(source: DatabaseSource) -> Any:
    from psycopg import sql

    if source.table is not None:
        return sql.SQL("SELECT * FROM {}").format(_table_sql(source))
    assert source.query is not None
    return sql.SQL(source.query.strip().rstrip(";"))  # type: ignore[arg-type]


def probe(source: DatabaseSource, wanted: Mapping[str, str]) -> dict[str, str]:
    """Check that the server answers, the table or query is there and each mapped column
    exists once with a type we can read; return the columns' types (their name: type)."""
    if source.file is not None:
        names, types, shown = duckdb_source.describe(source)
    else:
        (names, types), shown = _describe(source), None
    _check_columns(source, names, types, wanted, shown)
    missing = [n for n in source.order_by or () if n not in types]
    if missing:
        raise InputError(Problem(
            f"order_by names {', '.join(map(repr, missing))}, not a column of the table",
            file=source.display, key=source.key("order_by"),
            hint=did_you_mean(missing[0], names) or "columns of the table: "
            + ", ".join(repr(n) for n in names[:20])))
    return types


def _describe(source: DatabaseSource) -> tuple[list[str], dict[str, str]]:
    import psycopg
    from psycopg import sql

    with _connect(source) as conn:
        try:
            cur = conn.execute(sql.SQL("SELECT * FROM ({}) AS cvm_source LIMIT 0").format(
                _select_all(source)))
        except psycopg.Error as exc:
            if isinstance(exc, psycopg.errors.UndefinedTable) and source.table is not None:
                raise InputError(_no_table(conn, source)) from None
            raise InputError(Problem(  # the query's own mistakes, a missing table among them
                f"the query failed: {_first_line(exc)}", file=source.display,
                key=source.key("query"),
                hint="run the query in psql to see the problem")) from None
        types = {d.name: _type_name(conn, d.type_code) for d in cur.description or []}
        return [d.name for d in cur.description or []], types


def _type_name(conn: Any, oid: int) -> str:
    info = conn.adapters.types.get(oid)
    return str(info.name) if info is not None else f"oid {oid}"


def _no_table(conn: Any, source: DatabaseSource) -> Problem:
    cur = conn.execute("SELECT table_schema, table_name FROM information_schema.tables "
                       "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
                       "ORDER BY 1, 2")
    tables = [name if schema == "public" else f"{schema}.{name}" for schema, name in cur]
    hint = did_you_mean(str(source.table), tables) or (
        "tables present: " + ", ".join(tables[:20]) + (" ..." if len(tables) > 20 else "")
        if tables else "the database has no tables: is it the right database?")
    return Problem(f"table {source.table!r} not found", file=source.url,
                   key=source.key("table"), hint=hint)


def _check_columns(source: DatabaseSource, names: list[str], types: Mapping[str, str],
                   wanted: Mapping[str, str], shown: Mapping[str, str] | None = None) -> None:
    """``types``: each column's type as PostgreSQL names it; ``shown``: as the database
    names it, when that is another (DuckDB), for the messages."""
    problems = []
    words = DUCKDB_EXPECTED if shown is not None else EXPECTED
    where = "table" if source.table is not None else "query"
    for ours, theirs in wanted.items():
        if theirs not in types:
            problems.append(Problem(
                f"column {theirs!r} (mapped to {ours} in {config_shown()}) not found; columns "
                "of the "
                f"{where}: " + ", ".join(repr(n) for n in names[:20])
                + (" ..." if len(names) > 20 else ""), file=source.display, key="columns",
                hint=did_you_mean(theirs, names) or f"fix the column name under "
                f"{column_setting(ours)} in {config_shown()}"))
            continue
        if names.count(theirs) > 1:
            problems.append(Problem(
                f"column {theirs!r} appears {names.count(theirs)} times, expected once",
                file=source.display, key="columns", hint="give the columns of the query "
                "distinct names (AS ...)"))
            continue
        kind = types[theirs]
        accepted = ACCEPTED.get(ours, (*TEXT_TYPES, *ID_TYPES))
        if kind not in accepted and kind not in TEXT_TYPES:
            problems.append(Problem(  # the column is the key: named once
                f"has type {(shown or types)[theirs]}, expected "
                f"{words.get(accepted, 'text or integers')}",
                file=source.display, key=f"column {theirs!r}",
                hint=f"{config_shown()} maps {ours} to this column; map another column, or cast it "
                "in a query"))
    if problems:
        raise InputError(problems)


def read_rows(src: DatabaseRows, wanted: Mapping[str, str],
              repetitive: Collection[str] = (), *, first: int | None = None) -> pa.Table:
    """The mapped columns of every row, as ``tabular.read_columns`` gives a CSV file's;
    ``first``: of the first rows only, in the same order (``cvm validate``: their digest is
    not kept, it is not the rows')."""
    import psycopg
    from psycopg import sql

    source = src.source
    assert source is not None
    types = probe(source, wanted)
    src.dated.update(k for k, name in wanted.items() if types.get(name) in DATE_TYPES)
    theirs = list(dict.fromkeys(wanted.values()))
    if source.file is not None:  # a DuckDB file: its text of each column, in Arrow batches
        table, digested, keys = duckdb_source.read(source, theirs, first=first)
        if first is None:
            _digests[source] = digested
        for name in keys:
            src.keys[f"key:{name}"] = table.column(name)
        return _finish(src, table, wanted)
    order: tuple[str, ...] | None = None
    digest = hashlib.sha256()
    with _connect(source) as conn:
        conn.execute("SET client_encoding = 'UTF8'")  # what the Arrow reader takes
        conn.execute("SET DateStyle = ISO")
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SET extra_float_digits = 1")  # shortest text that reads back exactly
        if source.table is not None:
            order = source.order_by or _primary_key(conn, source)
            # the key's columns are read too, as text: a row's problem names its key
            read = list(dict.fromkeys([*theirs, *order]))
            select = sql.SQL("SELECT {} FROM {}").format(
                sql.SQL(", ").join(sql.Identifier(n) for n in read), _table_sql(source))
        else:
            read, select = theirs, _select_all(source)
        if order:
            select = sql.SQL("{} ORDER BY {}").format(
                select, sql.SQL(", ").join(sql.Identifier(n) for n in order))
        if first is not None:  # a table's ordered rows, or the query's own (it may limit)
            select = sql.SQL("{} LIMIT {}" if source.table is not None else
                             "SELECT * FROM ({}) AS cvm_source LIMIT {}").format(
                select, sql.Literal(first))
        repeated = {wanted[k] for k in repetitive if k in wanted}
        convert = pacsv.ConvertOptions(
            include_columns=read,
            column_types={n: DICTIONARY if n in repeated and types.get(n) in
                          (*TEXT_TYPES, *DATE_TYPES) else pa.string() for n in read},
            # COPY writes NULL as an empty field and '' as "": only NULL is empty
            strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=False)
        try:
            with conn.cursor().copy(sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)")
                                    .format(select)) as copy:
                table = _parsed(copy, digest, convert)
        except psycopg.Error as exc:
            raise InputError(source.reading_failed(_first_line(exc))) from None
    if first is None:
        _digests[source] = digest.hexdigest()
    for name in order or ():
        src.keys[f"key:{name}"] = table.column(name)
    return _finish(src, table, wanted)


def _finish(src: DatabaseRows, table: pa.Table, wanted: Mapping[str, str]) -> pa.Table:
    if table.num_rows == 0:
        if src.source is not None:
            raise InputError(src.source.no_rows())
        raise InputError(Problem("the query has no rows", file=src.display))
    table = table.select(list(wanted.values())).rename_columns(list(wanted))
    if "order_id" in wanted:
        src.keys["order_id"] = table.column("order_id")
    return table


def _primary_key(conn: Any, source: DatabaseSource) -> tuple[str, ...]:
    """The table's primary key columns, in key order (none: the server's order)."""
    cur = conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary "
        "ORDER BY array_position(i.indkey, a.attnum)", [_regclass(source)])
    return tuple(row[0] for row in cur)


def _regclass(source: DatabaseSource) -> str:
    assert source.table is not None
    return ".".join('"' + p.replace('"', '""') + '"' for p in source.table.split(".", 1))


def digest(source: DatabaseSource) -> str | None:
    """SHA-256 of the rows this process last read from ``source`` (the CSV text of COPY)."""
    return _digests.get(source)


def _parsed(copy: Any, digest: Any, convert: pacsv.ConvertOptions) -> pa.Table:
    """COPY's rows parsed into Arrow a block (BLOCK bytes) at a time, hashed as they pass, so
    the text of one block is held at a time. PostgreSQL sends a message per row, whole: a block
    ends at the end of a row. The messages are added to a bytearray (psycopg's row buffers kept
    in a list took three times as long, and so did pulling them from Arrow's reading thread)."""
    chunks = iter(copy)
    header = bytes(next(chunks, b""))  # the first message: the header line
    digest.update(header)
    names = next(csv.reader([header.decode()]), [])
    read = pacsv.ReadOptions(column_names=names, block_size=2 * BLOCK)
    parse = pacsv.ParseOptions(newlines_in_values=True)
    tables: list[pa.Table] = []

    def add(block: bytearray) -> None:
        digest.update(block)
        tables.append(pacsv.read_csv(pa.BufferReader(pa.py_buffer(block)), read_options=read,
                                     parse_options=parse, convert_options=convert))

    block = bytearray()
    for chunk in chunks:
        block += chunk
        if len(block) >= BLOCK:
            add(block)
            block = bytearray()  # a new one: the parsed block's memory may still be in use
    if block:
        add(block)
    if not tables:  # no rows: said by the caller
        return pa.table({n: pa.array([], pa.string()) for n in names})
    return pa.concat_tables(tables)


def check_source(config: Config) -> list[Problem]:
    """``cvm validate``: a database source answers and holds the mapped columns with types the
    engine reads (the values of its first rows are checked by
    ``engine.value.first_rows``, every row's by ``cvm run``, as a file's are)."""
    source = config.data.transactions
    if not isinstance(source, DatabaseSource):
        return []
    subs = config.subscriptions
    try:
        probe(source, {**config.data.columns, "end": subs.end} if subs else config.data.columns)
    except InputError as exc:
        return list(exc.problems)
    return []
