"""A folder's files without rows (nothing, a header alone, a Parquet schema alone), as a job
writing one file per partition leaves for an empty partition, are skipped and counted: they
stopped every command (`the file has a header but no data rows`), though they hold nothing to
lose. A folder whose every file is without rows is still refused, by validate as by run."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import BASE_CONFIG, BASE_TX, ROOT, copy_example_project

runner = CliRunner()
NOTE = ("  note: 2 files without rows skipped (empty, or a header alone): b.csv, c.csv\n")


def _retail(tmp_path: Path, name: str, files: dict[str, str] | None) -> Path:
    """The retail example, its transactions in one file (``files`` None) or a folder."""
    (tmp_path / name).mkdir()
    project = copy_example_project(tmp_path / name)
    if files is not None:
        folder = tmp_path / name / "tx"
        folder.mkdir()
        for file, text in files.items():
            (folder / file).write_text(text)
        config = project / "cvm.yaml"
        config.write_text(config.read_text().replace(
            f"{ROOT}/examples/retail/transactions.csv", str(folder)))
    return project


def _split() -> dict[str, str]:
    lines = (ROOT / "examples/retail/transactions.csv").read_text().splitlines(keepends=True)
    half = len(lines) // 2
    return {"a.csv": "".join(lines[:half]), "b.csv": lines[0], "c.csv": "",
            "d.csv": lines[0] + "".join(lines[half:])}


def test_a_folder_s_files_without_rows_are_skipped_and_counted(tmp_path: Path) -> None:
    file, folder = _retail(tmp_path, "file", None), _retail(tmp_path, "folder", _split())
    got = runner.invoke(app, ["validate", "-p", str(folder)])
    assert got.exit_code == 0, got.output
    outs = []
    for project in (file, folder):
        got = runner.invoke(app, ["score", "-p", str(project), "-o", str(project / "out")])
        assert got.exit_code == 0, got.output
        outs.append((project / "out" / "customers.csv").read_bytes())
        assert (NOTE in got.output) == (project == folder), got.output
    assert outs[0] == outs[1]


def test_a_parquet_file_of_a_schema_alone_is_skipped(make_project) -> None:
    rows = [line.split(",") for line in BASE_TX.splitlines()]
    table = pa.table({name: [r[i] for r in rows[1:]] for i, name in enumerate(rows[0])})
    project = make_project(BASE_CONFIG.replace("transactions: tx.csv", "transactions: set"),
                           tx=None)
    (project / "set").mkdir()
    pq.write_table(table.slice(0, 3), project / "set" / "part-0.parquet")
    pq.write_table(table.slice(0, 0), project / "set" / "part-1.parquet")
    pq.write_table(table.slice(3), project / "set" / "part-2.parquet")
    got = runner.invoke(app, ["score", "-p", str(project), "-o", str(project / "out")])
    assert got.exit_code == 0, got.output
    assert "  note: 1 file without rows skipped (empty, or a header alone): part-1.parquet\n" \
        in got.output
    assert "3 customers" in got.output, got.output


def test_a_folder_of_files_without_rows_is_refused(make_project) -> None:
    header = BASE_TX.splitlines()[0] + "\n"
    project = make_project(BASE_CONFIG.replace("transactions: tx.csv", "transactions: set"),
                           tx=None, files={"set/a.csv": header, "set/b.csv": ""})
    said = ("error: set: every data file of the folder is without rows: a.csv, b.csv\n"
            "  hint: check data.transactions at cvm.yaml:3:17, or whether the export stopped "
            "early or wrote its rows to another file\n")
    got = runner.invoke(app, ["validate", "-p", str(project)])
    assert got.exit_code == 1 and said in got.output, got.output  # (a project of data alone)
    got = runner.invoke(app, ["score", "-p", str(project), "-o", str(project / "out"), "-q"])
    assert (got.exit_code, got.stderr) == (1, said)
    assert not (project / "out").exists()
