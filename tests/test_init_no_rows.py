"""`cvm init --from` on an empty file or a file of a header line only: refused with what is
missing (exit 1), nothing written; not a project of columns "named like it but empty"."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app


@pytest.mark.parametrize(("content", "found"), [
    ("", "found an empty file"),
    ("CustomerID,OrderDate,NetAmount\n", "found a header line and no data rows"),
])
def test_a_file_without_data_rows_is_refused(tmp_path: Path, content: str, found: str) -> None:
    source = tmp_path / "tx.csv"
    source.write_text(content)
    result = CliRunner().invoke(app, ["init", str(tmp_path / "p"), "--from", str(source)])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(
        f"error: {source}: {found}, expected a header line and rows of transactions\n"
        "  hint: export the transactions with their rows, then run `cvm init --from` again"), \
        result.stderr
    assert not (tmp_path / "p").exists()
