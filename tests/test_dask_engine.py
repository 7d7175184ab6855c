"""``cvm run --engine dask`` (issue 16): on a local Dask cluster of two workers, started once for
the module, the action list, decisions, value table and allocation summary are byte-identical to
the single-process run, on the bundled examples and on a synthetic Parquet dataset (a folder of
files) large enough for the purchase model to be chosen on a random sample of customers; with
the history (a second run and a plan learning from the first run, recorded identically). What
the engine does not run on Dask is refused before any work.

The 300k-customer identity check is in benchmarks/bench_dask.py (too slow for CI's 2 cores)."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from engine.cli import app
from tests.ci_jobs import main_job_only
from tests.history_runs import retail_copy, set_as_of
from tests.history_runs import run as history_run
from tests.s3_server import S3, s3_server
from tests.shared_runs import SharedCommands

__all__ = ["s3_server"]  # the fixture, used by name

# the [dev] extra installs it: CI (CI=1) fails without it rather than skipping the module
distributed = importlib.import_module("distributed") if os.environ.get("CI") == "1" \
    else pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
COMPARED = ("customers.csv", "customers.parquet", "decisions.csv", "actions.csv",
            "allocation_summary.csv")
CLOCK = ("recorded_at", "imported_at")  # when a row was written: the runs' clocks differ
SYNTH_CUSTOMERS = 60_000  # above model_choice.AUTO_SAMPLE: the sample is drawn from all codes


def cvm(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    from engine.distributed.cluster import LOCAL_HTTP

    # the engine's own cluster's HTTP server (not on 8787, which another cluster may hold)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, memory_limit="2GiB",
                                  scheduler_kwargs={"dashboard_address": LOCAL_HTTP}
                                  ) as cluster:
        yield str(cluster.scheduler_address)


def _same_run(project: Path, out: Path, address: str, *extra: str) -> None:
    one = cvm("run", "-p", str(project), "-o", str(out / "local"), "--no-history", "-q", *extra)
    assert one.exit_code == 0, one.output
    dask = cvm("run", "-p", str(project), "-o", str(out / "dask"), "--no-history", "-q",
               "--engine", "dask", "--scheduler", address, "--partitions", "3", *extra)
    assert dask.exit_code == 0, dask.output
    for name in COMPARED:
        assert (out / "dask" / name).read_bytes() == (out / "local" / name).read_bytes(), name
    assert len((out / "local" / "actions.csv").read_text().splitlines()) > 1
    local, dask = (json.loads((out / side / "manifest.json").read_text())
                   for side in ("local", "dask"))
    assert dask["value_model"] == local["value_model"]
    # which engine made the run: the only difference of the manifests besides the clock
    assert local.pop("engine") == {"name": "local"}
    assert dask.pop("engine") == {"name": "dask", "scheduler": address}
    assert {**dask, "created_at": "-"} == {**local, "created_at": "-"}


@pytest.mark.parametrize("example", ["retail", "cdnow", "subscription"])
def test_examples_are_identical_on_dask(example: str, scheduler: str, tmp_path: Path) -> None:
    """subscription: its contracts routed by customer and expanded into payments in their
    partition, the sBG fitted on every customer's payments gathered from the partitions."""
    project = ROOT if example == "retail" else ROOT / "examples" / example
    _same_run(project, tmp_path, scheduler)


def test_the_manifest_names_the_local_cluster_without_a_scheduler() -> None:
    from engine.distributed.job import manifest_engine

    assert manifest_engine(None) == {"name": "dask", "scheduler": "local cluster of 2 workers"}
    assert manifest_engine(" tcp://10.0.0.5:8786") == {"name": "dask",
                                                      "scheduler": "tcp://10.0.0.5:8786"}


@main_job_only("what dask and distributed print or hide, the same whatever pandas; the "
               "identity tests run in both jobs")
def test_a_dashboard_on_port_8787_is_no_warning(tmp_path: Path) -> None:
    """Another Dask dashboard on 8787: the local cluster's scheduler (no dashboard, its HTTP
    server on a free loopback port) printed distributed's "Port 8787 is already in use"
    UserWarning on stderr. In a process of its own: pytest would catch the warning."""
    import re
    import socket
    import subprocess

    with socket.socket() as taken:
        try:
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        except OSError:  # taken already (another cluster's dashboard): the case itself
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", 8787)) != 0:
                    pytest.skip("port 8787 can neither be bound nor reached here")
        got = subprocess.run(
            [sys.executable, "-m", "engine", "run", "-p", str(ROOT), "-o", str(tmp_path / "o"),
             "--no-history", "--engine", "dask"], capture_output=True, text=True, timeout=600,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert got.returncode == 0, got.stderr
    # stderr holds the progress lines and nothing else
    assert [line for line in got.stderr.splitlines()
            if not re.fullmatch(r"  \[ *\d+\.\d s\] .* \.\.\.", line)] == []
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["engine"] == {"name": "dask", "scheduler": "local cluster of 2 workers"}


CLOSING_LOG = '''
import logging
from distributed import WorkerPlugin
from engine.distributed.cluster import client_for

class LogsWhileClosing(WorkerPlugin):
    def teardown(self, worker):
        logging.getLogger("distributed.worker").error("a worker's error while closing")

if __name__ == "__main__":
    with client_for(None, quiet=False) as client:
        client.register_plugin(LogsWhileClosing())
    print("closed")
'''


@main_job_only("what dask and distributed print or hide, the same whatever pandas; the "
               "identity tests run in both jobs")
def test_what_a_worker_logs_while_the_cluster_closes_is_not_shown(tmp_path: Path) -> None:
    """A run that succeeded printed a worker's traceback on stderr, now and then: its heartbeat
    to a scheduler that had closed first ("Failed to communicate with scheduler during
    heartbeat"). Here a worker logs an error while it closes, every time: not shown."""
    import subprocess

    script = tmp_path / "closing.py"
    script.write_text(CLOSING_LOG)
    got = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert (got.returncode, got.stdout, got.stderr) == (0, "closed\n", "")


FAILED_RUN_LOGS = '''
import logging
from engine.distributed.cluster import client_for

seen = []
class Kept(logging.Handler):
    def emit(self, record):
        seen.append(record.getMessage().splitlines()[0] + " | " + record.getMessage()[-20:])

asyncio_log = logging.getLogger("asyncio")
asyncio_log.addHandler(Kept())
level = asyncio_log.level
if __name__ == "__main__":
    for attempt in (1, 2):  # the filter added once, however many runs fail
        try:
            with client_for(None, quiet=True):
                raise RuntimeError("the run failed")
        except RuntimeError:
            pass
    asyncio_log.error("Task exception was never retrieved\\nfuture: <Task finished "
                      "coro=<Client._gather() defined at /x/distributed/client.py:1>>")
    asyncio_log.error("Task exception was never retrieved\\nfuture: <Task finished "
                      "coro=<poll() defined at /srv/app/jobs.py:7>>")
    asyncio_log.warning("Executing <Task pending> took 0.2 seconds")
    print(asyncio_log.level == level, len(asyncio_log.filters))
    print("\\n".join(seen))
'''


@main_job_only("what dask and distributed print or hide, the same whatever pandas; the "
               "identity tests run in both jobs")
def test_a_failed_dask_run_hides_only_dask_s_own_never_retrieved_tasks(tmp_path: Path) -> None:
    """After a failed run, the client's gather stopped by Ctrl-C logs "Task exception was never
    retrieved" when it is collected: hidden. The asyncio logger was switched off for the rest
    of the process, a program's own tasks' errors with it; now only Dask's record is held
    back, and the logger's level is as it was."""
    import subprocess

    script = tmp_path / "failed.py"
    script.write_text(FAILED_RUN_LOGS)
    got = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines() == [
        "True 1",
        "Task exception was never retrieved | /srv/app/jobs.py:7>>",
        "Executing <Task pending> took 0.2 seconds | ng> took 0.2 seconds",
    ]


def _synthetic(tmp_path: Path) -> Path:
    sys.path.insert(0, str(ROOT / "examples" / "retail"))
    from synth import generate, write

    project = tmp_path / "synth"
    tx_file, _ = write(generate(SYNTH_CUSTOMERS, seed=11), project, fmt="parquet")
    for sub in ("rules", "policies", "templates"):
        shutil.copytree(ROOT / sub, project / sub)
    config = (ROOT / "cvm.yaml").read_text().replace("examples/retail/customers.csv",
                                                      "customers.parquet")
    (project / "cvm.yaml").write_text(config.replace("examples/retail/transactions.csv",
                                                     "transactions.parquet"))
    # the same rows as a dataset of three files, read in the order of their names
    table = pq.read_table(tx_file)
    folder = project / "dataset"
    folder.mkdir()
    third = table.num_rows // 3
    for i, (lo, hi) in enumerate([(0, third), (third, 2 * third), (2 * third, table.num_rows)]):
        pq.write_table(table.slice(lo, hi - lo), folder / f"part-{i}.parquet")
    (project / "dataset.yaml").write_text(config.replace(
        "examples/retail/customers.csv", "customers.parquet").replace(
        "examples/retail/transactions.csv", "dataset"))
    return project


def test_a_parquet_dataset_is_identical_to_one_file(scheduler: str, tmp_path: Path) -> None:
    project = _synthetic(tmp_path)
    one = cvm("run", "-p", str(project), "-o", str(tmp_path / "local"), "--no-history", "-q")
    assert one.exit_code == 0, one.output
    dask = cvm("run", "-p", str(project), "-c", str(project / "dataset.yaml"), "-o",
               str(tmp_path / "dask"), "--no-history", "-q", "--engine", "dask",
               "--scheduler", scheduler, "--partitions", "5")
    assert dask.exit_code == 0, dask.output
    for name in COMPARED:
        local, other = ((tmp_path / side / name).read_bytes() for side in ("local", "dask"))
        if name == "actions.csv":  # the run id hashes the inputs: here a folder, there a file
            local, other = (b"\n".join(line.partition(b",")[2] for line in text.split(b"\n"))
                            for text in (local, other))
        assert other == local, name


def test_an_empty_folder_is_said_as_one_process_says_it(scheduler: str, tmp_path: Path,
                                                        make_project: object) -> None:
    """A data engineer's trial: the Dask run's hint left out where the setting is."""
    project = make_project(files={"set/notes.md": "x"})  # type: ignore[operator]
    config = (project / "cvm.yaml").read_text().replace("transactions: tx.csv",
                                                         "transactions: set")
    (project / "cvm.yaml").write_text(config)
    one = cvm("score", "-p", str(project), "-o", str(tmp_path / "one"), "-q")
    dask = cvm("score", "-p", str(project), "-o", str(tmp_path / "dask"), "-q", "--engine",
               "dask", "--scheduler", scheduler)
    assert (dask.exit_code, dask.stderr) == (one.exit_code, one.stderr) == (1, (
        "error: set: the folder holds no data file\n  hint: check data.transactions at "
        "cvm.yaml:3:17: a Parquet dataset is a folder of .parquet files (CSV files work "
        "too)\n"))


def test_a_bad_row_is_reported_with_its_file_and_row(scheduler: str, tmp_path: Path,
                                                      make_project: object) -> None:
    project = make_project(files={"set/a.parquet": b"", "set/b.parquet": b""})  # type: ignore
    good = pa.table({"cust": ["a", "b"], "day": ["2024-01-05", "2024-03-10"],
                     "amount": [100.0, 50.0], "cost": [60.0, 30.0]})
    bad = pa.table({"cust": ["c", "d"], "day": ["2024-02-01", "2024-13-01"],
                    "amount": [10.0, 20.0], "cost": [6.0, 3.0]})
    pq.write_table(good, project / "set" / "a.parquet")
    pq.write_table(bad, project / "set" / "b.parquet")
    config = (project / "cvm.yaml").read_text().replace("transactions: tx.csv",
                                                         "transactions: set")
    (project / "cvm.yaml").write_text(config)
    got = cvm("score", "-p", str(project), "-o", str(tmp_path / "out"), "--engine", "dask",
              "--scheduler", scheduler)
    assert got.exit_code == 1, got.output
    assert "set/b.parquet: row 2, column 'day'" in got.output, got.output
    assert not (tmp_path / "out").exists()
    # a contract's end before its start: at the user's row, as one process says it
    contracts = tmp_path / "subscription"
    shutil.copytree(ROOT / "examples" / "subscription", contracts,
                    ignore=shutil.ignore_patterns("output"))
    rows = (contracts / "contracts.csv").read_text().splitlines()
    rows[5] = ",".join(v if i != 3 else "2020-01-01" for i, v in enumerate(rows[5].split(",")))
    (contracts / "contracts.csv").write_text("\n".join(rows) + "\n")
    said = "contracts.csv:6: row 5, column 'end_date': found the end 2020-01-01 before the start"
    for extra in ((), ("--engine", "dask", "--scheduler", scheduler)):
        got = cvm("score", "-p", str(contracts), "-o", str(tmp_path / "out"), *extra)
        assert got.exit_code == 1 and said in got.output, got.output


@pytest.mark.parametrize(("column", "value"), [
    ("cost", float("inf")), ("qty", "abc"), ("cust", "d\tx"), ("cust", "d" * 1001)],
    ids=["cost-inf", "quantity-text", "id-tab", "id-long"])
def test_a_bad_optional_number_or_id_is_said_at_the_user_s_row_as_one_process_says_it(
        scheduler: str, tmp_path: Path, make_project: object, column: str,
        value: object) -> None:
    """A new user's find: a quantity or cost that is not a number, under --engine dask, was
    said at a scratch file the run had deleted ('/tmp/cvm-dask-.../part-00002/rows.parquet:
    row 2332, column 'quantity''), where one process says the user's file, row and column."""
    project = make_project(files={"set/a.parquet": b"", "set/b.parquet": b""})  # type: ignore
    good = {"cust": ["a", "b"], "day": ["2024-01-05", "2024-03-10"], "amount": [100.0, 50.0],
            "cost": [60.0, 30.0], "qty": ["1", "2"]}
    bad = {"cust": ["c", "d"], "day": ["2024-02-01", "2024-03-01"], "amount": [10.0, 20.0],
           "cost": [6.0, 3.0], "qty": ["1", "1"]}
    bad[column] = [bad[column][0], value]  # type: ignore[list-item]
    if column == "cust":  # a bad date in the row before: the ids are checked first, as there
        bad["day"] = ["2024-13-01", "2024-03-01"]
    pq.write_table(pa.table(good), project / "set" / "a.parquet")
    pq.write_table(pa.table(bad), project / "set" / "b.parquet")
    config = (project / "cvm.yaml").read_text().replace("transactions: tx.csv",
                                                         "transactions: set")
    (project / "cvm.yaml").write_text(config.replace("    cost: cost\n",
                                                     "    cost: cost\n    quantity: qty\n"))
    said = []
    for extra in ((), ("--engine", "dask", "--scheduler", scheduler)):
        got = cvm("score", "-p", str(project), "-o", str(tmp_path / "out"), *extra)
        assert got.exit_code == 1, got.output
        said.append(got.output)
    assert f"set/b.parquet: row 2, column '{column}'" in said[0], said[0]
    assert said[1] == said[0]
    assert not (tmp_path / "out").exists()


def test_what_dask_does_not_run_is_refused_before_any_work(tmp_path: Path) -> None:
    database = tmp_path / "db"
    database.mkdir()
    (database / "cvm.yaml").write_text((ROOT / "cvm.yaml").read_text().replace(
        "transactions: examples/retail/transactions.csv",
        "transactions: {url: 'postgresql://cvm@127.0.0.1:1/shop', table: sales}").replace(
        "examples/", f"{ROOT}/examples/"))
    for sub in ("rules", "policies", "templates"):
        shutil.copytree(ROOT / sub, database / sub)
    db = cvm("score", "-p", str(database), "-o", str(tmp_path / "d"), "--engine", "dask")
    assert db.exit_code == 2, db.output
    # (a trial: "cvm.yaml: data.transactions (cvm.yaml:5:17): ...", the file said twice)
    assert "error: cvm.yaml:5:17: data.transactions: the Dask engine reads files (a file or " \
        "a folder of files), not a database\n  hint: run this project without --engine dask" \
        in db.output
    local = cvm("run", "-o", str(tmp_path / "c"), "--scheduler", "tcp://localhost:1")
    assert local.exit_code == 2
    assert "error: --engine: --scheduler, --partitions and --scratch are options of the Dask " \
        "engine\n  hint: add --engine dask" in local.output
    assert not any((tmp_path / name).exists() for name in "abcd")


def test_cvm_score_takes_the_engine_too(scheduler: str, tmp_path: Path) -> None:
    for side, extra in (("local", ()), ("dask", ("--engine", "dask", "--scheduler", scheduler))):
        got = cvm("score", "-o", str(tmp_path / side), "-q", *extra)
        assert got.exit_code == 0, got.output
    for name in ("customers.csv", "customers.parquet"):
        assert (tmp_path / "dask" / name).read_bytes() == \
            (tmp_path / "local" / name).read_bytes(), name


def test_cvm_plan_takes_the_engine_too(scheduler: str, tmp_path: Path) -> None:
    proposed = tmp_path / "proposed" / "policies"
    shutil.copytree(ROOT / "policies", proposed)
    win_back = proposed / "win_back.yaml"
    win_back.write_text(win_back.read_text().replace("clv_discounted: {gte: 25}",
                                                     "clv_discounted: {gte: 5}"))
    for side, extra in (("local", ()), ("dask", ("--engine", "dask", "--scheduler", scheduler))):
        got = cvm("plan", "--proposed", str(tmp_path / "proposed"), "--changes",
                  str(tmp_path / f"{side}.csv"), "-q", *extra)
        assert got.exit_code == 0, got.output
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert len((tmp_path / "local.csv").read_text().splitlines()) > 1


def _history_rows(database: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of a SQLite history, the clock's columns left out."""
    with sqlite3.connect(database) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        out = {}
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
            names = [d[0] for d in cursor.description]
            keep = [i for i, n in enumerate(names) if n not in CLOCK]
            out[table] = [tuple(row[i] for i in keep) for row in cursor]
    return out


def test_a_run_and_a_plan_with_the_history_are_identical_on_dask(scheduler: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A run, responses imported, and the second run from the same history in one process and
    on Dask: it learns from the first, its contact policies count the first's contacts and
    the conversions imported, and its value-change attributes compare with the first. Then
    ``cvm plan`` on that history, learning from it, on both engines."""
    project = retail_copy(tmp_path)
    start = tmp_path / "start.sqlite"
    monkeypatch.setenv("CVM_HISTORY_URL", str(start))
    config = set_as_of(project, "2025-12-01")
    first = pd.read_csv(history_run(project, tmp_path / "run1") / "actions.csv",
                        dtype={"customer_id": str})
    contacted = first[first["status"] == "allocated"].head(30)
    outcomes = ["converted"] * 20 + ["complained"] * 10
    (tmp_path / "responses.csv").write_text("customer_id,campaign,date,outcome\n" + "".join(
        f"{c},{k},2025-12-24,{o}\n" for c, k, o in zip(
            contacted["customer_id"], contacted["campaign"], outcomes, strict=True)))
    imported = cvm("responses", "import", str(tmp_path / "responses.csv"), "-p", str(project))
    assert imported.exit_code == 0, imported.output
    set_as_of(project, None, config)  # the day after the last row: 2026-01-01
    for side, extra in (("local", ()), ("dask", ("--engine", "dask", "--scheduler", scheduler,
                                                 "--partitions", "3"))):
        shutil.copy(start, tmp_path / f"{side}.sqlite")
        monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / f"{side}.sqlite"))
        history_run(project, tmp_path / side, *extra)
    for name in COMPARED:
        assert (tmp_path / "dask" / name).read_bytes() == \
            (tmp_path / "local" / name).read_bytes(), name
    local, dask = (json.loads((tmp_path / side / "manifest.json").read_text())
                   for side in ("local", "dask"))
    for key in ("learning", "contact_policies", "counts", "inputs", "run_id"):
        assert dask[key] == local[key], key
    assert _history_rows(tmp_path / "dask.sqlite") == _history_rows(tmp_path / "local.sqlite")
    # what the history changed is in the outputs compared
    assert local["learning"]["runs_counted"] == 1
    second = pd.read_csv(tmp_path / "local" / "actions.csv", dtype={"customer_id": str})
    assert (second["status"] == "suppressed").any()
    table = pd.read_csv(tmp_path / "local" / "customers.csv", dtype={"customer_id": str})
    assert table["previous_tier"].notna().sum() > 1000
    # cvm plan learns from the same history on both engines
    monkeypatch.setenv("CVM_HISTORY_URL", str(start))
    proposed = tmp_path / "proposed" / "policies"
    shutil.copytree(project / "policies", proposed)
    win_back = proposed / "win_back.yaml"
    win_back.write_text(win_back.read_text().replace("clv_discounted: {gte: 25}",
                                                     "clv_discounted: {gte: 5}"))
    for side, extra in (("local", ()), ("dask", ("--engine", "dask", "--scheduler", scheduler,
                                                 "--partitions", "3"))):
        got = cvm("plan", "-p", str(project), "--proposed", str(tmp_path / "proposed"),
                  "--report", str(tmp_path / f"{side}.md"), "--changes",
                  str(tmp_path / f"{side}-changes.csv"), "-q", *extra)
        assert got.exit_code == 0, got.output
    for name in ("{}.md", "{}-changes.csv"):
        assert (tmp_path / name.format("dask")).read_bytes() == \
            (tmp_path / name.format("local")).read_bytes(), name
    assert "| win_back | incremental from " in (tmp_path / "local.md").read_text()  # learnt
def test_a_dataset_on_object_storage_is_read_by_the_workers(
        scheduler: str, s3_server: S3, tmp_path: Path, shared_commands: SharedCommands) -> None:
    """The example's rows as two CSV objects under a prefix of a (real, local) S3 server:
    each worker reads its own files from the store, and the value table is the one of the
    local file (the run after scoring is the engine's own: the tests above)."""
    bucket = s3_server.bucket("dask-dataset", acl="public-read")
    lines = (ROOT / "examples" / "retail" / "transactions.csv").read_bytes().splitlines(True)
    half = len(lines) // 2
    for i, rows in enumerate((lines[1:half], lines[half:])):
        s3_server.upload(bucket, f"exports/part-{i}.csv", b"".join([lines[0], *rows]),
                         acl="public-read")
    project = tmp_path / "p"
    for sub in ("rules", "policies", "templates"):
        shutil.copytree(ROOT / sub, project / sub)
    # a public bucket (anon): the workers, started before this test, have no credentials
    (project / "cvm.yaml").write_text((ROOT / "cvm.yaml").read_text().replace(
        "transactions: examples/retail/transactions.csv",
        f"transactions: s3://{bucket}/exports/\n  storage_options:\n"
        f"    endpoint_url: {s3_server.endpoint}\n    anon: true").replace(
        "examples/", f"{ROOT}/examples/"))
    local = shared_commands.score_json(ROOT)  # `cvm score` of the example, once a session
    assert local.exit_code == 0, local.stderr
    dask = cvm("score", "-p", str(project), "-o", str(tmp_path / "dask"), "-q",
               "--engine", "dask", "--scheduler", scheduler, "--partitions", "3")
    assert dask.exit_code == 0, dask.output
    for name in ("customers.csv", "customers.parquet"):
        assert (tmp_path / "dask" / name).read_bytes() == (local.out / name).read_bytes(), name


def test_the_as_of_note_of_contracts_is_the_same_on_dask(scheduler: str, tmp_path: Path) -> None:
    """subscription without as_of: the note on the contracts running at the default as-of
    date (their count and latest end) is made from every partition's contracts."""
    project = tmp_path / "subs"
    shutil.copytree(ROOT / "examples" / "subscription", project,
                    ignore=shutil.ignore_patterns("output"))
    config = (project / "cvm.yaml").read_text()
    assert "as_of: 2026-01-01\n" in config
    (project / "cvm.yaml").write_text(config.replace("as_of: 2026-01-01\n", ""))
    notes = []
    for extra in ((), ("--engine", "dask", "--scheduler", scheduler, "--partitions", "3")):
        got = cvm("score", "-p", str(project), "-o", str(tmp_path / f"o{len(extra)}"), *extra)
        assert got.exit_code == 0, got.output
        notes.append([line for line in got.output.splitlines() if "contracts end on" in line])
    assert notes[0] == notes[1] and len(notes[0]) == 1, notes


def test_a_folders_files_that_are_not_data_are_said(scheduler: str, make_project: object,
                                                    tmp_path: Path) -> None:
    from tests.conftest import BASE_CONFIG, BASE_TX
    project = make_project(  # type: ignore[operator]
        files={"set/part-0.csv": BASE_TX, "set/part-1.csv.gz": b"\x1f\x8b"},
        config=BASE_CONFIG.replace("transactions: tx.csv", "transactions: set"))
    got = cvm("score", "-p", str(project), "-o", str(tmp_path / "o"), "--engine", "dask",
              "--scheduler", scheduler, "--partitions", "2")
    assert got.exit_code == 0, got.output
    assert "  note: 1 file skipped (suffix not .parquet, .pq, .csv, .txt or .tsv): " \
        "part-1.csv.gz\n" in got.output, got.output


def test_a_folder_mixing_csv_and_parquet_files_is_refused_on_both_engines(
        scheduler: str, tmp_path: Path, make_project: object) -> None:
    # a new user's trial: on Dask an internal error (exit 4) with the workers' tracebacks
    project = make_project(files={"set/a.parquet": b"", "set/b.csv": b""})  # type: ignore
    pq.write_table(pa.table({"cust": ["a", "b"], "day": pa.array(
        [dt.date(2024, 1, 5), dt.date(2024, 3, 10)]), "amount": [100.0, 50.0],
        "cost": [60.0, 30.0]}), project / "set" / "a.parquet")
    (project / "set" / "b.csv").write_text("cust,day,amount,cost\nc,2024-02-01,10,6\n")
    config = (project / "cvm.yaml").read_text().replace("transactions: tx.csv",
                                                         "transactions: set")
    (project / "cvm.yaml").write_text(config)
    hint = ("  hint: write every file of the folder with the same columns and types (a folder "
            "of Parquet files, or one of CSV files: CSV files hold text)\n")
    # (a trial: on Dask, "in one file and as text in another", the files not named)
    for extra in ((), ("--engine", "dask", "--scheduler", scheduler)):
        where = "as dates in a.parquet and as text in b.csv"
        got = cvm("score", "-p", str(project), "-o", str(tmp_path / "out"), *extra)
        assert (got.exit_code, got.stderr) == (
            1, f"error: set: the files of the folder hold column 'day' {where}\n{hint}")
        assert not (tmp_path / "out").exists()


def test_a_folders_file_without_any_mapped_column_is_said_once_on_dask(
        scheduler: str, make_project: object, tmp_path: Path) -> None:
    from tests.conftest import BASE_CONFIG, BASE_TX
    project = make_project(  # type: ignore[operator]
        files={"set/part-0.csv": BASE_TX, "set/notes.txt": "Nightly export.\n"},
        config=BASE_CONFIG.replace("transactions: tx.csv", "transactions: set"))
    got = cvm("score", "-p", str(project), "-o", str(tmp_path / "o"), "--engine", "dask",
              "--scheduler", scheduler, "--partitions", "2")
    assert (got.exit_code, got.stderr) == (1, (
        "error: set/notes.txt:1: header: none of the mapped columns is in this file of the "
        "folder; columns present: 'Nightly export.'\n  hint: a file that is not data (notes, a "
        "README) is read because its name ends in .txt: move it out of the folder, or rename it "
        "(.md is not read); else fix the column names under data.columns in cvm.yaml\n"))


def test_one_process_reads_a_parquet_prefix_as_dask_does(scheduler: str, s3_server: S3,
                                                         tmp_path: Path) -> None:
    """A prefix of Parquet objects (with a note and a writer's marker beside them): one
    process reads it as the Dask workers do, the same outputs byte for byte (the run id too:
    the same objects' hashes). The local folder's identity: tests/test_object_store_prefix."""
    from tests.test_object_store_prefix import retail_parts

    bucket = s3_server.bucket("dask-parquet-prefix", acl="public-read")
    for i, part in enumerate(retail_parts(3)):
        pq.write_table(part, tmp_path / f"part-{i}.parquet")
        s3_server.upload(bucket, f"ds/part-{i}.parquet", tmp_path / f"part-{i}.parquet",
                         acl="public-read")
    s3_server.upload(bucket, "ds/README.md", b"what these files are\n", acl="public-read")
    s3_server.upload(bucket, "ds/_SUCCESS", b"", acl="public-read")
    project = tmp_path / "p"
    for sub in ("rules", "policies", "templates"):
        shutil.copytree(ROOT / sub, project / sub)
    # a public bucket (anon): the workers, started before this test, have no credentials
    (project / "cvm.yaml").write_text((ROOT / "cvm.yaml").read_text().replace(
        "transactions: examples/retail/transactions.csv",
        f"transactions: s3://{bucket}/ds/\n  storage_options:\n"
        f"    endpoint_url: {s3_server.endpoint}\n    anon: true").replace(
        "examples/", f"{ROOT}/examples/"))
    _same_run(project, tmp_path / "out", scheduler)


def test_an_as_of_after_the_export_gives_the_same_holdout_on_dask(scheduler: str,
                                                                  tmp_path: Path) -> None:
    """models.use: auto's holdout ends with the export's last day on both engines (tests/
    test_holdout_ends_with_data.py), so their choice and their value tables agree."""
    from tests.conftest import copy_example_project

    project = copy_example_project(tmp_path)
    config = (project / "cvm.yaml").read_text()
    (project / "cvm.yaml").write_text(config.replace("as_of: null ", "as_of: 2026-04-01"))
    _same_run(project, tmp_path / "out", scheduler)
    said = json.loads((tmp_path / "out" / "local" / "manifest.json").read_text())
    assert "[holdout 2025-01-06 .. 2025-12-31, 360 days]" in said["value_model"]["description"]


def test_ids_read_without_their_spaces_are_said_on_dask_as_in_one_process(
        scheduler: str, tmp_path: Path) -> None:
    """The reviewer's find: on Dask each file's ids were trimmed without the note one process
    gives; the routed files' counts are added up, the first (in file order) named."""
    from tests.conftest import copy_example_project

    project = copy_example_project(tmp_path)
    lines = (ROOT / "examples/retail/transactions.csv").read_text().splitlines(keepends=True)
    folder = tmp_path / "tx"
    folder.mkdir()
    first, second = lines[:1000], [lines[0], *lines[1000:]]
    def spaced(line: str, pad: str) -> str:  # the customer id (second field) padded
        fields = line.split(",")
        return ",".join([fields[0], pad.replace("ID", fields[1]), *fields[2:]])

    first[3], second[5] = spaced(first[3], " ID"), spaced(second[5], "ID ")
    (folder / "a.csv").write_text("".join(first))
    (folder / "b.csv").write_text("".join(second))
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(
        f"{ROOT}/examples/retail/transactions.csv", str(folder)))
    said = [cvm("score", "-p", str(project), "-o", str(tmp_path / name), *extra)
            for name, extra in (("one", ()), ("dask", ("--engine", "dask", "--scheduler",
                                                      scheduler)))]
    for result in said:
        assert result.exit_code == 0, result.output
    notes = [[line for line in r.stdout.splitlines() if "surrounding spaces" in line]
             for r in said]
    assert notes[0] == notes[1] == [
        f"  note: 2 rows with a 'CustomerID' with surrounding spaces (first "
        f"{first[3].split(',')[1]!r} at {folder / 'a.csv'}:4): read without them, as "
        f"{first[3].split(',')[1].strip()!r}"]


def test_a_partition_without_a_purchase_is_scored_as_one_process_scores_it(
        scheduler: str, make_project: object, tmp_path: Path) -> None:
    """A partition whose customers have no purchase before the as-of date (here one with only
    a refund, one with only a row after the as-of date, each alone in its partition) failed
    the run with "no purchase to score" (or "every transaction is dated on or after the as-of
    date"), naming the partition's scratch file; one process leaves them out and says so."""
    from engine.distributed.route import partition_of
    from tests.conftest import BASE_TX

    taken = {int(k) for k in partition_of(pa.array(["a", "b", "c"]), 8)}
    alone = []
    for name in (f"r{i}" for i in range(100)):
        k = int(partition_of(pa.array([name]), 8)[0])
        if k not in taken:
            alone.append(name)
            taken.add(k)
    refund, later = alone[:2]
    project = make_project(tx=BASE_TX + f"{refund},2024-04-01,-25.00,-10.00\n"  # type: ignore
                           f"{later},2024-08-01,60.00,30.00\n")
    said = [cvm("score", "-p", str(project), "-o", str(tmp_path / name), *extra)
            for name, extra in (("one", ()), ("dask", ("--engine", "dask", "--scheduler",
                                                      scheduler, "--partitions", "8")))]
    for result in said:
        assert result.exit_code == 0, result.output
    assert said[1].stdout.replace("dask/", "one/") == said[0].stdout
    assert "  left out 2 customers with no purchase left (only refund rows, or every purchase " \
        "row skipped above); their 1 refund row (EUR 25.00) is in no customer's revenue\n" \
        in said[0].stdout
    for name in ("customers.csv", "customers.parquet"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()


def test_partitions_coding_their_ids_as_text_and_large_text_are_put_together(
        scheduler: str, make_project: object, tmp_path: Path) -> None:
    """A new user's Parquet file written by pandas 3 (text columns as large_string), its ids a
    UUID among short ones: a partition's ids came out as large text, another's as text, and
    the merge failed with "internal error: ArrowInvalid: arrays to be concatenated must be
    identically typed"."""
    rows = [("A1", "2024-01-05", 100.0, 60.0), ("A1", "2024-03-10", 50.0, 30.0),
            ("B 2", "2024-02-01", 200.0, 150.0),
            ("0f8fad5b-d9cb-469f-a165-70867728950e", "2024-05-15", 30.0, 20.0),
            ("0f8fad5b-d9cb-469f-a165-70867728950e", "2024-06-02", 40.0, 25.0),
            ("C3", "2024-06-20", 80.0, 40.0), ("D4", "2024-04-20", 80.0, 40.0)]
    from tests.conftest import BASE_CONFIG

    project = make_project(config=BASE_CONFIG.replace("tx.csv", "tx.parquet"),  # type: ignore
                           tx=None)
    pq.write_table(pa.table({
        "cust": pa.array([r[0] for r in rows], pa.large_string()),
        "day": pa.array([r[1] for r in rows], pa.large_string()),
        "amount": [r[2] for r in rows], "cost": [r[3] for r in rows]}), project / "tx.parquet")
    said = [cvm("score", "-p", str(project), "-o", str(tmp_path / name), *extra)
            for name, extra in (("one", ()), ("dask", ("--engine", "dask", "--scheduler",
                                                      scheduler, "--partitions", "3")))]
    for result in said:
        assert result.exit_code == 0, result.output
    for name in ("customers.csv", "customers.parquet"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()


def test_written_numbers_are_read_as_one_process_reads_them(scheduler: str,
                                                            tmp_path: Path) -> None:
    """data.decimal: ',', data.thousands and data.currency_sign (1.234,50 €) reach the
    workers' reading of the rows (engine.distributed.route)."""
    from tests.test_written_numbers import project

    folder = project(tmp_path / "p", "de")
    assert ',' in (folder / "cvm.yaml").read_text().partition("decimal: ")[2][:3]
    _same_run(folder, tmp_path / "out", scheduler)


def test_rows_of_separators_at_the_end_are_skipped_as_one_process_skips_them(
        scheduler: str, tmp_path: Path) -> None:
    """The workers read each file without its rows of separators only at the end, and the
    summary counts them in the same words (engine/data/empty_tail.py)."""
    from tests.test_empty_tail import TAIL, project

    folder = project(tmp_path / "p")
    with (folder / "tx.csv").open("a") as fh:
        fh.write(TAIL)
    _same_run(folder, tmp_path / "out", scheduler)
    said = cvm("score", "-p", str(folder), "-o", str(tmp_path / "s"), "--engine", "dask",
               "--scheduler", scheduler)
    assert said.exit_code == 0, said.output
    assert ("  note: 3 empty rows at the end of tx.csv (separators only, as a spreadsheet's "
            "export adds them) not read\n") in said.output, said.output


def test_a_folder_s_files_without_rows_are_skipped_as_one_process_skips_them(
        scheduler: str, make_project: object, tmp_path: Path) -> None:
    from tests.conftest import BASE_CONFIG, BASE_TX
    lines = BASE_TX.splitlines(keepends=True)
    project = make_project(  # type: ignore[operator]
        files={"set/a.csv": "".join(lines[:3]), "set/b.csv": lines[0], "set/c.csv": "",
               "set/d.csv": lines[0] + "".join(lines[3:])},
        config=BASE_CONFIG.replace("transactions: tx.csv", "transactions: set"))
    note = "  note: 2 files without rows skipped (empty, or a header alone): b.csv, c.csv\n"
    outs = []
    for side, extra in (("local", ()), ("dask", ("--engine", "dask", "--scheduler", scheduler,
                                                 "--partitions", "2"))):
        got = cvm("score", "-p", str(project), "-o", str(tmp_path / side), *extra)
        assert got.exit_code == 0 and note in got.output, got.output
        outs.append((tmp_path / side / "customers.csv").read_bytes())
    assert outs[0] == outs[1] and outs[0].count(b"\n") == 4
    for name in ("a.csv", "d.csv"):
        (project / "set" / name).write_text(lines[0])
    got = cvm("score", "-p", str(project), "-o", str(tmp_path / "none"), "-q", "--engine",
              "dask", "--scheduler", scheduler)
    assert (got.exit_code, got.stderr) == (1, (
        "error: set: every data file of the folder is without rows: a.csv, b.csv, c.csv, ...\n"
        "  hint: check data.transactions at cvm.yaml:3:17, or whether the export stopped "
        "early or wrote its rows to another file\n"))


def test_a_row_dated_after_today_is_named_as_one_process_names_it(
        scheduler: str, tmp_path: Path) -> None:
    """The warning that the default as-of date is after today names the row (a new user's
    trial: it named cvm.yaml alone); on Dask each worker finds its file's, as one process."""
    from tests.conftest import copy_example_project

    project = copy_example_project(tmp_path)
    rows = (ROOT / "examples/retail/transactions.csv").read_text().splitlines(keepends=True)
    rows[8999] = rows[8999].replace(rows[8999].split(",")[2], "2099-12-01")
    (project / "tx.csv").write_text("".join(rows))
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(f"{ROOT}/examples/retail/transactions.csv",
                                                 str(project / "tx.csv")))
    hints = []
    for extra in ((), ("--engine", "dask", "--scheduler", scheduler)):
        got = cvm("score", "-p", str(project), "-o", str(tmp_path / "out"), *extra)
        assert got.exit_code == 1
        hints.append([x for x in got.stderr.splitlines() if "dated after today" in x])
    assert hints[0] == hints[1] == [
        "  hint: check the row dated after today, at tx.csv:9000 (a year mistyped?) and "
        "data.date_format (a day and a month swapped?); as_of: in cvm.yaml sets the date"]
