"""Where the project is: the folder the command line names, or the nearest one above holding a
cvm.yaml. A module of its own, light to import, so that a command run outside any project says
so before it loads the modules that read one."""

from __future__ import annotations

from pathlib import Path

from engine.errors import InputError, Problem

CONFIG_NAME = "cvm.yaml"


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
