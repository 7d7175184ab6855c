"""Where the project is: the folder the command line names, or the nearest one above holding a
cvm.yaml. A module of its own, light to import, so that a command run outside any project says
so before it loads the modules that read one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.errors import InputError, Problem

CONFIG_NAME = "cvm.yaml"
_shown = [CONFIG_NAME]  # the configuration file as messages name it: config_named() sets it


def config_shown() -> str:
    """The configuration file as a message names it: cvm.yaml, or during a command given
    ``--config FILE``, FILE as typed (a hint "set data.encoding in cvm.yaml" would send that
    user to a file the command did not read)."""
    return _shown[-1]


@contextmanager
def config_named(config_file: Path | str | None) -> Iterator[None]:
    """Messages name ``config_file`` (the command line's --config) for the duration; process
    wide, as the command's worker threads build messages too."""
    _shown.append(str(config_file) if config_file is not None else CONFIG_NAME)
    try:
        yield
    finally:
        _shown.pop()


def find_project(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding a cvm.yaml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise InputError(Problem(
        f"no {CONFIG_NAME} found in {start} or any folder above it",
        hint="run cvm inside a CVM project, or pass --project FOLDER",
    ))


def project_folder(project: Path | None, config_file: Path | None) -> Path:
    """The folder the command line names: --project, the folder of --config, or the nearest
    folder above the working directory with a cvm.yaml."""
    return project if project is not None else (
        config_file.parent if config_file is not None else find_project(Path.cwd()))
