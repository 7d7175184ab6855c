"""Shared by the benchmarks: a cached 1M-customer synthetic data set and a peak-memory probe."""

from __future__ import annotations

import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples" / "retail"))  # synth.py, the example generator

BENCH_DATA = ROOT / "bench-data"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def retail_project(customers: int, *, seed: int = 7) -> Path:
    """A project folder with ``customers`` synthetic customers as Parquet (made once, cached)."""
    from synth import generate, write

    folder = BENCH_DATA / f"retail-{customers}"
    if not (folder / "transactions.parquet").exists():
        start = time.perf_counter()
        data = generate(customers, seed=seed)
        write(data, folder, fmt="parquet")
        print(f"generated {len(data.transactions):,} transactions for {customers:,} customers "
              f"in {time.perf_counter() - start:.1f} s -> {folder}", flush=True)
    config = (ROOT / "cvm.yaml").read_text()
    config = config.replace("examples/retail/transactions.csv", "transactions.parquet")
    config = config.replace("examples/retail/customers.csv", "customers.parquet")
    (folder / "cvm.yaml").write_text(config)
    for sub in ("rules", "policies", "templates"):
        if (ROOT / sub).exists():
            shutil.rmtree(folder / sub, ignore_errors=True)
            shutil.copytree(ROOT / sub, folder / sub)
    return folder
