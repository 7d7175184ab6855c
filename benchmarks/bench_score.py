"""Benchmark of the scoring step: 9.5M transactions of 1M customers from Parquet.

    python benchmarks/bench_score.py [--customers 1000000] [--shuffled]

Generates the data once (cached in bench-data/), then, in a fresh process, times loading,
features and value (and the models, which `cvm score` also fits), and prints the peak
memory. Target (issue 2): at most 5 s and 2 GB for load + features + value.

The generated file lists rows by date, as exports usually do; ``--shuffled`` measures the
same rows in random order, where the loader's run-based shortcuts do not apply.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from _common import (
    DATA_HELP,
    ROOT,
    as_the_cvm_command,
    freed_memory_option,
    peak_rss_mb,
    retail_project,
    shuffled_project,
)


def measure(project: str) -> None:
    from engine.project.config import load_config
    from engine.value.score import score

    config = load_config(Path(project))
    start = time.perf_counter()
    scored = score(config)
    total = time.perf_counter() - start
    rep = scored.report
    print(f"rows read {rep.rows_read:,}, used {rep.rows_used:,}; customers {len(scored.table):,}")
    for name, seconds in scored.timings.items():
        print(f"  {name:<10} {seconds:6.2f} s")
    core = sum(v for k, v in scored.timings.items() if k != "models")
    print(f"load + features + value {core:.2f} s (target 5 s); with the models {total:.2f} s; "
          f"peak memory {peak_rss_mb():,.0f} MB (target 2,048 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=DATA_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="customers in the synthetic data (default 1,000,000)")
    parser.add_argument("--shuffled", action="store_true",
                        help="the same rows in random order")
    freed_memory_option(parser)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        as_the_cvm_command(args.freed_memory)
        measure(args.measure)
        return
    project = retail_project(args.customers)
    if args.shuffled:
        project = shuffled_project(project)
    # a fresh process, so the peak memory is the scoring step's own
    subprocess.run([sys.executable, __file__, "--measure", str(project),
                    "--freed-memory", args.freed_memory], check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
