"""Where the history lives: the database URL, from the environment, cvm.yaml or the default.

Precedence: the environment variable ``CVM_HISTORY_URL``, then ``history:`` in cvm.yaml, then the
default SQLite file ``<project>/.cvm/history.sqlite``. A setting is a URL (``sqlite:///path``,
``postgresql://user@host:port/db``) or a path to a SQLite file (relative to the project).
The password of a URL is never shown: every message and the manifest use ``masked``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import InputError, Problem

if TYPE_CHECKING:  # SQLAlchemy when the history is opened or a URL parsed, not to name a file
    from sqlalchemy.engine import URL

ENV_VAR = "CVM_HISTORY_URL"
DEFAULT_FILE = Path(".cvm") / "history.sqlite"
_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
_SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite")
HINT = ("write sqlite:///path/to/history.sqlite, a path to a SQLite file, or "
        "postgresql://user@host:5432/database (the password in PGPASSWORD or ~/.pgpass, or in "
        f"the URL of {ENV_VAR})")


@dataclass(frozen=True)
class HistorySettings:
    """A checked history setting: the URL to connect with and how to name it to a user."""

    server: URL | None  # PostgreSQL's, with the password; None for a SQLite file
    source: str  # "CVM_HISTORY_URL", "cvm.yaml" (with its line) or "default"
    file: Path | None  # the SQLite file; None for PostgreSQL

    @property
    def url(self) -> URL:
        """The URL to connect with (with the password: only ever handed to the database
        driver); a SQLite file's is made when asked for."""
        if self.server is not None:
            return self.server
        from sqlalchemy.engine import make_url

        return make_url("sqlite://").set(database=str(self.file))

    @property
    def dialect(self) -> str:
        return "sqlite" if self.file is not None else "postgresql"

    @property
    def masked(self) -> str:
        """The URL as it may be printed or written: the password replaced by ***."""
        if self.file is not None:
            return str(self.file)
        return shown_url(self.url.set(drivername="postgresql"))

    @property
    def has_password(self) -> bool:
        return self.server is not None and (self.server.password is not None or any(
            _secret(key) for key in self.server.query))


def _secret(key: str) -> bool:
    """A query parameter libpq reads a password from (password, sslpassword)."""
    return "password" in key.lower()


def shown_url(url: URL) -> str:
    """A URL as it may be printed: its password replaced by ***, in ``user:***@`` and in the
    query (libpq takes ``?password=`` too, which SQLAlchemy's own masking leaves)."""
    if "@" in (url.host or ""):  # a password's '@' not written %40 (refused by ``parse``)
        from engine.project.database_source import masked_url

        return masked_url(url.render_as_string(hide_password=False))
    text = url.set(query={}).render_as_string(hide_password=True)
    if not url.query:
        return text
    from urllib.parse import quote_plus

    pairs = [(k, v) for k, given in url.query.items()
             for v in (given if isinstance(given, tuple) else (given,))]
    return text + "?" + "&".join(f"{quote_plus(k)}={'***' if _secret(k) else quote_plus(v)}"
                                 for k, v in pairs)


def resolve(project: Path, setting: str | None, *, where: str = "cvm.yaml",
            environ: dict[str, str] | None = None) -> HistorySettings:
    """The history of a project; raise InputError for a setting that cannot be a database."""
    env = os.environ if environ is None else environ
    if env.get(ENV_VAR):
        return parse(env[ENV_VAR], project, source=ENV_VAR)
    if setting:
        return parse(setting, project, source=where)
    return _sqlite(project / DEFAULT_FILE, "default")


def parse(text: str, project: Path, *, source: str) -> HistorySettings:
    if "://" not in text:  # a path to a SQLite file
        return _sqlite(project / text, source)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from engine.project.database_source import AT_HINT, PORT_HINT, at_problem, port_problem

    if at := at_problem(text):  # before any parse: the password's end would be taken for a host
        raise _problem(source, at, hint=AT_HINT.format(example="user:pa%40ss", part="password"))
    if port := port_problem(text):
        raise _problem(source, port, hint=PORT_HINT)
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise _problem(source, f"found {_mask_text(text)!r}, expected a database URL") from None
    if url.drivername in _SQLITE_SCHEMES:
        if not url.database or url.database == ":memory:":
            raise _problem(source, f"found {_mask_text(text)!r}, expected a SQLite file "
                           "(sqlite:///path): an in-memory database forgets every run")
        return _sqlite(project / url.database, source)
    if url.drivername in _POSTGRES_SCHEMES:
        if url.port is not None and not 0 < url.port < 65536:
            raise _problem(source, f"found the port {url.port}, expected a number from 1 to "
                           "65535", hint=PORT_HINT)
        if not url.database:
            raise _problem(source, f"found {shown_url(url)!r}, "
                           "expected the name of a database after the host")
        return HistorySettings(url.set(drivername="postgresql+psycopg"), source, None)
    raise _problem(source, f"found the database kind {url.drivername!r}, expected sqlite or "
                   "postgresql")


def _sqlite(path: Path, source: str) -> HistorySettings:
    path = path.resolve()
    return HistorySettings(None, source, path)


def _mask_text(text: str) -> str:
    """A URL that did not parse, masked up to its last '@' (``masked_url``)."""
    from engine.project.database_source import masked_url

    return masked_url(text)


def _problem(source: str, message: str, *, hint: str = HINT) -> InputError:
    if source == ENV_VAR:
        return InputError(Problem(message, key=ENV_VAR, hint=hint))
    file, *where = source.split(":")
    numbers = [int(part) for part in where if part.isdigit()]
    return InputError(Problem(message, file=file, line=numbers[0] if numbers else None,
                              column=numbers[1] if len(numbers) > 1 else None, key="history",
                              hint=hint))
