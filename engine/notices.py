"""Warnings to the user: the one place they are printed, so that ``--quiet`` silences every
one of them on every command (the README: ``--quiet`` prints nothing but errors).

The CLI wrapper (``engine.cli.handled``) enters :func:`quiet` with the command's ``--quiet``;
commands call :func:`warn`. Under ``--quiet`` Python's own warnings (a library's deprecation or
numeric warnings) are silenced too: they are not errors.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import typer

from engine.errors import printable
from engine.terminal import styled

_QUIET: ContextVar[bool] = ContextVar("cvm_quiet", default=False)


@contextmanager
def quiet(on: bool) -> Iterator[None]:
    """Within, :func:`warn` prints nothing when ``on`` (and Python warnings are ignored)."""
    token = _QUIET.set(on)
    try:
        with warnings.catch_warnings():
            if on:
                warnings.simplefilter("ignore")
            yield
    finally:
        _QUIET.reset(token)


def is_quiet() -> bool:
    """Whether ``--quiet`` was given (libraries' own logs follow it: Dask's)."""
    return _QUIET.get()


def warn(text: str) -> None:
    """Print ``warning: text`` on standard error, unless ``--quiet`` was given."""
    if not _QUIET.get():
        # escaped: a warning may quote a file name or an id (engine.errors.printable)
        typer.echo(f"{styled('warning:', 'yellow', err=True)} {printable(text)}", err=True)
