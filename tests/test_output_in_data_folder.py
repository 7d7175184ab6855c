"""An output folder inside the transactions folder (a Parquet dataset) is refused: the next
run would read the run's own files as transactions, and the run id hashed them as inputs
(review of 859fef9, F6)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from engine.errors import EXIT_OUTPUT
from tests.history_runs import cvm, retail_copy


def _dataset_project(tmp_path: Path) -> Path:
    project = retail_copy(tmp_path)
    data = project / "examples" / "retail"
    (data / "tx").mkdir()
    pq.write_table(pacsv.read_csv(data / "transactions.csv"), data / "tx" / "part-0.parquet")
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace("examples/retail/transactions.csv",
                                                 "examples/retail/tx"))
    return project


def test_an_output_folder_inside_the_transactions_folder_is_refused(tmp_path: Path) -> None:
    project = _dataset_project(tmp_path)
    out = project / "examples" / "retail" / "tx" / "out"
    done = cvm("run", "--project", str(project), "--out", str(out), "-q", "--no-history")
    assert done.exit_code == EXIT_OUTPUT, done.stderr
    assert done.stderr.splitlines()[0] == (
        "error: --out: refused as the output folder: examples/retail/tx/out is inside "
        "examples/retail/tx/, an input folder of the project")
    assert not out.exists()
    beside = project / "examples" / "retail" / "out"  # beside it: fine
    done = cvm("run", "--project", str(project), "--out", str(beside), "-q", "--no-history")
    assert done.exit_code == 0, done.stderr


def test_the_run_id_hashes_the_files_read_of_a_dataset_not_the_notes_beside_them(
        tmp_path: Path) -> None:
    import json

    project = _dataset_project(tmp_path)

    def run_id(name: str) -> tuple[str, list[str]]:
        out = tmp_path / name
        done = cvm("run", "--project", str(project), "--out", str(out), "-q", "--no-history")
        assert done.exit_code == 0, done.stderr
        manifest = json.loads((out / "manifest.json").read_text())
        return manifest["run_id"], sorted(manifest["inputs"])

    first, inputs = run_id("a")
    assert "examples/retail/tx/part-0.parquet" in inputs
    tx = project / "examples" / "retail" / "tx"
    (tx / "README.md").write_text("exported on Monday\n")
    (tx / ".hidden").write_text("x")
    assert run_id("b") == (first, inputs)
