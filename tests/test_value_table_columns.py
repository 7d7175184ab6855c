"""Every project's value table has the same columns: signup_date, preferred_channel and
referred_by (documented, "may be empty") were missing from customers.csv without a customers
file (a new user's script read them from a project of their own)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from typer.testing import CliRunner

from engine.cli import app
from engine.project.schema import VALUE_COLUMNS
from tests.conftest import ROOT

FIELDS = ("signup_date", "preferred_channel", "referred_by")


def test_a_project_without_a_customers_file_has_them_empty(tmp_path: Path) -> None:
    for name, project in (("cdnow", ROOT / "examples" / "cdnow"), ("retail", ROOT)):
        result = CliRunner().invoke(app, ["score", "-q", "-p", str(project), "-o",
                                          str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "cdnow" / "customers.csv")
    declared = [c.name for c in VALUE_COLUMNS]
    assert [c for c in table.columns if c in declared] == declared
    assert table[list(FIELDS)].isna().all().all()
    types = [{f: str(pq.read_schema(tmp_path / name / "customers.parquet").field(f).type)
              for f in FIELDS} for name in ("cdnow", "retail")]
    assert types[0] == types[1]
