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
