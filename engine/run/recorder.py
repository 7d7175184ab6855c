"""The history hook ``cvm run`` calls: open (and create or upgrade) the history before the
work, record the run at the end."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd

from engine.errors import InputError, errors_only
from engine.history import open_history, settings_for

if TYPE_CHECKING:
    from engine.history.stamp import Stamp
    from engine.project.config import Config
    from engine.run.pipeline import Computed


@contextlib.contextmanager
def recorded_only_if_written(recorder: Recorder | None) -> Iterator[None]:
    """Around a run's writing: a failure after its record (a rename refused, a stop before
    the renames) takes the record back, so the history never holds a run whose files were
    not committed (a trial's immutable file: exit 3, the folder put back, the run recorded)."""
    try:
        yield
    except BaseException:
        if recorder is not None and recorder.key is not None:
            key = recorder.key
            try:
                recorder.forget()
            except Exception as exc:  # the history went away meanwhile: said, not hidden
                from engine.notices import warn

                warn(f"the run was recorded in the history as run {key}, but its files were "
                     f"not written, and the record could not be taken back ({exc}): later "
                     "runs read it as if its contacts were made")
        raise


class Recorder:
    """Checks the history at once (as ``cvm validate`` does, writing nothing), so that a
    history that cannot be used stops the run before the work and a run stopped by bad input
    leaves no history file behind; ``record`` creates or upgrades it if need be and writes the
    run in one transaction."""

    def __init__(self, config: Config) -> None:
        from engine.history.checks import check_history
        from engine.history.store import upgrade_older

        errors = errors_only(check_history(config))
        if errors:
            raise InputError(errors)
        self.settings = settings_for(config)
        # a history of an earlier version: upgraded before the work (the look-backs read it
        # as this version writes it), then checked as any other (SQLite's quick check)
        if upgrade_older(self.settings) and (errors := errors_only(check_history(config))):
            raise InputError(errors)
        self.config = config
        self.key: int | None = None
        # where the run recorded falls (engine.history.queries.runs_around): the run of its
        # as-of date it replaces, and the latest run of a later date
        self.replaces: int | None = None
        self.later: tuple[int, dt.date] | None = None
        # the live contacts the run reads: up to this id (engine.history.live), set by stamp
        self.until: int | None = None

    def describe(self) -> dict[str, Any]:
        """What the manifest says about the history: the database, its password masked."""
        where = self.settings.masked
        if self.settings.file is not None:
            where = self.config.display(self.settings.file)
        return {"database": where, "dialect": self.settings.dialect}

    def stamp(self) -> Stamp | None:
        """The history's stamp (engine.history.stamp), taken before a run's first read of it;
        None without a history yet."""
        from engine.history.stamp import read_stamp

        found = read_stamp(self.settings)
        self.until = found[4] if found is not None else None
        return found

    def state(self, as_of: dt.date) -> tuple[list[list[str]], Stamp | None]:
        """What a run as of ``as_of`` reads from the history (engine.history.lookback), for
        its run id (empty without a history yet), and the history's stamp, read together in
        one short read transaction."""
        from engine.history.lookback import history_state
        from engine.history.stamp import history_stamp

        store = open_history(self.config, create=False)
        if store is None:
            return [], None
        try:
            with store.snapshot() as conn:
                found = (history_state(conn, as_of, until=self.until),
                         history_stamp(conn, self.until))
        finally:
            store.close()
        if self.until is None:  # no history at the first stamp: the next attempt reads up to
            self.until = found[1][4]  # what this one saw (a busy service moves no stamp)
        return found

    def record(self, computed: Computed, actions: pd.DataFrame, run_id: str,
               inputs: dict[str, str]) -> int:
        from engine.history.queries import runs_around
        from engine.history.record import record_run, snapshot_frame  # SQLAlchemy: here

        snapshot = snapshot_frame(computed.table, computed.decisions, actions)
        store = open_history(self.config, create=True)
        assert store is not None
        try:
            channels = computed.setup.channels  # each campaign's window, kept with the run
            windows = {str(c): channels.campaign(str(c)).attribution_days
                       for c in actions["campaign"].dropna().unique()}
            self.key = record_run(store, run_id=run_id, as_of=computed.scored.as_of,
                                  project=self.config.name, inputs=inputs, snapshot=snapshot,
                                  windows=windows)
            self.replaces, self.later = runs_around(store, computed.scored.as_of, self.key)
        finally:
            store.close()
        return self.key

    def forget(self) -> None:
        """Take back the run ``record`` wrote: its files were not committed (README "History":
        an error at any moment leaves the history as it was)."""
        from engine.history.record import forget_run

        if self.key is None:
            return
        store = open_history(self.config, create=True)  # to write (it exists: recorded in)
        assert store is not None
        try:
            forget_run(store, self.key)
        finally:
            store.close()
        self.key = None
