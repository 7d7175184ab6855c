"""Every benchmark the README lists runs, on small data: bench_history.py had stopped running
(the snapshot takes the action list's reason, which its made-up actions lacked) and nothing
said so. Each runs in a process of its own, as a user starts it, with its generated data in a
temporary folder (CVM_BENCH_DATA), never in the checkout's bench-data/. The figures are not
checked here: speed is for the benchmarks to print (README, "Performance")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL = "3000"

CASES = {
    "bench_score": ["--customers", SMALL],
    "bench_score_shuffled": ["--customers", SMALL, "--shuffled"],
    "bench_decide": ["--customers", SMALL],
    "bench_models": ["--customers", SMALL, "--repeat", "1", "--no-lifetimes"],
    "bench_run": ["--customers", SMALL],
    "bench_write": ["--customers", SMALL, "--repeat", "1"],
    "bench_growth": ["--sizes", "2000,3000", "--ids", "short,uuid", "--order",
                     "sorted,shuffled"],
    "bench_history": ["--customers", SMALL, "--no-postgres"],
    "bench_contact": ["--customers", SMALL, "--runs", "3"],
    "bench_measure": ["--customers", SMALL, "--runs", "3"],
    "bench_policies": ["--customers", SMALL, "--policies", "50"],
    "bench_serve": ["--requests", "200", "--seconds", "5", "--connections", "2"],
    "bench_startup": ["--repeat", "1", "--only", "validate"],
    "bench_commits": ["HEAD", "--customers", SMALL, "--repeats", "1"],
    "bench_dask": ["--customers", SMALL, "--identity-max", SMALL],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_benchmark_runs(case: str, tmp_path: Path) -> None:
    script = ROOT / "benchmarks" / f"{case.removesuffix('_shuffled')}.py"
    got = subprocess.run([sys.executable, str(script), *CASES[case]], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600, check=False,
                         env={**os.environ, "CVM_BENCH_DATA": str(tmp_path / "data")})
    assert got.returncode == 0, got.stdout[-2000:] + got.stderr[-4000:]
    assert "Traceback" not in got.stderr
    assert not (ROOT / "bench-data" / f"retail-{SMALL}").exists()


def test_the_history_benchmark_runs_on_postgresql(postgres_server: str, tmp_path: Path) -> None:
    from tests.pg_server import new_database

    url = new_database(postgres_server, "cvm_bench_smoke")
    got = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_history.py"),
                          "--customers", SMALL, "--no-sqlite", "--postgres-url", url],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert got.returncode == 0, got.stdout[-2000:] + got.stderr[-4000:]
    assert "PostgreSQL run 2: 3,000 customers" in got.stdout


@pytest.mark.parametrize("name", ["bench_commits", "bench_dask", "bench_decide", "bench_growth",
                                  "bench_run", "bench_score", "bench_write"])
def test_a_benchmark_that_generates_data_says_where_in_its_help(name: str) -> None:
    got = subprocess.run([sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), "--help"],
                         capture_output=True, text=True, timeout=60, check=True)
    assert " ".join(got.stdout.split()).endswith(
        "generated data is made once and kept in bench-data/ of the checkout, or in the folder "
        "the environment variable CVM_BENCH_DATA names")
