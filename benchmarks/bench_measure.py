"""Benchmark of `cvm measure` and of learning over a history of 10 runs.

    python benchmarks/bench_measure.py [--customers 1000000] [--runs 10]

A fresh SQLite history gets ``--runs`` weekly runs of ``--customers`` customers (as
bench_contact.py: 30% allocated on one of four channels in one of three campaigns, 10% of them
in a holdout, the others not served) and a converted response for 2% of them per run; the
transactions are one purchase per customer per run, on a random day. Printed: the time of
``engine.history.measure.measure`` over every run and campaign (what `cvm measure` computes,
without loading the transactions file), and of ``engine.history.learn.learn`` for an eleventh
run (what `cvm run` adds to learn the expected responses). Recording is not timed
(bench_history.py times it). Target (issue 13): `cvm measure` over that history for 1M
customers in at most 3 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from _common import peak_rss_mb
from bench_contact import CAMPAIGNS, _responses, snapshot


def cpu_times(since: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float]:
    """This process's user and system CPU seconds (since ``since``): the system part is mostly
    the kernel clearing fresh pages, which this machine makes costly."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime - since[0], use.ru_stime - since[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="customers in the history (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=10,
                        help="weekly runs recorded before measuring (default 10)")
    args = parser.parse_args()
    from engine.data.load import EPOCH, LoadReport, Transactions
    from engine.history.learn import learn
    from engine.history.measure import measure
    from engine.history.record import record_run
    from engine.history.settings import parse
    from engine.history.store import open_store
    from engine.run.build import load_project

    n = args.customers
    rng = np.random.default_rng(13)
    ids = np.array([f"C{i:08d}" for i in range(n)], dtype=object)
    start_day = dt.date(2025, 1, 6)
    as_of = start_day + dt.timedelta(days=7 * args.runs + 30)
    days = (as_of - start_day).days
    tx = Transactions(ids, pa.array(ids.tolist()), np.repeat(np.arange(n), args.runs),
                      ((start_day - EPOCH).days + rng.integers(0, days, n * args.runs))
                      .astype(np.int32), np.full(n * args.runs, 20.0),
                      np.full(n * args.runs, 8.0), None, None, (), as_of, LoadReport("bench"))
    setup = load_project(Path(__file__).resolve().parents[1]).channels
    with tempfile.TemporaryDirectory() as tmp:
        settings = parse(str(Path(tmp) / "h.sqlite"), Path(tmp), source="benchmark")
        store = open_store(settings, create=True)
        assert store is not None
        answers = []
        for run in range(args.runs):
            day = start_day + dt.timedelta(days=7 * run)
            frame = snapshot(ids, rng)
            held = (frame["status"] != "allocated").to_numpy() & (rng.random(n) < 0.15)
            frame.loc[held, "status"] = "holdout"
            frame["holdout"] = held
            record_run(store, run_id=f"bench{run}", as_of=day, project="bench", inputs={},
                       snapshot=frame)
            who = ids[rng.random(n) < 0.02]
            answers.append(pd.DataFrame({
                "customer_id": who, "campaign": CAMPAIGNS[rng.integers(0, 3, len(who))],
                "date": (day + dt.timedelta(days=3)).isoformat(), "outcome": "converted"}))
        _responses(store, pd.concat(answers, ignore_index=True))
        measure(store, tx, setup)  # warm: the first call pays for imports and caches
        start, cpu = time.perf_counter(), cpu_times()
        table = measure(store, tx, setup)
        measured, measured_cpu = time.perf_counter() - start, cpu_times(cpu)
        start, cpu = time.perf_counter(), cpu_times()
        learned = learn(store, tx, setup, as_of=as_of, campaigns=list(CAMPAIGNS),
                        source="benchmark")
        learnt, learnt_cpu = time.perf_counter() - start, cpu_times(cpu)
        store.close()
    print(f"{n:,} customers, {args.runs} runs: measure {measured:5.2f} s (CPU user + sys "
          f"{measured_cpu[0]:5.2f} + {measured_cpu[1]:4.2f} s; {len(table)} rows; target 3 s "
          f"at 1M), learning {learnt:5.2f} s (CPU {learnt_cpu[0]:5.2f} + {learnt_cpu[1]:4.2f} "
          f"s; {learned.runs} runs measured); load average {os.getloadavg()[0]:.1f}; peak "
          f"{peak_rss_mb():,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
