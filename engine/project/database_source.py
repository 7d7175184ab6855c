"""``data.transactions`` as a database table or query instead of a file: the setting's shape.

A mapping ``{url: postgresql://user@host:5432/db, table: sales}`` (or ``query: "select ..."``)
names rows in PostgreSQL. The URL never holds the password (it would end up in the manifest and
in every message): libpq reads it from ``PGPASSWORD`` or ``~/.pgpass``, or ``password_env``
names another environment variable that holds it. The reader is ``engine.data.database``.
A DuckDB file is named ``duckdb:///path/file.duckdb`` (relative to the project;
``duckdb:////abs/path`` for an absolute one) and read by ``engine.data.duckdb_source`` (the
``duckdb`` extra).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import Problem
from engine.project import checks as c
from engine.project.location import config_shown
from engine.project.object_store import variable_problem
from engine.project.yamlio import Path_

if TYPE_CHECKING:  # SQLAlchemy only when cvm.yaml names a database
    from sqlalchemy.engine import URL

SCHEMES = ("postgresql", "postgres", "duckdb")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$ -]*$")
# a query is read, never run for its effects: its first word (after comments and parentheses)
_READ = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*(select|with|values|table)\b",
                   re.IGNORECASE | re.DOTALL)
DUCKDB_FILE = "duckdb:///path/file.duckdb"  # what a DuckDB URL without its file part lacks
DUCKDB_HINT = "write duckdb:///file.duckdb for a file in the project folder (three slashes), " \
    "duckdb:////abs/path/file.duckdb for an absolute path"
HOST_HINT = ("check the host name in the URL: a typo such as two dots in a row, or a part "
             "longer than 63 characters")
KIND_PROBLEM = "found the database kind"
KIND_HINT = ("write postgresql://user@host:5432/database or duckdb:///file.duckdb; the rows of "
             "another database (SQLite, MySQL...): export them to a CSV or Parquet file and "
             "name it, or copy them into a DuckDB file (in the duckdb shell, with its sqlite "
             "and mysql extensions)")
URL_HINT = "write postgresql://user@host:5432/database, without the password (give it in " \
    "PGPASSWORD or ~/.pgpass, or name an environment variable in password_env)"

DATABASE = c.Record([
    c.Field("url", c.Text(), doc="postgresql://user@host:5432/database",
            about="the database: postgresql://user@host:5432/database (no password here)"),
    c.Field("table", c.Optional(c.Text()), None,
            about="a table or view, optionally schema.table (or give query)"),
    c.Field("query", c.Optional(c.Text()), None,
            about="a SELECT whose rows are the transactions (or give table)"),
    c.Field("order_by", c.Optional(c.ListOf(c.Text(), min_items=1)), None,
            about="with table: the columns that order the rows (default: the primary key)"),
    c.Field("password_env", c.Optional(c.Text()), None,
            about="the environment variable holding the password (default: PGPASSWORD or "
            "~/.pgpass, read by libpq)"),
], what="a database table or query")


@dataclass(frozen=True)
class DatabaseSource:
    """Rows of a PostgreSQL table or query, checked; ``url`` holds no password."""

    url: str
    table: str | None
    query: str | None
    order_by: tuple[str, ...] | None  # None: the table's primary key (or the server's order)
    password_env: str | None
    setting_at: str = "cvm.yaml"  # where data.transactions is written, e.g. cvm.yaml:5:3
    file: Path | None = None  # a DuckDB file (duckdb:///path, relative to the project)
    # where each key of the mapping is written (url, table, query, order_by...): cvm.yaml:7:5
    keys_at: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def shell(self) -> str:
        """Where a user runs the source's SQL to see what it returns."""
        return "the duckdb shell" if self.url.startswith("duckdb:") else "psql"

    def no_rows(self) -> Problem:
        """The table or query answered no row: the transactions are its rows."""
        if self.table is not None:
            return Problem("the table has no rows", file=self.display, key=self.key("table"),
                           hint="the transactions are its rows: name the table that holds "
                                "them")
        return Problem("the query has no rows", file=self.display, key=self.key("query"),
                       hint="the transactions are the rows it returns: check its WHERE "
                            f"clause, in {self.shell}")

    def reading_failed(self, why: str) -> Problem:
        """The rows stopped coming: the database failed on a row the query reads."""
        if self.table is not None:
            return Problem(f"reading the rows failed: {why}", file=self.display,
                           key=self.key("table"), hint="the database stopped while sending "
                           f"the table's rows: select them in {self.shell} to see why")
        return Problem(f"reading the rows failed: {why}", file=self.display,
                       key=self.key("query"), hint="the query may fail on a row it reads, or "
                       f"the database stopped it: run it in {self.shell} to see which")

    def key(self, name: str) -> str:
        """``data.transactions.NAME (cvm.yaml:7:5)``: a message's key, at that key's place."""
        return f"data.transactions.{name} ({dict(self.keys_at).get(name, self.setting_at)})"

    @property
    def display(self) -> str:
        """How messages name the rows: the URL (never with a password) and the table."""
        what = f"table {self.table}" if self.table is not None else "query"
        return f"{self.url} ({what})"


class FileOrDatabase(c.Kind):
    """A path (text), or a mapping naming a database table or query."""

    expected = "a file path or a mapping with url and table (or query)"

    def convert(self, value: Any, ctx: c.Ctx, path: Path_) -> Any:
        if not isinstance(value, dict):
            return c.Text().convert(value, ctx, path)
        out = DATABASE.run(value, ctx, path)
        if out is c.MISSING:
            return out
        _check(out, ctx, path)
        return out

    def json_schema(self) -> dict[str, Any]:
        return {"anyOf": [c.Text().json_schema(), {
            **DATABASE.json_schema(),
            "oneOf": [{"required": ["table"]}, {"required": ["query"]}]}]}


def _check(out: dict[str, Any], ctx: c.Ctx, path: Path_) -> None:
    url = out["url"]
    if url is not c.MISSING and (problem := url_problem(url)):
        ctx.add((*path, "url"), problem, DUCKDB_HINT if DUCKDB_FILE in problem else
                PORT_HINT if problem == PORT_PROBLEM or "the port" in problem else
                KIND_HINT if problem.startswith(KIND_PROBLEM) else AT_HINT.format(
                    example="ana%40example.com", part="user name")
                if problem.startswith((AT_PROBLEM, QUERY_AT)) else URL_HINT)
    if (out["table"] is None) == (out["query"] is None):
        ctx.add(path, "found " + ("both table and query" if out["table"] else
                                  "neither table nor query") + ", expected one of them",
                "table: sales reads a whole table; query: \"select ...\" the rows of a query")
    if out["query"] is not None and not _READ.match(out["query"]):
        first = (re.sub(r"--[^\n]*|/\*.*?\*/", " ", out["query"], flags=re.DOTALL).split()
                 or [""])[0]
        if first:
            ctx.add((*path, "query"), f"found a query starting with {first[:30]!r}, expected "
                    "a SELECT query (or WITH ... SELECT)", "the rows are only read: name a "
                    "table, or write the SELECT that returns them")
        else:  # a -- comment that swallowed the query: a folded YAML scalar joins the lines
            ctx.add((*path, "query"), "found a query of comments only, expected a SELECT "
                    "query (or WITH ... SELECT)", "a -- comment runs to the end of its line: "
                    "write the query as a literal block (query: |) so its lines stay lines, "
                    "or the comment as /* ... */")
    if out["query"] is not None and out["order_by"] is not None:
        ctx.add((*path, "order_by"), "order_by goes with table, not with query",
                "end the query with its own ORDER BY")
    if out["table"] and not all(_NAME.match(p) for p in out["table"].split(".", 1)):
        ctx.add((*path, "table"), f"found {out['table']!r}, expected a table name (or "
                "schema.table)", "for anything more than a table's name, use query")
    env = out["password_env"]
    if env is not None and isinstance(url, str) and url.startswith("duckdb:"):
        ctx.add((*path, "password_env"), "password_env goes with postgresql, not with a "
                "DuckDB file", "remove password_env")
    if env is not None and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", env):
        ctx.add((*path, "password_env"), f"found {env!r}, expected the name of an "
                "environment variable, such as CVM_SOURCE_PASSWORD",
                f"the password itself never goes into {config_shown()}")
    elif env is not None and (refused := variable_problem(env)):
        ctx.add((*path, "password_env"), *refused)


def parse_url(text: str) -> URL | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(text)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return None


PORT_HINT = "write postgresql://user@host:5432/database (the port after the host's colon; " \
    "without it, 5432)"
PORT_PROBLEM = "found a port that is not a number, expected a number"


def port_problem(text: str) -> str | None:
    """A URL whose port is not a number (SQLAlchemy's parse stops at it with a bare
    ValueError), said without quoting the URL (the text around the port may be a password's),
    or None."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(text)
    except ValueError:  # int() of the port: the one number the parse reads
        return PORT_PROBLEM
    except ArgumentError:
        return None
    return None


# libpq answers a server that asks for the password in clear text (pg_hba's `password`) with
# the password itself: a project from someone else naming its own server in data.transactions
# or history: would collect the user's PGPASSWORD (a security review). Refused (libpq 16 and
# later: require_auth); SCRAM and md5 never send it.
CLEARTEXT = "!password"
CLEARTEXT_HINT = "the server asks for the password in clear text, which cvm never sends: a " \
    "server of yours should ask for scram-sha-256 (pg_hba.conf); a project from someone else " \
    "may name a server that collects passwords"


def auth_options() -> dict[str, str]:
    """The libpq settings of every connection to PostgreSQL: no password sent in clear."""
    import psycopg

    return {"require_auth": CLEARTEXT} if psycopg.pq.version() >= 160000 else {}


def refused_cleartext(message: str) -> bool:
    """Whether libpq's ``message`` says it refused a clear-text password request."""
    return f'"{CLEARTEXT}"' in message or "cleartext password" in message


AT_PROBLEM = "found a user name or password holding an '@' in"
QUERY_AT = "found an '@' in the parameters (after ?) of"  # a re-trial: ?password=ZQa@ZQb
AT_HINT = "only the '@' before the host is written as is: postgresql://{example}@host:5432/" \
    "database (else the {part} ends at its first '@' and the rest is taken for the host)"


def split_query(rest: str) -> tuple[str, str, str]:
    """A URL's text after ``//`` as (before its query, '?', the query). A '?' whose text up to
    the next '@' holds no '=' is a password's ('cvm:s3cr?t@host'): the query then starts at
    the first '?' after the last '@'."""
    before, mark, query = rest.partition("?")
    if "@" in query and "=" not in query.partition("@")[0]:
        at = rest.rfind("@")
        tail, mark, query = rest[at:].partition("?")
        before = rest[:at] + tail
    return before, mark, query


def masked_url(text: str) -> str:
    """A URL as it may be shown whatever it holds: everything between the scheme's ``//`` and
    its last '@' hidden (a password may hold '@', ':' or '/'), but a user name without '@'
    (before a ':'), and the value of a query parameter naming a password."""
    text = re.sub(r"([?&][^=&#]*password[^=&#]*=)[^&#]*", r"\1***", text, flags=re.IGNORECASE)
    head, sep, rest = text.partition("://")
    rest, mark, query = split_query(rest)  # an '@' of the query is no user's (a review)
    if "@" not in rest:
        return text
    cred, _, host = rest.rpartition("@")
    user, colon, _ = cred.partition(":")
    return f"{head}{sep}{'***' if '@' in user else user + colon + '***' * bool(colon)}@{host}" \
        f"{mark}{query}"


def at_problem(text: str) -> str | None:
    """A URL with an '@' of its user name or password not written %40, or None. SQLAlchemy
    ends a password at its first '@' and takes the rest for the host, which messages and the
    driver's own errors ("failed to resolve host ...") then show: refused before connecting,
    the URL masked up to its last '@'."""
    rest = text.partition("://")[2]
    if not rest or rest.startswith("/"):  # no host, no user: a file (sqlite:///, duckdb:///)
        return None
    before, _, query = split_query(rest)
    if "@" in query:  # the parse takes the last '@' for the user's: a password= value's end
        return f"{QUERY_AT} {masked_url(text)!r}, expected it written as %40"  # for the host
    if before.count("@") < 2:
        url = parse_url(text)
        if url is None or "@" not in (url.host or ""):
            return None
    return f"{AT_PROBLEM} {masked_url(text)!r}, expected each '@' inside them written as %40"


def url_problem(text: str) -> str | None:
    """What is wrong with a source URL (said without repeating a password), or None."""
    if "://" in text and (port := port_problem(text)):
        return port
    url = parse_url(text) if "://" in text else None
    if url is None:
        return "found a value that is not a database URL, expected postgresql://... (or " \
            "duckdb:///file.duckdb)"
    if url.drivername not in SCHEMES:
        return f"{KIND_PROBLEM} {url.drivername!r}, expected postgresql or duckdb"
    at = at_problem(text)
    if at and at.startswith(QUERY_AT):  # first: the parse took a parameter's '@' for the user's
        return at
    if url.password is not None or any("password" in k.lower() for k in url.query):
        return f"found a password in the URL, expected none: {config_shown()} is no place for it " \
            "(and the URL is written into the run manifest)"
    if at:  # a user name such as ana@example.com: its '@' as %40
        return at
    if url.port is not None and not 0 < url.port < 65536:
        return f"found the port {url.port}, expected a number from 1 to 65535"
    if not url.database:
        return f"found {text!r}, expected " + (f"a file: {DUCKDB_FILE}"
                                               if url.drivername == "duckdb" else
                                               "the name of a database after the host")
    return None


def database_source(raw: dict[str, Any], where: str, project: Path,
                    keys_at: dict[str, str] | None = None) -> DatabaseSource:
    """The checked mapping as a source (``where``: the setting's place in cvm.yaml,
    ``keys_at``: each key's)."""
    url = parse_url(raw["url"])
    duck = url is not None and url.drivername == "duckdb" and url.database
    return DatabaseSource(
        url=raw["url"], table=raw["table"], query=raw["query"],
        order_by=tuple(raw["order_by"]) if raw["order_by"] else None,
        password_env=raw["password_env"], setting_at=where,
        keys_at=tuple(sorted((keys_at or {}).items())),
        file=(project / str(url.database)).resolve() if duck and url is not None else None)
