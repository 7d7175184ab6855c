"""Where the project is: the folder the command line names, or the nearest one above holding a
cvm.yaml. A module of its own, light to import, so that a command run outside any project says
so before it loads the modules that read one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.errors import InputError, Problem

CONFIG_NAME = "cvm.yaml"
_shown = [CONFIG_NAME]  # the configuration file as messages name it: config_named() sets it
_own = threading.local()  # a thread's own name (a Dask worker's task), before the process's


def config_shown() -> str:
    """The configuration file as a message names it: cvm.yaml, or during a command given
    ``--config FILE``, FILE's name (a hint "set data.encoding in cvm.yaml" would send that
    user to a file the command did not read; the name alone, so that the same file typed two
    ways gives the same messages and outputs)."""
    own: list[str] | None = getattr(_own, "names", None)
    return own[-1] if own else _shown[-1]


@contextmanager
def config_named(config_file: Path | str | None, *, thread: bool = False) -> Iterator[None]:
    """Messages name ``config_file`` for the duration: process wide (the command line's
    --config: the command's worker threads build messages too), or with ``thread`` in this
    thread only (a task among others of other commands, on a Dask worker)."""
    if thread and getattr(_own, "names", None) is None:
        _own.names = []
    names: list[str] = _own.names if thread else _shown
    names.append(Path(config_file).name if config_file is not None else CONFIG_NAME)
    try:
        yield
    finally:
        names.pop()


def find_project(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding a cvm.yaml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise InputError(Problem(
        f"no {CONFIG_NAME} found in {start} or any folder above it",
        hint="run cvm inside a CVM project, or pass --project FOLDER; a configuration file "
        "of another name is given with --config FILE (--project too when FILE is not in the "
        "project's folder)",
    ))


def project_folder(project: Path | None, config_file: Path | None) -> Path:
    """The folder the command line names: --project, the folder of --config, or the nearest
    folder above the working directory with a cvm.yaml."""
    return project if project is not None else (
        config_file.parent if config_file is not None else find_project(Path.cwd()))
