"""What several commands share: the project the command line names, read once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.project.location import project_folder

if TYPE_CHECKING:
    from engine.project.config import Config
    from engine.project.project import Project


def project_config(project: Path | None, config_file: Path | None) -> Config:
    """cvm.yaml alone (``cvm init``'s checks and tests; every command takes ``project_of``)."""
    from engine.project.config import load_config

    return load_config(project_folder(project, config_file), config_file=config_file)


def project_of(project: Path | None, config_file: Path | None, *, scope: str = "full",
               test_files: list[Path] | None = None) -> Project:
    """The project the command line names (--project, --config, or the folder above), read
    and checked once by ``engine.run.build`` (``scope``: the parts the command uses)."""
    folder = project_folder(project, config_file)  # none: said before the modules that read one
    from engine.run.build import load_project

    return load_project(folder, config_file, scope=scope, test_files=test_files)


def money(value: float, currency: str) -> str:
    return f"{currency} {value:,.2f}"
