"""Every benchmark the README lists runs, on small data: bench_history.py had stopped running
(the snapshot takes the action list's reason, which its made-up actions lacked) and nothing
said so. Each runs in a process of its own, as a user starts it, with its generated data in a
temporary folder (CVM_BENCH_DATA), never in the checkout's bench-data/. The figures are not
checked here: speed is for the benchmarks to print (README, "Performance")."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ci_jobs import main_job_only

ROOT = Path(__file__).resolve().parents[1]
SMALL = "3000"

CASES = {
    "bench_score": ["--customers", SMALL],
    "bench_score_shuffled": ["--customers", SMALL, "--shuffled"],
    "bench_decide": ["--customers", SMALL],
    "bench_models": ["--customers", SMALL, "--repeat", "1", "--no-lifetimes"],
    "bench_run": ["--customers", SMALL],
    "bench_write": ["--customers", SMALL, "--repeat", "1"],
    # the three kinds of ratio in six runs (the grid of the three would take eight)
    "bench_growth": ["--sizes", "1000,1500", "--ids", "short,uuid", "--order", "shuffled"],
    "bench_growth_orders": ["--sizes", "1000", "--ids", "uuid", "--order", "sorted,shuffled"],
    "bench_growth_one": ["--sizes", "1000", "--ids", "short", "--order", "sorted"],
    "bench_history": ["--customers", SMALL, "--no-postgres"],
    "bench_contact": ["--customers", SMALL, "--runs", "3"],
    "bench_measure": ["--customers", SMALL, "--runs", "3"],
    "bench_policies": ["--customers", SMALL, "--policies", "50"],
    "bench_serve": ["--requests", "200", "--seconds", "5", "--connections", "2"],
    "bench_startup": ["--repeat", "1", "--only", "validate"],
    "bench_commits": ["HEAD", "--customers", SMALL, "--repeats", "1"],
    "bench_dask": ["--customers", SMALL, "--identity-max", SMALL],
}

# what a case prints, line by line (regular expressions), where a user was left guessing
PRINTS = {
    "bench_dask": [r"generated [\d,]+ transactions for 3,000 customers in 4 files in \d+ s -> .+",
                   r" +3,000 customers: +[\d.]+ s, peak +[\d,]+ MB \(process tree\)",
                   r"    the command's summary: Run \w+: 3,000 customers as of .+"],
    "bench_growth": [r"shuffled [\d,]+ transactions in [\d.]+ s -> .+-1000-shuffled",
                     r"shuffled [\d,]+ transactions in [\d.]+ s -> .+-1500-uuid-shuffled",
                     r"  uuid shuffled: 1,500 / 1,000 customers: [\d.]+, [\d.]+, [\d.]+ "
                     r"\(data x 1.5\)",
                     r"  1,500 shuffled: uuid / short ids: [\d.]+, [\d.]+, [\d.]+"],
    "bench_growth_orders": [r"  1,000 uuid: shuffled / sorted: [\d.]+, [\d.]+, [\d.]+"],
    # one case: no ratio lines of "-, -, -" (a new user's trial)
    "bench_growth_one": [r"  none: one case, or a case failed"],
    "bench_score_shuffled": [r"shuffled [\d,]+ transactions in [\d.]+ s -> .+-3000-shuffled"],
}


def test_data_generated_earlier_is_named_too(tmp_path: Path) -> None:
    """A benchmark names the data it runs on when it was generated earlier (before: only when
    it generated it, so a second run did not say where its data was)."""
    code = ("import sys; sys.path.insert(0, 'benchmarks'); from _common import retail_project; "
            "retail_project(2000)")
    env = {**os.environ, "CVM_BENCH_DATA": str(tmp_path / "data")}
    first, second = (subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                                    capture_output=True, text=True, check=True, timeout=300)
                     for _ in range(2))
    folder = tmp_path / "data" / "retail-2000"
    assert re.fullmatch(rf"generated [\d,]+ transactions for 2,000 customers in [\d.]+ s -> "
                        rf"{re.escape(str(folder))}\n", first.stdout), first.stdout
    assert second.stdout == f"data: {folder} (generated earlier; delete the folder to " \
        "generate it again)\n"


# the scripts drive the engine as its other tests do, on data their own generator makes: once
# per CI run is enough (80 s locally, two minutes in the oldest job)
BENCHMARK_RUNS = main_job_only("the benchmarks' scripts run once, with the newest of everything")


@BENCHMARK_RUNS
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_benchmark_runs(case: str, tmp_path: Path) -> None:
    script = ROOT / "benchmarks" / f"{case.split('_')[0]}_{case.split('_')[1]}.py"
    got = subprocess.run([sys.executable, str(script), *CASES[case]], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600, check=False,
                         env={**os.environ, "CVM_BENCH_DATA": str(tmp_path / "data")})
    assert got.returncode == 0, got.stdout[-2000:] + got.stderr[-4000:]
    assert "Traceback" not in got.stderr
    assert not (ROOT / "bench-data" / f"retail-{SMALL}").exists()
    lines = got.stdout.splitlines()
    for pattern in PRINTS.get(case, []):
        assert any(re.fullmatch(pattern, line) for line in lines), (pattern, got.stdout)
    assert not [line for line in lines if "-, -" in line]


@BENCHMARK_RUNS
def test_the_history_benchmark_runs_on_postgresql(postgres_server: str, tmp_path: Path) -> None:
    from tests.pg_server import new_database

    url = new_database(postgres_server, "cvm_bench_smoke")
    got = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_history.py"),
                          "--customers", SMALL, "--no-sqlite", "--postgres-url", url],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert got.returncode == 0, got.stdout[-2000:] + got.stderr[-4000:]
    assert "PostgreSQL run 2: 3,000 customers" in got.stdout


GENERATES_DATA = {"bench_commits", "bench_dask", "bench_decide", "bench_growth", "bench_run",
                  "bench_score", "bench_write"}


def _options_without_help(help_text: str) -> list[str]:
    """The options ``--help`` lists with no text of their own: argparse puts an option's text
    on its line after two spaces or, for a long option, on the next line, indented further."""
    lines = help_text.splitlines()
    bare = []
    for i, line in enumerate(lines):
        if not line.startswith("  -"):
            continue
        has_text = "  " in line.strip()
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        follows = nxt.startswith(" " * 4) and not nxt.strip().startswith("-")
        if not (has_text or follows):
            bare.append(line.strip())
    return bare


@pytest.mark.parametrize("script", sorted(p.stem for p in (ROOT / "benchmarks").glob("bench_*.py")))
def test_a_benchmark_s_help_says_what_it_does_and_where_its_data_goes(script: str) -> None:
    """Every option with a text of its own (14 of 15 scripts had options without); the
    docstring's first paragraph whole (bench_history's and bench_serve's stopped mid-sentence,
    bench_contact's and bench_measure's had none); where generated data is kept (a new user
    reading --help alone filled the checkout's folder)."""
    import ast

    path = ROOT / "benchmarks" / f"{script}.py"
    got = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True,
                         timeout=60, check=True)
    assert _options_without_help(got.stdout) == []
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    first = " ".join(doc.split("\n\n")[0].split())
    shown = " ".join(got.stdout.split())
    assert first and first in shown
    assert shown.endswith("generated data is made once and kept in bench-data/ of the checkout, "
                          "or in the folder the environment variable CVM_BENCH_DATA names") \
        == (script in GENERATES_DATA)


def test_an_option_without_help_is_found() -> None:
    text = ("options:\n  -h, --help            show this help message and exit\n"
            "  --customers CUSTOMERS\n  --repeat REPEAT       best of N\n"
            "  --recompute           compute the tables again (after a change of what they\n"
            "                        hold)\n  --no-sqlite\n")
    assert _options_without_help(text) == ["--customers CUSTOMERS", "--no-sqlite"]
