"""A customer whose rows are only refunds is left out of the value table; `cvm run` says how
many, as `cvm score` does, and the manifest counts them (a new user: 70 customers vanished
from a run without a figure)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project

runner = CliRunner()
REFUNDS = ("R0000001,C999001,2024-03-02,Garden,app,1,-42.70,-28.42\n"
           "R0000002,C999002,2024-05-10,Toys,store,1,-8.41,-2.74\n")


def test_a_run_counts_the_customers_with_only_refunds(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    data = tmp_path / "transactions.csv"
    data.write_text((ROOT / "examples/retail/transactions.csv").read_text() + REFUNDS)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(
        f"{ROOT}/examples/retail/transactions.csv", str(data)))
    result = runner.invoke(app, ["run", "--project", str(project), "--out",
                                 str(tmp_path / "out"), "--no-history"])
    assert result.exit_code == 0, result.stderr
    assert ("  left out 2 customers with no purchase left (only refund rows, or every "
            "purchase row skipped above)\n") in result.stdout
    counts = json.loads((tmp_path / "out" / "manifest.json").read_text())["counts"]
    assert counts["customers_without_purchase"] == 2
    scored = runner.invoke(app, ["score", "--project", str(project), "--out",
                                 str(tmp_path / "score")])
    assert "  left out 2 customers with no purchase left" in scored.stdout
    as_json = runner.invoke(app, ["score", "--project", str(project), "--out",
                                  str(tmp_path / "score"), "--json"])
    assert json.loads(as_json.stdout)["customers_without_purchase"] == 2
