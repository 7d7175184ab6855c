"""`cvm run` on the same data at several commits, side by side: is a change a slow-down?

    python benchmarks/bench_commits.py REV [REV ...] [--customers 1000000] [--repeats 2]

Each revision is checked out (detached, in a temporary git worktree) and runs `cvm run` on the
cached synthetic project of ``--customers`` (made by `_common.retail_project`), with that
revision's own cvm.yaml, rules, policies and templates, in a fresh process, with this
checkout's Python environment (the revisions must share its dependencies). The runs are
interleaved (A B A B ...), so that a change in the machine's load falls on every revision
alike; each prints wall time, CPU time (user + system: what a loaded machine disturbs least)
and peak memory, then the medians (and the largest peak) per revision. ``--no-history`` is
passed to revisions that have a history store (the others never record one), so all do the
same work.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import DATA_HELP, ROOT, retail_project, run_module_measured

DATA = ("transactions.parquet", "customers.parquet")


def _checkout(rev: str, where: Path) -> Path:
    folder = where / rev.replace("/", "_")
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(folder),
                    rev], check=True)
    return folder


def _project(source: Path, data: Path, where: Path) -> Path:
    """The revision's own project files around the shared data (linked, not copied)."""
    project = where / f"project-{source.name}"
    project.mkdir()
    for name in DATA:
        (project / name).symlink_to(data / name)
    text = (source / "cvm.yaml").read_text()
    text = text.replace("examples/retail/transactions.csv", DATA[0])
    (project / "cvm.yaml").write_text(text.replace("examples/retail/customers.csv", DATA[1]))
    for sub in ("rules", "policies", "templates"):
        if (source / sub).is_dir():
            shutil.copytree(source / sub, project / sub)
    return project


def _once(source: Path, project: Path, out: Path) -> tuple[float, float, float]:
    """Wall s, CPU s and peak MB of one `cvm run` by the code of ``source``."""
    shutil.rmtree(out, ignore_errors=True)
    help_text = subprocess.run([sys.executable, "-m", "engine", "run", "--help"], cwd=source,
                               capture_output=True, text=True, check=True).stdout
    extra = ["--no-history"] if "--no-history" in help_text else []
    # the revision's own `engine` package: the working folder comes first on sys.path
    code, wall, cpu, peak = run_module_measured(
        "engine", ["run", "--project", str(project), "--out", str(out), "--quiet", *extra],
        cwd=source, env={**os.environ, "PYTHONPATH": str(source)})
    if code != 0:
        raise SystemExit(f"cvm run at {source.name} failed (exit {code})")
    return wall, cpu, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=DATA_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revs", nargs="+", help="git revisions (commits, branches, tags)")
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="customers in the synthetic data (default 1,000,000)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="runs of each revision, interleaved (default 2)")
    args = parser.parse_args()
    data = retail_project(args.customers)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        sources = {rev: _checkout(rev, where) for rev in args.revs}
        try:
            projects = {rev: _project(src, data, where) for rev, src in sources.items()}
            figures: dict[str, list[tuple[float, float, float]]] = {r: [] for r in args.revs}
            for repeat in range(args.repeats):
                for rev in args.revs:
                    wall, cpu, peak = _once(sources[rev], projects[rev], where / "out")
                    figures[rev].append((wall, cpu, peak))
                    print(f"  {rev:<12} run {repeat + 1}: wall {wall:6.1f} s, CPU {cpu:6.1f} s, "
                          f"peak {peak:,.0f} MB", flush=True)
        finally:
            for src in sources.values():
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(src)], check=False)
    print(f"cvm run on {args.customers:,} customers, {args.repeats} runs each, interleaved "
          f"(load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end):")
    for rev, rows in figures.items():
        print(f"  {rev:<12} median wall {statistics.median(r[0] for r in rows):6.1f} s, "
              f"CPU {statistics.median(r[1] for r in rows):6.1f} s, "
              f"peak {max(r[2] for r in rows):,.0f} MB")


if __name__ == "__main__":
    main()
