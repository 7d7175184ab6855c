"""Benchmark of the write stage of ``cvm run`` (issue 16: halve it), each writer on its own.

    python benchmarks/bench_write.py [--customers 1000000] [--repeat 2] [--keep DIR]

Computes the run once (``engine.run.pipeline.compute``, no history) and caches its tables as a
pickle beside the data, so a before/after pair writes the same tables (``--recompute`` after a
change of what they hold); then times each file's writer alone (CPU and wall), and the whole
stage as ``cvm run`` runs it (two threads), each as user and system CPU time, wall time and
the load average. ``--keep DIR`` leaves the files written there, to compare two versions byte
for byte. Since session 11 ``cvm run`` writes the value table's and the decisions' files while
the allocation runs (engine/run/early.py): the stage below is the writing's CPU time, and
``bench_growth.py``'s "write" stage what is left of it after the allocation.
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _common import (
    DATA_HELP,
    as_the_cvm_command,
    freed_memory_option,
    peak_rss_mb,
    retail_project,
)


def inputs(project: Path, *, recompute: bool) -> dict[str, Any]:
    """The value table, decisions, action list and summary as ``cvm run`` writes them."""
    cache = project / "write-inputs.pkl"
    if cache.exists() and not recompute:
        with open(cache, "rb") as fh:
            return pickle.load(fh)  # the benchmark's own file
    from engine.run.build import load_project
    from engine.run.pipeline import allocation_summary, compute

    start = time.perf_counter()
    computed = compute(load_project(project), history=False)
    actions = computed.actions.assign(run_id="0123456789abcdef")
    data = {"table": computed.table, "decisions": computed.decisions, "actions": actions,
            "summary": allocation_summary(actions, computed.setup.channels)}
    with open(cache, "wb") as fh:
        pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
    print(f"computed in {time.perf_counter() - start:.1f} s (cached in {cache})")
    return data


def timed(name: str, work: Callable[[], object], repeat: int) -> object:
    """Best of ``repeat`` (by CPU time): user and system CPU (this VM's kernel zeroing fresh
    memory is system time), wall time, and the load average when it ended."""
    best = (float("inf"), 0.0, 0.0, 0.0)
    result: object = None
    for _ in range(repeat):
        before, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        result = work()
        after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall
        user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
        if user + system < best[0]:
            best = (user + system, user, system, wall)
    cpu, user, system, wall = best
    print(f"  {name:<24} CPU {cpu:6.2f} s (user {user:5.2f}, sys {system:5.2f})  "
          f"wall {wall:6.2f} s  load {os.getloadavg()[0]:4.1f}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=DATA_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="customers in the synthetic data (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=2, help="best of N for each writer")
    parser.add_argument("--keep", type=Path, help="leave the files written in this folder")
    parser.add_argument("--recompute", action="store_true",
                        help="compute the tables again (after a change of what they hold)")
    freed_memory_option(parser)
    args = parser.parse_args()
    as_the_cvm_command(args.freed_memory)

    from engine.output.writers import arrow_table, write_csv, write_parquet
    from engine.value.score import output_frame

    data = inputs(retail_project(args.customers), recompute=args.recompute)
    print(f"load average {os.getloadavg()[0]:.1f}; {len(data['table']):,} customers, "
          f"{len(data['actions']):,} actions; best of {args.repeat}")
    out = args.keep or Path(tempfile.mkdtemp(prefix="bench-write-"))
    out.mkdir(parents=True, exist_ok=True)
    frame = timed("output_frame", lambda: output_frame(data["table"]), args.repeat)
    table = timed("arrow_table", lambda: arrow_table(frame), args.repeat)  # type: ignore[arg-type]
    jobs: dict[str, Callable[[], object]] = {
        "customers.parquet": lambda: write_parquet(table, out / "customers.parquet", hashed=True),
        "customers.csv": lambda: write_csv(table, out / "customers.csv"),
        "decisions.csv": lambda: write_csv(data["decisions"], out / "decisions.csv",
                                           hashed=True),
        "actions.csv": lambda: write_csv(data["actions"], out / "actions.csv", hashed=True),
        "allocation_summary.csv": lambda: write_csv(data["summary"],
                                                    out / "allocation_summary.csv"),
    }
    for name, work in jobs.items():
        timed(name, work, args.repeat)

    def stage() -> None:  # as engine.run.job.run: the table made once, files on two threads
        nonlocal table
        table = arrow_table(output_frame(data["table"]))
        with ThreadPoolExecutor(max_workers=2) as pool:
            for job in [pool.submit(work) for work in jobs.values()]:
                job.result()

    timed("write stage (2 threads)", stage, args.repeat)
    print(f"peak memory {peak_rss_mb():,.0f} MB; load average {os.getloadavg()[0]:.1f}")
    if args.keep is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
