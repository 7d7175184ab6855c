"""Benchmark of the history: recording a run's decisions and snapshots, and reading back what
a second run needs (the value-change attributes), on SQLite and on PostgreSQL.

    python benchmarks/bench_history.py [--customers 1000000] [--postgres-url URL | --no-postgres]
                                       [--runs 2]

Without --postgres-url a throwaway PostgreSQL server is started from the installed one (as
the tests do). Each database gets a fresh history and ``--runs`` runs; printed per run: the
time to open (create or migrate) the history, to compute the value-change attributes (from the
second run on) and to record the run as ``cvm run`` does (the snapshot made from the value
table, decisions and actions, then one transaction), with the CPU of this process and, for the
throwaway PostgreSQL server, the CPU of the server's processes. Target (issue 13): recording 1M
decisions adds at most 3 s to ``cvm run`` on either database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from _common import peak_rss_mb

# the action list's reason: a few texts, one per status, as a run's (engine/activation)
REASONS = {"allocated": "retain_high_value (priority 90): High-value customers at risk",
           "holdout": "holdout group: not contacted, to measure the campaign",
           "not_served": "budget: the allowed channels' budgets are spent",
           "suppressed": "contact policy: at most 2 contacts in 7 days"}


def frames(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A value table, decisions and actions, as ``cvm run`` hands them to the history."""
    from tests.history_runs import snapshot

    recorded = snapshot(n, seed, status_p=[0.3, 0.05, 0.05, 0.6], tier_p=[0.05, 0.15, 0.3, 0.5],
                        stages=("growth", "maturity", "decline", "exit"), id_digits=8)
    table = recorded[["customer_id", "value_tier", "lifecycle_stage", "total_value",
                      "value_score"]].copy()
    decisions = recorded[["customer_id", "action", "campaign", "policy_id"]].copy()
    actions = recorded.loc[recorded["status"].notna(),
                           ["customer_id", "campaign", "channel", "status", "holdout", "cost",
                            "value_at_stake", "expected_response"]].reset_index(drop=True)
    actions["reason"] = actions["status"].map(REASONS).fillna("")
    return table, decisions, actions


def server_cpu(pid: int | None) -> float:
    """CPU seconds of a PostgreSQL server: the postmaster, its live children and the children
    it has reaped (a connection's backend ends with it)."""
    if pid is None:
        return float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ppid = int(fields[1])
        if int(entry.name) == pid:
            total += sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
        elif ppid == pid:
            total += sum(int(x) for x in fields[11:13]) / tick
    return total


def measure(url: str, n: int, label: str, runs: int, server: Callable[[], float]) -> None:
    from engine.history.changes import add_changes
    from engine.history.record import record_run, snapshot_frame
    from tests.history_runs import open_history

    with tempfile.TemporaryDirectory() as tmp:
        for run in range(1, runs + 1):
            as_of = dt.date(2025, 1, 1) + dt.timedelta(days=19 * (run - 1))
            table, decisions, actions = frames(n, run)
            start = time.perf_counter()
            store = open_history(url, Path(tmp), source="benchmark")
            opened = time.perf_counter() - start
            start, cpu = time.perf_counter(), time.process_time()
            add_changes(table, store if run > 1 else None, as_of=as_of,
                        tiers=["platinum", "gold", "silver", "bronze"])
            changes, changes_cpu = time.perf_counter() - start, time.process_time() - cpu
            start, cpu, serving = time.perf_counter(), time.process_time(), server()
            snapshot = snapshot_frame(table, decisions, actions)
            record_run(store, run_id=f"bench{run}", as_of=as_of, project="bench",
                       inputs={}, snapshot=snapshot)
            recorded, recorded_cpu = time.perf_counter() - start, time.process_time() - cpu
            serving = server() - serving
            store.close()
            total = opened + changes + recorded
            shown = "" if serving != serving else f", server CPU {serving:5.2f} s"
            print(f"{label} run {run}: {n:,} customers: open {opened:5.2f} s, value-change "
                  f"attributes {changes:5.2f} s (CPU {changes_cpu:5.2f} s), record "
                  f"{recorded:5.2f} s (CPU of this process {recorded_cpu:5.2f} s{shown}); added "
                  f"to cvm run {total:5.2f} s (target 3 s; load average "
                  f"{os.getloadavg()[0]:.1f})", flush=True)
    print(f"  peak memory {peak_rss_mb():,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="customers per run (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=2,
                        help="runs recorded in each database (default 2)")
    parser.add_argument("--postgres-url", default=None,
                        help="a PostgreSQL database to use (default: a throwaway server)")
    parser.add_argument("--no-postgres", action="store_true",
                        help="skip PostgreSQL")
    parser.add_argument("--no-sqlite", action="store_true",
                        help="skip SQLite")
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            measure(f"sqlite:///{Path(tmp) / 'history.sqlite'}", args.customers, "SQLite",
                    args.runs, lambda: float("nan"))
    if args.no_postgres:
        return
    if args.postgres_url:
        measure(args.postgres_url, args.customers, "PostgreSQL", args.runs,
                lambda: float("nan"))
        return
    from tests.pg_server import Server, find_bindir, new_database

    bindir = find_bindir()
    if bindir is None:
        sys.exit("no PostgreSQL installed: pass --postgres-url or --no-postgres")
    server = Server(bindir)
    try:
        pid = int((server.folder / "data" / "postmaster.pid").read_text().split()[0])
        measure(new_database(server.url, "cvm_bench"), args.customers, "PostgreSQL",
                args.runs, lambda: server_cpu(pid))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
