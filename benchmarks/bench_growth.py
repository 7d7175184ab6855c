"""Growth benchmark: ``cvm run`` as the data grows, short or UUID ids, rows by date or shuffled.

    python benchmarks/bench_growth.py [--sizes 100000,300000,1000000,3000000]
        [--ids short,uuid] [--order sorted,shuffled] [--duckdb] [--dask]

Each case runs in a fresh process on a synthetic project (``synth.py``, its rows in date order,
as exports usually are, or a shuffled copy; cached in bench-data/):
time per stage, wall and CPU (user + system: the development machine is shared, so wall time
moves with the other processes' load, CPU time much less), and peak memory. Then the ratios the
engine promises (issue 16): 3M customers at most 3.3 times the 1M time, 36-character UUID
customer and order ids at most 1.3 times the short ids', shuffled rows within the same bounds,
peak memory growing at most linearly.

``--duckdb`` adds DuckDB (``pip install -e '.[bench]'``) on the same Parquet file, for the
per-customer aggregation the features stage does (orders, purchase days, first and last
purchase, revenue, refunds, categories), side by side with the engine's load + features.
``--dask`` runs ``cvm run --engine dask --no-history`` instead of the single process (a local
cluster of two workers; the 10M point of the growth benchmark; memory: bench_dask.py).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    DATA_HELP,
    ROOT,
    as_the_cvm_command,
    cpu_seconds,
    freed_memory_option,
    load_average,
    peak_rss_mb,
    retail_project,
    shuffled_project,
)

DUCKDB_QUERY = """
SELECT CustomerID,
       count(DISTINCT OrderID) FILTER (WHERE NetAmount > 0) AS orders,
       count(DISTINCT OrderDate) FILTER (WHERE NetAmount > 0) AS purchase_days,
       min(OrderDate) FILTER (WHERE NetAmount > 0) AS first_purchase,
       max(OrderDate) FILTER (WHERE NetAmount > 0) AS last_purchase,
       sum(NetAmount) FILTER (WHERE NetAmount > 0) AS bought,
       -sum(NetAmount) FILTER (WHERE NetAmount < 0) AS refunds,
       sum(NetAmount - Cost) AS margin,
       count(DISTINCT Category) FILTER (WHERE NetAmount > 0) AS category_breadth
FROM read_parquet(?)
GROUP BY CustomerID
"""


def measure_run(project: str) -> None:
    """One ``cvm run``, its stages timed (wall and CPU); prints one JSON line."""
    from engine.run.build import load_project
    from engine.run.job import run

    marks: list[tuple[str, float, float]] = []

    def mark(stage: str) -> None:
        marks.append((stage, time.perf_counter(), cpu_seconds()))

    mark("read project")
    with tempfile.TemporaryDirectory() as out:
        result = run(load_project(Path(project)), out=Path(out) / "run", progress=mark)
    mark("end")
    stages = {name: (t1 - t0, c1 - c0)
              for (name, t0, c0), (_, t1, c1) in itertools.pairwise(marks)}
    print(json.dumps({"rows": result.manifest["counts"].get("rows_read"),
                      "customers": result.counts["customers"],
                      "wall": marks[-1][1] - marks[0][1], "cpu": marks[-1][2] - marks[0][2],
                      "peak_mb": peak_rss_mb(), "stages": stages}))


def measure_duckdb(parquet: str) -> None:
    """DuckDB's per-customer aggregation on 2 threads; prints one JSON line."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    start, cpu = time.perf_counter(), cpu_seconds()
    customers = con.execute(f"SELECT count(*) FROM ({DUCKDB_QUERY})", [parquet]).fetchone()
    print(json.dumps({"customers": customers[0] if customers else 0,
                      "wall": time.perf_counter() - start, "cpu": cpu_seconds() - cpu,
                      "peak_mb": peak_rss_mb()}))


def measure_dask(project: str) -> None:
    """``cvm run --engine dask`` on the project, timed from outside (its workers are other
    processes: their memory is reported by the engine itself)."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run([sys.executable, "-m", "engine", "run", "--project", project,
                               "--engine", "dask", "--no-history", "--out",
                               str(Path(out) / "run")],
                              capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        print(json.dumps({"error": (done.stderr or done.stdout).strip()[-400:]}))
        return
    print(json.dumps({"wall": time.perf_counter() - start, "cpu": None,
                      "peak_mb": None, "stages": {}}))


def fresh(what: str, target: Path, freed_memory: str) -> dict[str, object]:
    """Run ``what`` on ``target`` in a fresh process (its peak memory its own)."""
    done = subprocess.run([sys.executable, __file__, "--measure", what, str(target),
                           "--freed-memory", freed_memory],
                          check=True, capture_output=True, text=True, cwd=ROOT)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _ratio(cases: dict[tuple[int, str, str], dict[str, object]], a: tuple[int, str, str],
           b: tuple[int, str, str], key: str) -> str:
    if a not in cases or b not in cases:
        return "-"
    x, y = cases[a].get(key), cases[b].get(key)
    return f"{float(x) / float(y):.2f}" if isinstance(x, float) and isinstance(y, float) \
        and y > 0 else "-"  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=DATA_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,300000,1000000,3000000",
                        help="customers, comma-separated (default 100000,300000,1000000,3000000)")
    parser.add_argument("--ids", default="short,uuid",
                        help="short, uuid or both, comma-separated (default short,uuid)")
    parser.add_argument("--order", default="sorted,shuffled",
                        help="rows in date order as synth.py writes them (sorted), shuffled, "
                             "or both (default sorted,shuffled)")
    parser.add_argument("--duckdb", action="store_true",
                        help="DuckDB's per-customer aggregation on the same files")
    parser.add_argument("--dask", action="store_true", help="cvm run --engine dask")
    freed_memory_option(parser)
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        as_the_cvm_command(args.freed_memory)
        {"run": measure_run, "duckdb": measure_duckdb, "dask": measure_dask}[
            args.measure[0]](args.measure[1])
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average at start: {load_average()} ({os.cpu_count()} cores)", flush=True)
    cases: dict[tuple[int, str, str], dict[str, object]] = {}
    for size in sizes:
        for ids in args.ids.split(","):
            base = retail_project(size, ids=ids)
            for order in args.order.split(","):
                project = shuffled_project(base) if order == "shuffled" else base
                # every case a first run: no history of an earlier one to compare with
                shutil.rmtree(project / ".cvm", ignore_errors=True)
                case = fresh("dask" if args.dask else "run", project, args.freed_memory)
                cases[size, ids, order] = case
                if "error" in case:
                    print(f"{size:>10,} {ids:<5} {order:<8} {case['error']}", flush=True)
                    continue
                stages = "  ".join(f"{k} {w:.2f}/{c:.2f}" for k, (w, c) in
                                   case.get("stages", {}).items())  # type: ignore[attr-defined]
                print(f"{size:>10,} {ids:<5} {order:<8} run wall {case['wall']:6.2f} s, "
                      f"cpu {case['cpu'] or 0:6.2f} s, peak {case['peak_mb'] or 0:7,.0f} MB "
                      f"(load {load_average()})\n    stages wall/cpu s: {stages}", flush=True)
                if args.duckdb:
                    duck = fresh("duckdb", project / "transactions.parquet", "returned")
                    print(f"{'':>10} DuckDB per-customer aggregation: wall {duck['wall']:.2f} s,"
                          f" cpu {duck['cpu']:.2f} s, peak {duck['peak_mb']:,.0f} MB, "
                          f"{duck['customers']:,} customers", flush=True)
    print("\nratios (wall, cpu, peak memory), of the pairs of cases measured:")
    pairs = [(f"{ids} {order}: {large:,} / {small:,} customers",
              (large, ids, order), (small, ids, order), f" (data x {large / small:g})")
             for ids in args.ids.split(",") for order in args.order.split(",")
             for small, large in itertools.pairwise(sizes)]
    for size in sizes:
        pairs += [(f"{size:,} {order}: uuid / short ids", (size, "uuid", order),
                   (size, "short", order), "") for order in args.order.split(",")]
        pairs += [(f"{size:,} {ids}: shuffled / sorted", (size, ids, "shuffled"),
                   (size, ids, "sorted"), "") for ids in args.ids.split(",")]
    shown = [f"  {label}: {_ratio(cases, a, b, 'wall')}, {_ratio(cases, a, b, 'cpu')}, "
             f"{_ratio(cases, a, b, 'peak_mb')}{tail}" for label, a, b, tail in pairs
             if all(k in cases and "error" not in cases[k] for k in (a, b))]
    print("\n".join(shown) if shown else "  none: one case, or a case failed")
    print(f"load average at end: {load_average()}")


if __name__ == "__main__":
    main()
