"""Benchmark of ``cvm run --engine dask`` (issue 16): time, peak memory of the whole process
tree (the command, the scheduler and the workers: the sum of their resident memory, sampled
every 0.2 s), and the scaling from the first size to the others.

    python benchmarks/bench_dask.py [--customers 300000 1000000 10000000] [--partitions N]
                                    [--identity-max 300000] [--scheduler ADDRESS]
                                    [--ids short|uuid]

The data: the retail generator (examples/retail/synth.py), 1M customers (about 9.5M rows) per
chunk, each chunk written as four Parquet files of the dataset folder (a task per file in the
first pass); chunks after the first draw with another seed and prefix their ids, so 10M
customers are about 95M rows. ``--ids uuid``: 36-character UUID customer and order ids, as
many real exports have (each chunk's seed draws its own, so no prefix). Made once, cached in
bench-data/. Up to ``--identity-max``
customers the single-process run on the same rows (as one file) runs too and the action list,
decisions and value table are compared byte for byte.
Target (issue 16): 10M customers within 20 GB for the whole process tree on 2 cores.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from _common import BENCH_DATA, DATA_HELP, ROOT

CHUNK = 1_000_000
FILES_PER_CHUNK = 4
CVM = [sys.executable, "-m", "engine"]


def _prefixed(table: pa.Table, columns: tuple[str, ...], prefix: str) -> pa.Table:
    for name in columns:
        col = table.column(name)
        table = table.set_column(table.schema.get_field_index(name), name,
                                 pc.binary_join_element_wise(prefix, col.cast(pa.string()), ""))
    return table


def dataset(customers: int, *, single_file: bool, ids: str = "short") -> Path:
    """A project whose transactions are a folder of Parquet files (``dataset.yaml``) and, when
    ``single_file``, the same rows as one file (``cvm.yaml``)."""
    from synth import generate

    folder = BENCH_DATA / f"dask-{customers}{'' if ids == 'short' else '-' + ids}"
    parts = folder / "transactions"
    chunks = -(-customers // CHUNK)
    if not (folder / "customers.parquet").exists():
        shutil.rmtree(folder, ignore_errors=True)
        parts.mkdir(parents=True)
        start = time.perf_counter()
        people, rows = [], 0
        for k in range(chunks):
            size = min(CHUNK, customers - k * CHUNK)
            data = generate(size, seed=7 + k, ids=ids)  # type: ignore[arg-type]
            tx = pa.Table.from_pandas(data.transactions, preserve_index=False)
            cust = pa.Table.from_pandas(data.customers, preserve_index=False)
            if chunks > 1 and ids == "short":
                tx = _prefixed(tx, ("CustomerID", "OrderID"), f"K{k}-")
                cust = _prefixed(cust, ("CustomerID", "ReferredBy"), f"K{k}-")
            step = -(-tx.num_rows // FILES_PER_CHUNK)  # files of ~2.4M rows: one task each
            for j in range(FILES_PER_CHUNK):
                pq.write_table(tx.slice(j * step, step), parts / f"part-{k:04d}-{j}.parquet")
            people.append(cust)
            rows += tx.num_rows
            del data, tx
        pq.write_table(pa.concat_tables(people), folder / "customers.parquet")
        print(f"generated {rows:,} transactions for {customers:,} customers in "
              f"{chunks * FILES_PER_CHUNK} files in {time.perf_counter() - start:.0f} s -> "
              f"{folder}", flush=True)
    if single_file and not (folder / "transactions.parquet").exists():
        files = sorted(parts.glob("*.parquet"))
        with pq.ParquetWriter(folder / "transactions.parquet",
                              pq.read_schema(files[0])) as writer:
            for f in files:
                writer.write_table(pq.read_table(f))
    config = (ROOT / "cvm.yaml").read_text().replace("examples/retail/customers.csv",
                                                     "customers.parquet")
    (folder / "cvm.yaml").write_text(config.replace("examples/retail/transactions.csv",
                                                    "transactions.parquet"))
    (folder / "dataset.yaml").write_text(config.replace("examples/retail/transactions.csv",
                                                        "transactions"))
    for sub in ("rules", "policies", "templates"):
        shutil.rmtree(folder / sub, ignore_errors=True)
        shutil.copytree(ROOT / sub, folder / sub)
    return folder


def measured(cmd: list[str]) -> tuple[float, float, str]:
    """Seconds, peak MB of the process tree (summed), and the output of ``cmd`` (with the
    peak of the command's own process, where the per-customer table lives, appended)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    peak, own = [0.0], [0.0]
    root = psutil.Process(proc.pid)

    def sample() -> None:
        while proc.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in tree if p.is_running())
                mine = root.memory_info().rss
            except psutil.Error:
                continue
            peak[0] = max(peak[0], rss / 2**20)
            own[0] = max(own[0], mine / 2**20)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{output}")
    output += f"\nthe command's own process: peak {own[0]:,.0f} MB"
    return time.perf_counter() - start, peak[0], output


def _body(path: Path) -> bytes:
    """A file's bytes; an action list without its run id (it hashes the inputs)."""
    text = path.read_bytes()
    if path.name != "actions.csv":
        return text
    return b"\n".join(line.partition(b",")[2] for line in text.split(b"\n"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=DATA_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, nargs="+", default=[300_000, 1_000_000],
                        help="sizes to run, the first the base of the scaling "
                             "(default 300000 1000000)")
    parser.add_argument("--partitions", type=int, default=None,
                        help="cvm run's --partitions (default: the engine's choice)")
    parser.add_argument("--scheduler", default=None,
                        help="a Dask scheduler address (default: a local cluster of two workers)")
    parser.add_argument("--identity-max", type=int, default=300_000,
                        help="up to this size the single-process run too, compared byte "
                             "for byte (default 300,000)")
    parser.add_argument("--ids", choices=("short", "uuid"), default="short",
                        help="short ids, or 36-character UUID customer and order ids "
                             "(default short)")
    args = parser.parse_args()
    rows = []
    for n in args.customers:
        check = n <= args.identity_max
        project = dataset(n, single_file=check, ids=args.ids)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            cmd = [*CVM, "run", "-p", str(project), "-c", str(project / "dataset.yaml"),
                   "-o", str(out / "dask"), "--no-history", "--engine", "dask"]
            cmd += ["--partitions", str(args.partitions)] if args.partitions else []
            cmd += ["--scheduler", args.scheduler] if args.scheduler else []
            seconds, peak, output = measured(cmd)
            line = [ln for ln in output.splitlines() if ln.startswith("Run ")]
            print(f"{n:>11,} customers: {seconds:7.1f} s, peak {peak:8,.0f} MB (process "
                  f"tree)", flush=True)
            if line:
                print(f"    the command's summary: {line[0]}", flush=True)
            print("    " + output.splitlines()[-1], flush=True)
            steps = [ln.strip() for ln in output.splitlines() if ln.startswith("  [")]
            print("    steps (elapsed at the start of each): " + "; ".join(
                s.removesuffix(" ...") for s in steps), flush=True)
            same = None
            if check:
                local_s, local_mb, _ = measured([*CVM, "run", "-p", str(project), "-o",
                                                 str(out / "local"), "--no-history", "-q"])
                same = all(_body(out / "dask" / f) == _body(out / "local" / f) for f in (
                    "customers.csv", "decisions.csv", "actions.csv"))
                print(f"{'':>11}  single process: {local_s:7.1f} s, peak {local_mb:8,.0f} "
                      f"MB; action list, decisions and value table identical: {same}",
                      flush=True)
            rows.append((n, seconds, peak))
    n0, s0, m0 = rows[0]
    print("\nscaling (against the first size):")
    for n, s, m in rows:
        print(f"{n:>11,} customers: x{n / n0:5.1f} data, x{s / s0:5.2f} time, "
              f"x{m / m0:5.2f} memory; {s:7.1f} s, {m / 1024:5.1f} GB"
              + ("  (target: 20 GB)" if n >= 10_000_000 else ""))


if __name__ == "__main__":
    main()
