"""A customer id with surrounding spaces in the transactions is read without them (the same
customer as the id written without), and the run and score say how many rows were read so
(a new user's export had '000167 ' beside '000167': merged without a word)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project

runner = CliRunner()


def test_ids_with_surrounding_spaces_are_counted_where_they_are_read(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    data = tmp_path / "transactions.csv"
    lines = (ROOT / "examples/retail/transactions.csv").read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace(",C000003,", ", C000003 ,")
    lines[9] = lines[9].replace(",C000007,", ",C000007 ,")
    data.write_text("".join(lines))
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(
        f"{ROOT}/examples/retail/transactions.csv", str(data)))
    note = ("  note: 2 rows with a 'CustomerID' with surrounding spaces (first ' C000003 ' at "
            f"{data}:4): read without them, as 'C000003'\n")
    for command in (["run", "--out", str(tmp_path / "out"), "--no-history"],
                    ["score", "--out", str(tmp_path / "score")]):
        result = runner.invoke(app, [*command, "--project", str(project)])
        assert result.exit_code == 0, result.stderr
        assert note in result.stdout


def test_in_a_folder_the_note_names_the_file(tmp_path: Path) -> None:
    """The row of a folder's whole is no place a user can find: its file and line are."""
    project = copy_example_project(tmp_path)
    lines = (ROOT / "examples/retail/transactions.csv").read_text().splitlines(keepends=True)
    folder = tmp_path / "tx"
    folder.mkdir()
    (folder / "a.csv").write_text("".join(lines[:1000]))
    second = [lines[0], *lines[1000:]]
    second[5] = second[5].replace(",C0", ", C0", 1)
    (folder / "b.csv").write_text("".join(second))
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(
        f"{ROOT}/examples/retail/transactions.csv", str(folder)))
    result = runner.invoke(app, ["score", "--project", str(project), "--out",
                                 str(tmp_path / "s")])
    assert result.exit_code == 0, result.stderr
    assert "surrounding spaces (first ' C0" in result.stdout
    assert f"at {folder / 'b.csv'}:6): read without them" in result.stdout
