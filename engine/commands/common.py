"""What several commands share: finding the project and loading its configuration."""

from __future__ import annotations

from pathlib import Path

from engine.project.config import Config, find_project, load_config


def project_config(project: Path | None, config_file: Path | None) -> Config:
    folder = project if project is not None else (
        config_file.parent if config_file is not None else find_project(Path.cwd()))
    return load_config(folder, config_file=config_file)


def money(value: float, currency: str) -> str:
    return f"{currency} {value:,.2f}"
