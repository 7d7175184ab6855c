"""``cvm responses import FILE``: add campaign responses to the project's history."""

from __future__ import annotations

from pathlib import Path

import typer

from engine.commands.common import project_of
from engine.history import open_history, settings_for
from engine.history.responses import import_responses


def run_import(*, project: Path | None, config_file: Path | None, file: Path,
               quiet: bool) -> int:
    config = project_of(project, config_file, scope="config").config
    path = file if file.is_absolute() else Path.cwd() / file
    display = str(file)
    from engine.history.responses import read_responses

    read_responses(path, display)  # a bad file stops before the history is opened (or made)
    store = open_history(config, create=True)
    assert store is not None
    try:
        result = import_responses(store, path, display)
    finally:
        store.close()
    if not quiet:
        settings = settings_for(config)
        where = config.display(settings.file) if settings.file is not None else settings.masked
        skipped = sum(result.skipped.values())
        typer.echo(f"Imported {result.file} into the history ({where}): {result.rows_read:,} "
                   f"rows read\n  imported {result.imported:,}, already present "
                   f"{result.already_present:,}, skipped {skipped:,}")
        for reason, count in result.skipped.items():
            typer.echo(f"    {count:,} {reason}")
    return 0
