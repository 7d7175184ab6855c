"""Benchmark of the history: recording a run's decisions and snapshots, and reading back what
a second run needs (the value-change attributes), on SQLite and on PostgreSQL.

    python benchmarks/bench_history.py [--customers 1000000] [--postgres-url URL | --no-postgres]

Without --postgres-url a throwaway PostgreSQL server is started from the installed one (as
the tests do). Each database gets a fresh history and two runs; printed per run: the time to
open (create or migrate) the history, to record the run (one transaction: COPY on PostgreSQL,
executemany on SQLite) and, before the second, to compute the value-change attributes. Target
(issue 13): recording 1M decisions adds at most 3 s to ``cvm run`` on either database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from _common import peak_rss_mb


def frames(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A value table (what add_changes reads) and a snapshot (what record_run writes)."""
    from tests.history_runs import snapshot

    recorded = snapshot(n, seed, status_p=[0.3, 0.05, 0.05, 0.6], tier_p=[0.05, 0.15, 0.3, 0.5],
                        stages=("growth", "maturity", "decline", "exit"), id_digits=8)
    return recorded[["customer_id", "value_tier", "total_value"]].copy(), recorded


def measure(url: str, n: int, label: str) -> None:
    from engine.history.changes import add_changes
    from engine.history.record import record_run
    from tests.history_runs import open_history

    with tempfile.TemporaryDirectory() as tmp:
        for run, as_of in enumerate((dt.date(2025, 1, 1), dt.date(2025, 1, 20)), start=1):
            table, snapshot = frames(n, run)
            start = time.perf_counter()
            store = open_history(url, Path(tmp), source="benchmark")
            opened = time.perf_counter() - start
            start = time.perf_counter()
            add_changes(table, store if run > 1 else None, as_of=as_of,
                        tiers=["platinum", "gold", "silver", "bronze"])
            changes = time.perf_counter() - start
            start, cpu = time.perf_counter(), time.process_time()
            record_run(store, run_id=f"bench{run}", as_of=as_of, project="bench",
                       inputs={}, snapshot=snapshot)
            recorded, recorded_cpu = time.perf_counter() - start, time.process_time() - cpu
            store.close()
            total = opened + changes + recorded
            print(f"{label} run {run}: {n:,} customers: open {opened:5.2f} s, value-change "
                  f"attributes {changes:5.2f} s, record {recorded:5.2f} s (CPU of this process "
                  f"{recorded_cpu:5.2f} s); added to cvm run {total:5.2f} s (target 3 s; load "
                  f"average {os.getloadavg()[0]:.1f})", flush=True)
    print(f"  peak memory {peak_rss_mb():,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        measure(f"sqlite:///{Path(tmp) / 'history.sqlite'}", args.customers, "SQLite")
    if args.no_postgres:
        return
    if args.postgres_url:
        measure(args.postgres_url, args.customers, "PostgreSQL")
        return
    from tests.pg_server import Server, find_bindir, new_database

    bindir = find_bindir()
    if bindir is None:
        sys.exit("no PostgreSQL installed: pass --postgres-url or --no-postgres")
    server = Server(bindir)
    try:
        measure(new_database(server.url, "cvm_bench"), args.customers, "PostgreSQL")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
