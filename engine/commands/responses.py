"""``cvm responses import FILE``: add campaign responses to the project's history."""

from __future__ import annotations

from pathlib import Path

import typer

from engine.commands.common import project_of
from engine.data.empty_tail import empty_tail_note
from engine.errors import InputError
from engine.history import open_history, settings_for
from engine.history.response_checks import assignment_warnings, recorded
from engine.history.responses import import_responses, read_responses
from engine.history.store import check_integrity, upgrade_older
from engine.notices import warn


def run_import(*, project: Path | None, config_file: Path | None, file: Path,
               quiet: bool) -> int:
    config = project_of(project, config_file, scope="config").config
    path = file if file.is_absolute() else Path.cwd() / file
    display = str(file)
    # an earlier version's history: upgraded first, once the file's own checks pass (the
    # campaigns it names are checked after, against the history's too)
    upgrade_older(settings_for(config), before=lambda: read_responses(path, display))
    store = open_history(config, create=False)  # read only: nothing is created before
    try:  # the file is checked, the campaigns known among its checks (first in file order)
        if store is not None:  # never written into a damaged file (as cvm run)
            check_integrity(store)
        keys, campaigns = recorded(store)
        frame, said = read_responses(
            path, display, known=campaigns | _project_campaigns(project, config_file))
        if store is not None:
            said = (*said, *assignment_warnings(store, keys, campaigns, frame, path,
                                                display))
    finally:
        if store is not None:
            store.close()
    store = open_history(config, create=True)
    assert store is not None
    try:
        result = import_responses(store, path, display, frame, said)
    finally:
        store.close()
    for problem in result.warnings:
        warn(problem.format())
    if not quiet:
        settings = settings_for(config)
        where = config.display(settings.file) if settings.file is not None else settings.masked
        skipped = sum(result.skipped.values())
        typer.echo(f"Imported {result.file} into the history ({where}): {result.rows_read:,} "
                   f"row{'' if result.rows_read == 1 else 's'} read\n  imported "
                   f"{result.imported:,}, already present {result.already_present:,}, "
                   f"skipped {skipped:,}")
        for reason, count in result.skipped.items():
            typer.echo(f"    {count:,} {reason}")
        if tail := frame.attrs.get("empty_tail", 0):  # as the transactions' reader says them
            typer.echo(f"note: {empty_tail_note(tail, display)}")
    return 0


def _project_campaigns(project: Path | None, config_file: Path | None) -> set[str]:
    """The campaigns policies/campaigns.yaml declares and the policies and triggers name, as
    far as they can be read (their own problems are cvm validate's to report, not the
    import's)."""
    from engine.project.location import project_folder
    from engine.run.build import build

    built = build(project_folder(project, config_file), config_file, scope="campaigns")
    if built.config is None:
        raise InputError(list(built.problems))
    found = set(built.channels.campaigns) if built.channels is not None else set()
    if built.rulebook is not None:
        found.update(p.campaign for p in built.rulebook.policies if p.campaign)
    if built.triggers is not None:
        found.update(t.campaign for t in built.triggers.triggers if t.campaign)
    return found
