"""The benchmarks' peak memory is the measured process's own: each case runs in a fresh
process started by a benchmark that may hold gigabytes of generated data, and Linux keeps
``ru_maxrss`` across ``exec`` (bench_growth's 3M UUID run and DuckDB beside it both read the
benchmark's 10.7 GB)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_a_fresh_process_reports_its_own_peak_not_its_parents() -> None:
    held = np.ones(64_000_000)  # 512 MB resident in this process
    done = subprocess.run(
        [sys.executable, "-c", "from _common import peak_rss_mb; print(peak_rss_mb())"],
        cwd=BENCHMARKS, capture_output=True, text=True, check=True)
    assert held.sum() == 64_000_000
    assert float(done.stdout) < 300, done.stdout  # the child: Python and numpy, not 512 MB


def test_a_module_run_by_a_benchmark_reports_its_own_peak_not_its_parents() -> None:
    # bench_commits.py: `cvm run` at each revision, a child of a process that may hold the
    # generated data; wait4's ru_maxrss is the parent's peak when that was larger
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _common import run_module_measured
    finally:
        sys.path.remove(str(BENCHMARKS))
    held = np.ones(64_000_000)  # 512 MB resident in this process
    code, wall, cpu, peak = run_module_measured("json.tool", ["--help"], cwd=BENCHMARKS)
    assert held.sum() == 64_000_000
    assert code == 0 and wall > 0 and cpu > 0
    assert 1 < peak < 300, peak  # the child: Python and json.tool, not 512 MB
    code, *_ = run_module_measured("json.tool", ["/no/such/file"], cwd=BENCHMARKS)
    assert code == 2  # argparse: the file cannot be opened
