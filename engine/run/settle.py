"""A run's decisions and its run id read the same history (README "History": a run and the
history written meanwhile), without holding a read transaction while it computes.

The look-backs each read the history in a short transaction of their own, so a writer never
waits for a run: a `cvm responses import`, another run's recording and `cvm serve`'s journal
commit at once (on SQLite a read transaction held across the computation made each of them
wait for its end, up to the busy timeout). Instead the history's stamp (engine.history.stamp:
the runs recorded and the response imports, what the look-backs read) is taken before the first
read and again with the run id's state, in one short read transaction; when they differ, a
write landed while the run read, and the run computes again on the history as it is now (the
value table, which reads no history, is kept; on Dask its scoring reads it, so it is made
again). A history that changes during every one of ``ATTEMPTS`` computations stops the run
with an input error, nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.errors import InputError

if TYPE_CHECKING:
    from engine.run.pipeline import Computed, Progress
    from engine.run.recorder import Recorder

ATTEMPTS = 3


def settled(recorder: Recorder | None, attempt: Callable[[list[Computed]], Computed],
            progress: Progress | None = None) -> tuple[Computed, list[list[str]]]:
    """``attempt(a list holding the previous computation, or empty)`` until the history it
    read did not change meanwhile; with the history state it read, for the run id (``[]``
    without a recorder: ``--no-history``). The attempt takes the previous computation out of
    the list, nothing else holding it: what it does not keep is freed before it computes."""
    if recorder is None:
        return attempt([]), []
    from engine.history.stamp import what_changed
    from engine.history.store import problem

    before = recorder.stamp()
    handed: list[Computed] = []
    said: list[str] = []
    for number in range(1, ATTEMPTS + 1):
        computed = attempt(handed)
        state, after = recorder.state(computed.scored.as_of)
        if after == before:
            return computed, state
        said.append(what_changed(before, after))
        before = after  # read before the next attempt's first read
        handed = [computed]
        del computed
        if number < ATTEMPTS and progress is not None:
            progress(f"history: {said[-1]} while the run read it: computing again (attempt "
                     f"{number + 1} of {ATTEMPTS})")
    raise InputError(problem(
        recorder.settings, f"changed while the run read it, during each of its {ATTEMPTS} "
        f"computations ({'; '.join(dict.fromkeys(said))}): its decisions and its run id would "
        "not read the same history", "run again once the commands writing to this history "
        "(`cvm responses import`, other `cvm run`s) are done"))
