"""Shared by the benchmarks: a cached 1M-customer synthetic data set and a peak-memory probe."""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples" / "retail"))  # synth.py, the example generator

# generated data sets, made once and kept: bench-data/ of the checkout unless CVM_BENCH_DATA
# names another folder (the tests run each benchmark on small data in a temporary one)
BENCH_DATA = Path(os.environ.get("CVM_BENCH_DATA") or ROOT / "bench-data")
# for each benchmark's --help
DATA_HELP = ("generated data is made once and kept in bench-data/ of the checkout, or in the "
             "folder the environment variable CVM_BENCH_DATA names")


def freed_memory_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--freed-memory", choices=("kept", "returned"), default="kept",
        help="kept (the default): the memory settings of the cvm command (engine/memory.py: "
        "freed memory reused, not faulted in again); returned: the libraries' defaults")


def as_the_cvm_command(freed_memory: str) -> None:
    """Before a measure in this process: the memory settings the ``cvm`` command applies."""
    if freed_memory == "kept":
        from engine.memory import keep_freed_memory
        keep_freed_memory()


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB: Linux's VmHWM, its own since it
    started. Not ``ru_maxrss``, which Linux keeps across ``exec``: a case run in a fresh
    process by a benchmark holding gigabytes of generated data reported the benchmark's peak
    (the 3M UUID cases and DuckDB's beside them read the same 10.7 GB)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def retail_project(customers: int, *, seed: int = 7, ids: str = "short") -> Path:
    """A project folder with ``customers`` synthetic customers as Parquet (made once, cached).
    ``ids="uuid"``: 36-character UUID customer and order ids (synth.py's option)."""
    from synth import generate, write

    folder = BENCH_DATA / f"retail-{customers}{'' if ids == 'short' else '-' + ids}"
    if not (folder / "transactions.parquet").exists():
        start = time.perf_counter()
        data = generate(customers, seed=seed, ids=ids)  # type: ignore[arg-type]
        write(data, folder, fmt="parquet")
        print(f"generated {len(data.transactions):,} transactions for {customers:,} customers "
              f"in {time.perf_counter() - start:.1f} s -> {folder}", flush=True)
    else:
        print(f"data: {folder} (generated earlier; delete the folder to generate it again)",
              flush=True)
    config = (ROOT / "cvm.yaml").read_text()
    config = config.replace("examples/retail/transactions.csv", "transactions.parquet")
    config = config.replace("examples/retail/customers.csv", "customers.parquet")
    (folder / "cvm.yaml").write_text(config)
    for sub in ("rules", "policies", "templates"):
        if (ROOT / sub).exists():
            shutil.rmtree(folder / sub, ignore_errors=True)
            shutil.copytree(ROOT / sub, folder / sub)
    return folder


def shuffled_project(project: Path) -> Path:
    """A copy of the project with the transaction rows in random order (made once)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = project.with_name(project.name + "-shuffled")
    target = folder / "transactions.parquet"
    if not target.exists():
        shutil.copytree(project, folder, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("transactions.parquet", "output", ".cvm"))
        start = time.perf_counter()
        table = pq.read_table(project / "transactions.parquet")
        order = np.random.default_rng(1).permutation(table.num_rows)
        pq.write_table(table.take(pa.array(order)), target)
        print(f"shuffled {table.num_rows:,} transactions in {time.perf_counter() - start:.1f} s "
              f"-> {folder}", flush=True)
    return folder


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (the machine is shared: wall time is
    noisy, CPU time much less so)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    import os

    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# Runs a module (argv[1], then its arguments) as ``python -m`` would, and writes the process's
# own peak memory (VmHWM, kB) to the file named by BENCH_PEAK_FILE as it exits.
_PEAK_WRAPPER = """
import atexit, os, runpy, sys
def _peak():
    with open("/proc/self/status", encoding="ascii") as fh, \\
            open(os.environ["BENCH_PEAK_FILE"], "w", encoding="ascii") as out:
        out.write(next(ln for ln in fh if ln.startswith("VmHWM:")).split()[1])
atexit.register(_peak)
module, sys.argv = sys.argv[1], sys.argv[1:]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


def run_module_measured(module: str, args: list[str], *, cwd: Path,
                        env: dict[str, str] | None = None) -> tuple[int, float, float, float]:
    """``python -m module args`` in a fresh process: its exit code, wall s, CPU s (user +
    system) and its own peak memory in MB (reported by the child itself: the ``ru_maxrss`` that
    ``wait4`` gives is the parent's when the parent's peak was larger, kept across ``exec``)."""
    import os
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", _PEAK_WRAPPER, module, *args], cwd=cwd,
                                 stdout=subprocess.DEVNULL,
                                 env={**(env or os.environ), "BENCH_PEAK_FILE": str(peak_file)})
        _, status, usage = os.wait4(child.pid, 0)  # this child's own CPU time
        wall = time.perf_counter() - start
        text = peak_file.read_text() if peak_file.exists() else ""
    peak = int(text) / 1024 if text else float("nan")
    return os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime, peak
