"""What ``cvm validate`` (and ``cvm run``, before its work) checks of the history, without
writing anything: the setting names a database (URL syntax, a known kind), an existing SQLite
file is a CVM history this engine can read (not damaged: SQLite's quick_check reads it whole;
not foreign, not newer), a missing one can be created (its nearest existing folder is
writable), and a PostgreSQL server answers and holds no foreign or newer history.
A password written in cvm.yaml is a warning: it belongs in PGPASSWORD, ~/.pgpass or
CVM_HISTORY_URL."""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING

from engine.errors import CvmError, InputError, Problem, errors_only
from engine.history import settings_for
from engine.project.config import Config
from engine.project.location import config_shown

if TYPE_CHECKING:
    from engine.history.store import Store


def check_history(config: Config, *, deep: bool = False) -> list[Problem]:
    """The history's problems (errors and warnings); ``deep`` (cvm validate): every stored
    block decoded too (check_blocks)."""
    try:
        settings = settings_for(config)
    except CvmError as exc:
        return list(exc.problems)
    problems: list[Problem] = []
    if settings.has_password and settings.source != "CVM_HISTORY_URL":
        problems.append(dataclasses.replace(config.problem(
            "history", "the URL holds a password, in a file others may read",
            hint=f"remove it from {config_shown()} and give it in PGPASSWORD or ~/.pgpass, or give "
            "the whole URL in CVM_HISTORY_URL"), severity="warning"))
    if settings.file is not None and not settings.file.exists():
        folder = settings.file.parent
        while not folder.exists():
            folder = folder.parent
        if not os.access(folder, os.W_OK | os.X_OK):
            from engine.history.store import problem

            problems.append(problem(settings, f"cannot be created: {folder} may not be "
                                    "written", "give write permission on that folder, or "
                                    "point history at another file"))
        return problems
    from engine.history.store import (  # SQLAlchemy: when needed
        OlderHistory,
        check_integrity,
        check_older,
        open_store,
    )

    try:
        store = open_store(settings, create=False)
        if store is not None:
            try:
                check_integrity(store)
                if deep:
                    check_blocks(store)
            finally:
                store.close()
    except OlderHistory as exc:  # the next run upgrades it: validate passing means run works
        try:
            check_older(settings)  # unless it is damaged
        except CvmError as damaged:
            return problems + list(damaged.problems)
        return problems + [dataclasses.replace(p, severity="warning") for p in exc.problems]
    except CvmError as exc:
        return problems + list(exc.problems)
    return problems


def check_readable(config: Config) -> None:
    """Stop a command that reads the history (``cvm history``, ``cvm measure``, ``cvm
    report``) with the errors ``cvm validate`` gives for it (a damaged, foreign or newer
    history: the same check, the same error, exit 1), so that no answer is read from a file
    validate refuses. A history not made yet is not checked: reading never creates one."""
    try:
        settings = settings_for(config)
    except CvmError:
        settings = None
    if settings is not None and settings.file is not None and not settings.file.exists():
        return
    errors = errors_only(check_history(config))
    if errors:
        raise InputError(errors)


def check_blocks(store: Store) -> None:
    """``cvm validate``: every block the history stores (each run's actions and values, and
    its snapshot's parts) decoded and validated whole, one at a time, as the commands read
    them (engine.history.block_format.read_block). A block whose bytes changed inside intact
    pages passes SQLite's quick check and PostgreSQL's own, and would stop ``cvm run`` at its
    first look-back, after its work: it is named here instead (run and kind)."""
    from sqlalchemy import select

    from engine.history.block_format import read_block
    from engine.history.store import DAMAGED_HINT, problem
    from engine.history.tables import run_actions, run_snapshots, run_values

    with store.reading() as conn:
        for kind, table in (("actions", run_actions), ("values", run_values),
                            ("snapshot", run_snapshots)):
            rows = conn.execution_options(yield_per=1).execute(
                select(table.c.run, table.c.data).order_by(*table.primary_key.columns))
            for run, data in rows:
                try:
                    read_block(data)
                except (OSError, ValueError) as exc:  # Arrow's errors (as store.guarded)
                    first = (str(exc).splitlines() or [type(exc).__name__])[0]
                    raise InputError(problem(
                        store.settings, f"is damaged: run {run}'s {kind} block cannot be "
                        f"read ({first})", DAMAGED_HINT)) from None
