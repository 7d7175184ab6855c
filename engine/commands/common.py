"""What several commands share: finding the project and loading its configuration."""

from __future__ import annotations

from pathlib import Path

from engine.project.config import Config, find_project, load_config
from engine.project.project import Project
from engine.run.pipeline import load_project


def _folder(project: Path | None, config_file: Path | None) -> Path:
    return project if project is not None else (
        config_file.parent if config_file is not None else find_project(Path.cwd()))


def project_config(project: Path | None, config_file: Path | None) -> Config:
    return load_config(_folder(project, config_file), config_file=config_file)


def project_of(project: Path | None, config_file: Path | None) -> Project:
    """The project the command line names (--project, --config, or the folder above), read
    and checked once."""
    return load_project(_folder(project, config_file), config_file)


def money(value: float, currency: str) -> str:
    return f"{currency} {value:,.2f}"
