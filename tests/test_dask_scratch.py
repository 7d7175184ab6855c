"""`--scratch`, where the Dask engine's rows wait between its two passes: never inside a folder
the project reads whole, and left empty by a command stopped half-way. A data engineer's
trial: a scratch folder inside the transactions folder was taken, and a run stopped there
(SIGTERM, or kill -9) left its rows for the next run to read as transactions (every revenue
doubled, said nowhere); SIGTERM's clean-up ran while the workers were still writing."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.history_runs import retail_copy

distributed = importlib.import_module("distributed") if os.environ.get("CI") == "1" \
    else pytest.importorskip("distributed")


def _dataset(tmp_path: Path) -> Path:
    """The retail copy with its transactions as a folder of two Parquet files."""
    project = retail_copy(tmp_path)
    data = project / "examples" / "retail"
    rows = pd.read_csv(data / "transactions.csv", dtype=str)
    (data / "tx").mkdir()
    half = len(rows) // 2
    rows.iloc[:half].to_parquet(data / "tx" / "a.parquet", index=False)
    rows.iloc[half:].to_parquet(data / "tx" / "b.parquet", index=False)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace("examples/retail/transactions.csv",
                                                  "examples/retail/tx"))
    return project


@pytest.mark.parametrize("inside", ["examples/retail/tx", "examples/retail/tx/scratch",
                                    "policies/scratch"])
def test_a_scratch_folder_inside_a_folder_read_whole_is_refused(tmp_path: Path,
                                                                inside: str) -> None:
    project = _dataset(tmp_path)
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    res = CliRunner().invoke(app, ["score", "-p", str(project), "--engine", "dask",
                                   "--scratch", str(project / inside), "-o",
                                   str(tmp_path / "out")])
    assert res.exit_code == 3, res.output
    folder = inside.split("/scratch")[0]
    assert res.stderr == (
        f"error: --scratch: refused as the scratch folder: {inside} is inside "
        f"{folder}, which is read whole: the rows the Dask engine writes there would be read "
        "as input\n  hint: give --scratch a folder outside the project's inputs, or leave it "
        "out for a temporary folder\n")
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before
    assert not (tmp_path / "out").exists()


def test_the_scratch_rows_are_removed_once_the_workers_are_stopped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A command stopped while the workers write (a local cluster's are stopped when its
    client closes): the scratch folder is removed after that, not before."""
    from engine.distributed import job

    project = _dataset(tmp_path)
    scratch = tmp_path / "scratch"
    seen: list[Path] = []

    class Stopped(Exception):
        pass

    class Client:
        def scheduler_info(self) -> dict[str, Any]:
            return {"workers": {"w1": {}, "w2": {}}}

        def gather(self, futures: Any) -> Any:
            return futures

        def map(self, *args: Any, **_: Any) -> Any:
            work = Path(args[5][0])  # route_file's scratch argument
            seen.append(work)
            (work / "part-00000").mkdir()
            (work / "part-00000" / "in-000000.parquet").write_bytes(b"rows")
            raise Stopped  # SIGTERM, as the command takes it

    @contextmanager
    def client_for(_: str | None) -> Iterator[Client]:
        try:
            yield Client()
        finally:  # a worker still writing until the cluster is closed
            (seen[0] / "part-00001").mkdir(parents=True)
            (seen[0] / "part-00001" / "in-000001.parquet").write_bytes(b"rows")

    monkeypatch.setattr(job, "client_for", client_for)
    from engine.run.build import load_project

    with pytest.raises(Stopped):
        job.scored_on_dask(load_project(project), scratch=scratch)
    assert seen and seen[0].parent == scratch
    assert list(scratch.iterdir()) == []


def test_a_worker_that_cannot_reach_the_scratch_folder_says_so(tmp_path: Path) -> None:
    """A review: on a cluster of other machines the default scratch folder (the command's
    machine's temporary folder) is not there for a worker: an internal error
    (FileNotFoundError), where it once made the folder on the worker's own disk and the
    partitions read elsewhere lost their customers."""
    import socket

    from engine.distributed.route import input_files, route_file
    from engine.errors import InputError
    from engine.project.config import load_config

    config = load_config(retail_copy(tmp_path))
    (file, _), *_ = input_files(config)[0]
    gone = tmp_path / "elsewhere" / "cvm-dask-x"
    with pytest.raises(InputError) as caught:
        route_file(config, 0, file, gone, 2)
    assert caught.value.problems[0].format() == (
        f"--scratch: the scratch folder {gone} is not there for this worker (on "
        f"{socket.gethostname()})\n  hint: give --scratch a folder every worker can read and "
        "write, mounted at the same path (the default, a temporary folder of the command's "
        "machine, is its own)")
    assert not gone.exists()


def test_a_scratch_folder_reaching_the_data_by_another_path_is_refused(
        tmp_path: Path) -> None:
    """A data engineer's re-trial: the transactions folder bind-mounted at another path was
    taken as --scratch (the paths differ; the folder is the same)."""
    import subprocess

    project = _dataset(tmp_path)
    alias = tmp_path / "alias"
    alias.mkdir()
    data = project / "examples" / "retail" / "tx"
    if subprocess.run(["mount", "--bind", str(data), str(alias)],
                      capture_output=True).returncode != 0:
        pytest.skip("mount --bind is not permitted here")
    try:
        res = CliRunner().invoke(app, ["score", "-p", str(project), "--engine", "dask",
                                       "--scratch", str(alias / "s"), "-o",
                                       str(tmp_path / "out")])
        assert res.exit_code == 3, res.output
        assert res.stderr.startswith(f"error: --scratch: refused as the scratch folder: "
                                     f"{alias / 's'} is inside examples/retail/tx, which is "
                                     "read whole"), res.stderr
    finally:
        subprocess.run(["umount", str(alias)], check=True)
