"""Opening the history: one code path for SQLite and PostgreSQL (SQLAlchemy Core).

``open_store(settings, create=True)`` connects, refuses a file or database that is not a CVM
history (or was made by a newer engine) with a clear InputError, and brings an older history up
to date with the Alembic migrations (in one transaction, under a lock, so that two runs starting
at once migrate it once). ``create=False`` opens read-only and returns None when there is no
history yet: validate, decide, explain and plan read the history, only run and responses
import write it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from engine.errors import InputError, Problem
from engine.history.block_format import UnknownBlockFormat
from engine.history.settings import HistorySettings
from engine.history.tables import VERSION_TABLE, metadata
from engine.project.database_source import (
    CLEARTEXT_HINT,
    HOST_HINT,
    auth_options,
    refused_cleartext,
)

# The migrations this engine knows, oldest first; the last is the schema it writes.
# tests/test_history_store.py checks that it is Alembic's head.
# A new block format comes with a new revision (engine.history.block_format).
REVISIONS = ("0001", "0002_learn", "0003_serve", "0004_w_record", "0005_w_record13",
             "0006_w_fixrev13", "0007_w_runid13", "0008_w_hist13", "0009_live",
             "0010_answers", "0011_windows")
HEAD = REVISIONS[-1]
BUSY_SECONDS = 120  # how long a run waits for another one to finish recording (SQLite)
CONNECT_SECONDS = 10
CHECK_LINES = 3  # of quick_check's findings: the first is said
_LOCK_KEY = 0x43564D48  # "CVMH": the advisory lock that serialises migrations (PostgreSQL)
_OURS = {t.name for t in metadata.sorted_tables} | {VERSION_TABLE}


DAMAGED_HINT = ("restore the file from a backup, or move it away: the next run starts a new "
                "history (without the runs and responses recorded so far, opt-outs included)")
UPGRADED_BY = "the next `cvm run`, `cvm responses import` or `cvm serve` upgrades it"


class OlderHistory(InputError):
    """A history of an earlier version (a revision this engine knows, not its head), opened
    to be read: reading never changes it; the commands that write the history upgrade it first
    (``upgrade_older``)."""


@dataclass
class Store:
    settings: HistorySettings
    engine: Engine
    writable: bool

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """All or nothing: committed when the block ends, rolled back on any error."""
        with guarded(self.settings), self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        with guarded(self.settings), self.engine.connect() as conn:
            yield conn

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A few reads of one state of the history, in one read transaction: on SQLite a
        deferred BEGIN (the first SELECT takes a shared lock, which a writer's commit waits
        for: keep it short), on PostgreSQL REPEATABLE READ READ ONLY."""
        with guarded(self.settings), self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield conn

    def close(self) -> None:
        self.engine.dispose()


IGNORED = "# written by CVM Engine: the history holds customer data; keep it out of git\n*\n"


def open_store(settings: HistorySettings, *, create: bool, kept: bool = False) -> Store | None:
    """The history, ready to read (and, with ``create``, to write); None if there is none yet
    and ``create`` is false. ``kept``: a server connection kept between reads, for a reader
    that reads every second (PostgreSQL; a SQLite file is opened for each read)."""
    new = settings.file is not None and not settings.file.exists()
    if settings.file is not None:
        if new:
            if not create:
                return None
            with guarded(settings):
                folder = settings.file.parent
                made = settings.source == "default" and not folder.exists()
                folder.mkdir(parents=True, exist_ok=True)
                if made:  # the engine's own folder: its customer data kept out of git
                    (folder / ".gitignore").write_text(IGNORED, encoding="utf-8")
        elif not settings.file.is_file():
            raise InputError(problem(settings, "is not a file", "point the history at a "
                                     "SQLite file (or remove what is in the way)"))
    engine = _engine(settings, writable=create, kept=kept)
    store = Store(settings, engine, create)
    try:
        with store.transaction() as conn:
            version = _version(settings, conn)
            if version is None and not create:
                store.close()
                return None
            if version != HEAD:
                if not create:
                    raise OlderHistory(problem(
                        settings, f"the history is at version {version}, this engine writes "
                        f"version {HEAD}", UPGRADED_BY, severity="error"))
                _upgrade(conn)
    except BaseException:
        store.close()
        raise
    if new:  # (create) made now: written from here on without creating it again
        store.close()
        store = Store(settings, _engine(settings, writable=True, kept=kept), True)
    return store


def upgrade_older(settings: HistorySettings, before: Callable[[], object] | None = None
                  ) -> bool:
    """Upgrade a history of an earlier version before a command writes into it (its
    migrations in one transaction: all or nothing); True if it was upgraded. ``before``: the
    command's own checks that need no history, run first when there is something to upgrade
    (a refused input leaves the history as it was)."""
    try:
        store = open_store(settings, create=False)
    except OlderHistory:
        check_older(settings)  # never written into a damaged file, the upgrade included
        if before is not None:
            before()
        store = open_store(settings, create=True)
        assert store is not None
        store.close()
        return True
    if store is not None:
        store.close()
    return False


def check_older(settings: HistorySettings) -> None:
    """SQLite's quick check of a history of an earlier version, which ``open_store`` does
    not open to read: before anything upgrades it, and in ``cvm validate``."""
    if settings.file is None:
        return
    store = Store(settings, _engine(settings, writable=False), False)
    try:
        check_integrity(store)
    finally:
        store.close()


def check_integrity(store: Store) -> None:
    """A SQLite history is read whole by SQLite's ``PRAGMA quick_check`` (every page and
    record well formed, no index compared with its table: a few hundred MB a second), so that
    a damaged file stops ``cvm validate`` and ``cvm run`` before a run is recorded into it,
    not later when a damaged part is read. PostgreSQL checks its own pages."""
    if store.settings.file is None:
        return
    with store.reading() as conn:
        found = [str(v) for v in conn.exec_driver_sql(f"PRAGMA quick_check({CHECK_LINES})")
                 .scalars()]
    if found == ["ok"]:
        return
    lines = [line for text_ in found for line in text_.splitlines()
             if line and not line.startswith("***")]
    raise InputError(problem(
        store.settings, f"is damaged: {lines[0] if lines else 'quick_check failed'} (SQLite's "
        "quick_check)", DAMAGED_HINT))


def _uri_path(path: Path) -> str:
    """A file's path in a SQLite URI: %, ?, # and spaces escaped as the URI reads them."""
    from urllib.parse import quote

    return quote(str(path), safe="/")


def _engine(settings: HistorySettings, *, writable: bool, kept: bool = False) -> Engine:
    if settings.file is not None:
        url = settings.url
        if not writable:  # read-only: never creates or changes the file
            _roll_back_unfinished(settings.file)
            url = url.set(database=f"file:{_uri_path(settings.file)}?mode=ro",
                          query={"uri": "true"})
        elif settings.file.exists():  # never creates it again: a folder moved away while
            url = url.set(database=f"file:{_uri_path(settings.file)}?mode=rw",  # cvm serve
                          query={"uri": "true"})  # writes is an error, not a stray new file
        engine = create_engine(url, poolclass=NullPool,
                               connect_args={"timeout": BUSY_SECONDS})
        begin = "BEGIN IMMEDIATE" if writable else "BEGIN"

        # pysqlite opens transactions lazily and never for DDL; taking the write lock at BEGIN
        # makes a second run wait for the first (busy timeout) instead of failing half-way.
        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            # 64 MB of page cache: a million index entries are inserted without re-reading
            dbapi_conn.execute("PRAGMA cache_size = -65536")

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql(begin)

        return engine
    if kept:  # one connection, checked before each use (a server restarted meanwhile)
        engine = create_engine(settings.url, pool_size=1, max_overflow=0, pool_pre_ping=True,
                               connect_args={"connect_timeout": CONNECT_SECONDS,
                                             **auth_options()})
    else:
        engine = create_engine(settings.url, poolclass=NullPool,
                               connect_args={"connect_timeout": CONNECT_SECONDS,
                                             **auth_options()})

    # dates and times in the forms psycopg reads, whatever the server, the database or the
    # role sets (a DateStyle 'SQL, DMY' stopped every read of a timestamp), as the
    # transactions reader sets them (engine.data.database)
    @event.listens_for(engine, "connect")
    def _iso(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cursor:
            cursor.execute("SET DateStyle = ISO")
            cursor.execute("SET TimeZone = 'UTC'")
        dbapi_conn.commit()

    return engine


def _roll_back_unfinished(path: Path) -> None:
    """A writer killed in the middle of a transaction (kill -9 while ``cvm run`` records)
    leaves a rollback journal beside the file. SQLite undoes it when the file is next opened
    for writing; a read-only connection cannot, and refuses to read ("attempt to write a
    readonly database"). Opened for writing (never created: mode=rw) and read once, the file
    is as it was before that transaction. A journal of a write still running is not undone
    (SQLite's own locks tell the two apart). Any failure is left to the read-only open,
    whose error says what is wrong."""
    journal = path.with_name(path.name + "-journal")
    try:
        if not path.is_file() or journal.stat().st_size == 0:
            return
        conn = sqlite3.connect(f"file:{_uri_path(path)}?mode=rw", uri=True, timeout=BUSY_SECONDS)
        try:
            conn.execute("PRAGMA schema_version").fetchone()
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        return


def _version(settings: HistorySettings, conn: Connection) -> str | None:
    """The history's schema version; None for an empty database. Refuses foreign ones."""
    if conn.dialect.name == "postgresql" and conn.in_transaction():
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    names = set(inspect(conn).get_table_names())
    ours = names & _OURS
    foreign = sorted(names - _OURS) if settings.file is not None else []
    if VERSION_TABLE not in names:
        if foreign or ours:
            shown = ", ".join((foreign or sorted(ours))[:5])
            raise InputError(problem(
                settings, f"is not a CVM Engine history: it holds other tables ({shown}) and "
                f"no {VERSION_TABLE}", "CVM Engine never writes into a database it did not "
                "make: point history (or CVM_HISTORY_URL) at a new file or an empty database"))
        return None
    found = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(found) != 1 or found[0] not in REVISIONS:
        raise InputError(problem(
            settings, f"the history is at version {', '.join(found) or '(none)'}, which this "
            f"CVM Engine does not know (it knows {', '.join(REVISIONS)})",
            "it was made by a newer CVM Engine: upgrade CVM Engine to read it"))
    return str(found[0])


def _upgrade(conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, HEAD)


def problem(settings: HistorySettings, message: str, hint: str, *,
            severity: str = "error") -> Problem:
    where = f"history ({settings.source})" if settings.source != "default" else "history"
    return Problem(message, file=settings.masked, key=where, hint=hint, severity=severity)


@contextlib.contextmanager
def guarded(settings: HistorySettings) -> Iterator[None]:
    """Database and file errors, and blocks of a format this engine does not read, as one
    InputError naming the history (password masked)."""
    try:
        yield
    except UnknownBlockFormat as exc:  # named with the history, as every problem of it
        raise InputError(problem(settings, exc.message, exc.problems[0].hint or "")) from None
    except DBAPIError as exc:
        raise InputError(problem(settings, _driver_message(exc), _hint(settings, exc))) \
            from None
    except SQLAlchemyError as exc:
        raise InputError(problem(settings, str(exc).splitlines()[0], _hint(settings, exc))) \
            from None
    except UnicodeError as exc:  # the host name: the idna codec refuses it before any lookup
        raise InputError(problem(settings, f"connection failed: the host name cannot be looked "
                                 f"up ({exc})", HOST_HINT)) from None
    except (OSError, ValueError) as exc:
        # a stored block that does not decode: Arrow's errors (its IOError is OSError itself,
        # without the errno every error of the system has)
        if type(exc).__module__.startswith("pyarrow") or (
                isinstance(exc, OSError) and exc.errno is None):
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise InputError(problem(settings, "is damaged: a stored block cannot be read "
                                     f"({first})", DAMAGED_HINT)) from None
        if not isinstance(exc, OSError):
            raise
        raise InputError(problem(settings, exc.strerror or str(exc),
                                 "check the folder of the history file and its permissions")) \
            from None


def _driver_message(exc: DBAPIError) -> str:
    # The driver's own words, never SQLAlchemy's text (which repeats the statement and the
    # parameters: a million rows, or a connection string).
    lines = [line.strip() for line in str(exc.orig).splitlines() if line.strip()]
    message = lines[0] if lines else type(exc.orig).__name__
    return message.rstrip(".")


def _hint(settings: HistorySettings, exc: Exception) -> str:
    text_ = str(getattr(exc, "orig", exc)).lower()
    if settings.file is not None:
        if "not a database" in text_ or "malformed" in text_:
            return ("the file is not a SQLite database, or it is damaged: move it away (the "
                    "next run starts a new history) or restore it from a backup")
        if "locked" in text_ or "busy" in text_:
            return (f"another cvm command held the history for over {BUSY_SECONDS} s: wait "
                    "for it to finish and try again")
        if "readonly" in text_ or "read-only" in text_ or "unable to open" in text_:
            return "check that the history file and its folder may be read and written"
        return "check the history file, or pass --no-history to run without it"
    if refused_cleartext(str(getattr(exc, "orig", exc))):
        return CLEARTEXT_HINT
    return ("check that the PostgreSQL server is running and reachable, the database exists "
            "and the user may use it (password: PGPASSWORD or ~/.pgpass, or the URL of "
            "CVM_HISTORY_URL)")
