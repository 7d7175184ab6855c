"""The run folder's largest files, written while the allocation runs.

The value table (``customers.csv``, ``customers.parquet``) and the decisions
(``decisions.csv``) are final once the policies have decided: the allocation reads them and
changes neither. ``cvm run`` hands them to ``EarlyFiles.start`` then, and two writer threads
make their files in the run's staging folder while the allocation, the briefs and the action
list go on (Arrow formats and compresses without Python's lock). At 1M customers that is most
of the writing (the value table's CSV and Parquet files, 440 MB), done beside the allocation
instead of after it; the files are the same bytes.

A computation made again (engine.run.settle: the history changed while the run read it) hands
its own tables: the files of the attempt before are finished first, then written again. An
error anywhere drops the writes not started and waits for the ones under way before the
staging folder is removed (engine.output.commit).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from engine.output.commit import StagedWriteFailed
from engine.output.writers import arrow_table, write_csv, write_parquet
from engine.value.score import output_table

if TYPE_CHECKING:
    import pandas as pd

    from engine.output.commit import Stage

# the files written early (the Parquet file and the decisions are hashed as they are written:
# `cvm serve` reads them, engine.run.job)
EARLY = ("customers.csv", "customers.parquet", "decisions.csv")


class EarlyFiles:
    """Two writer threads for a run's files; ``pool`` takes the later ones too."""

    def __init__(self, stage: Stage) -> None:
        self._stage = stage
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cvm-write")
        self._jobs: dict[str, Future[str]] = {}

    def start(self, table: pd.DataFrame, decisions: pd.DataFrame) -> None:
        """Write the value table's and the decisions' files (again, if an earlier attempt
        wrote them: its writes are finished first, so no two threads write one file)."""
        for job in self._jobs.values():
            try:
                job.result()
            except OSError as exc:  # the output folder's, though the work waits for it here
                raise StagedWriteFailed(exc) from exc
        # converted here, on the calling thread: the writers read Arrow tables only, never a
        # pandas table the allocation reads at the same time
        values, decided = output_table(table), arrow_table(decisions)
        stage, pool = self._stage, self.pool
        try:  # the staging folder's paths (made here): an error is the output folder's
            paths = {name: stage.path(name) for name in EARLY}
        except OSError as exc:
            raise StagedWriteFailed(exc) from exc
        self._jobs = {
            "customers.parquet": pool.submit(write_parquet, values, paths["customers.parquet"],
                                             hashed=True),
            "customers.csv": pool.submit(write_csv, values, paths["customers.csv"]),
            "decisions.csv": pool.submit(write_csv, decided, paths["decisions.csv"],
                                         hashed=True)}

    def digests(self) -> dict[str, str]:
        """Each file's SHA-256 ("" where not hashed), once every one is written."""
        if set(self._jobs) != set(EARLY):
            raise RuntimeError("the run's value table and decisions were never handed over")
        return {name: job.result() for name, job in self._jobs.items()}

    def __enter__(self) -> EarlyFiles:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        # after an error the files are not needed: writes not started are dropped, the ones
        # under way finished (the staging folder is removed after them, not under them)
        self.pool.shutdown(wait=True, cancel_futures=kind is not None)
