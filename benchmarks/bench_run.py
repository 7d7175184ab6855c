"""Benchmark of ``cvm run`` and ``cvm plan`` end to end on 1M customers (about 9.5M rows).

    python benchmarks/bench_run.py [--customers 1000000] [--skip-plan]

Each is measured in a fresh process: time per stage and peak memory. Targets: run at most
20 s and 4 GB (issue 4); plan at most twice the run's time (issue 5).
The write stage alone, each file's writer apart: benchmarks/bench_write.py (issue 16).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

from _common import (
    DATA_HELP,
    ROOT,
    as_the_cvm_command,
    freed_memory_option,
    peak_rss_mb,
    retail_project,
)


def measure_run(project: str) -> None:
    from engine.run.build import load_project
    from engine.run.job import run

    marks: list[tuple[str, float]] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:  # the project read in the time, as `cvm run`
        result = run(load_project(Path(project)), out=Path(out) / "run",
                     progress=lambda s: marks.append((s, time.perf_counter())))
        total = time.perf_counter() - start
    marks.append(("end", start + total))
    for (name, t0), (_, t1) in pairwise(marks):
        print(f"  {name:<10} {t1 - t0:6.2f} s")
    c = result.counts
    print(f"run: {c['customers']:,} customers, {c['actioned']:,} actioned, "
          f"{c['allocated']:,} allocated; total {total:.2f} s (target 20 s); "
          f"peak memory {peak_rss_mb():,.0f} MB (target 4,096 MB)")


def measure_plan(project: str) -> None:
    from engine.plan.dry_run import make_plan
    from engine.plan.sources import sides
    from engine.project.config import load_config

    config = load_config(Path(project))
    with tempfile.TemporaryDirectory() as tmp:
        proposed = Path(tmp) / "change"
        (proposed / "policies").mkdir(parents=True)
        text = (Path(project) / "policies" / "win_back.yaml").read_text()
        (proposed / "policies" / "win_back.yaml").write_text(
            text.replace("clv_discounted: {gte: 25}", "clv_discounted: {gte: 10}"))
        start = time.perf_counter()
        base, prop = sides(config, Path(tmp) / "sides", proposed=proposed, overlay=True)
        plan = make_plan(config, base, prop)
        total = time.perf_counter() - start
    print(f"plan: {plan.totals['changed']:,.0f} customers change; total {total:.2f} s "
          f"(target: at most twice the run); peak memory {peak_rss_mb():,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=DATA_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="customers in the synthetic data (default 1,000,000)")
    parser.add_argument("--skip-plan", action="store_true",
                        help="time cvm run only, not cvm plan")
    freed_memory_option(parser)
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        as_the_cvm_command(args.freed_memory)
        {"run": measure_run, "plan": measure_plan}[args.measure[0]](args.measure[1])
        return
    project = retail_project(args.customers)
    shutil.rmtree(project / "output", ignore_errors=True)
    for what in ("run", *(() if args.skip_plan else ("plan",))):
        subprocess.run([sys.executable, __file__, "--measure", what, str(project),
                        "--freed-memory", args.freed_memory], check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
