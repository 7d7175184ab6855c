"""Benchmark of the fixed cost every ``cvm`` command pays: importing and reading the project.

    python benchmarks/bench_startup.py [--repeat 5] [--root CHECKOUT] [--only NAME ...]

Runs each command below in a fresh process, ``--repeat`` times, on a temporary copy of the
bundled retail project (2,000 customers), and prints the median wall and CPU time (user +
system of the child) per command, and the load average (the machine may be shared: CPU time
is the steadier figure). ``--root``: run the ``engine`` package of another checkout (an
unchanged one, for before/after figures with the same script and data).

Targets: error exits and ``--help`` under 0.5 s, ``cvm validate`` under 1 s, ``cvm run`` under
2 s (wall, on a quiet machine).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PARTS = ("cvm.yaml", "examples", "policies", "rules", "templates", "policy_tests",
                 "triggers")
# name, arguments, where it runs ("project": the copy; "empty": a folder without cvm.yaml)
COMMANDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("--help", ("--help",), "empty"),
    ("run (no project)", ("run",), "empty"),
    ("validate", ("validate",), "project"),
    ("run --no-history -q", ("run", "--no-history", "-q"), "project"),
    ("score", ("score",), "project"),
    ("explain C000001", ("explain", "C000001"), "project"),
)


def copy_project(target: Path) -> Path:
    target.mkdir(parents=True)
    for part in PROJECT_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part,
                            ignore=shutil.ignore_patterns("output", ".cvm", "__pycache__"))
        elif source.is_file():
            shutil.copy2(source, target / part)
    return target


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def once(code: str, args: tuple[str, ...], cwd: Path,
         env: dict[str, str]) -> tuple[float, float, int]:
    """One run in a fresh process: wall seconds, CPU seconds, exit code."""
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start, children_cpu() - cpu, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs of each command; the median is printed (default 5)")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the checkout whose engine/ is run (default: this one)")
    parser.add_argument("--only", nargs="*", help="the commands to run (names as printed)")
    args = parser.parse_args()
    root = args.root.resolve()
    # the checkout first on the path, ahead of an editable install of another one
    code = (f"import sys; sys.path.insert(0, {str(root)!r}); sys.argv[0] = 'cvm'; "
            "from engine.cli import main; main()")
    print(f"engine from {root}; {args.repeat} runs each; python "
          f"{sys.version.split()[0]}; load average {load_average()}")
    with tempfile.TemporaryDirectory(prefix="cvm-startup-") as tmp:
        project = copy_project(Path(tmp) / "project")
        empty = Path(tmp) / "empty"
        empty.mkdir()
        # compiled modules cached as a user's are (PYTHONDONTWRITEBYTECODE would compile the
        # engine at every start), outside the checkout
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        env.pop("CVM_HISTORY_URL", None)
        # a first run of each, not counted: the bytecode cache, the page cache
        for name, argv, where in COMMANDS:
            if args.only and name not in args.only:
                continue
            cwd = project if where == "project" else empty
            once(code, argv, cwd, env)
            walls, cpus, codes = [], [], set()
            for _ in range(args.repeat):
                wall, cpu, rc = once(code, argv, cwd, env)
                walls.append(wall)
                cpus.append(cpu)
                codes.add(rc)
            print(f"  {name:<22} wall {statistics.median(walls):5.2f} s  "
                  f"cpu {statistics.median(cpus):5.2f} s  (min wall {min(walls):5.2f} s; "
                  f"exit {', '.join(str(c) for c in sorted(codes))})", flush=True)
    print(f"load average {load_average()}")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
