"""A customer whose rows are only refunds is left out of the value table; `cvm run` says how
many, as `cvm score` does, and the manifest counts them (a new user: 70 customers vanished
from a run without a figure)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project

runner = CliRunner()
REFUNDS = ("R0000001,C999001,2024-03-02,Garden,app,1,-42.70,-28.42\n"
           "R0000002,C999002,2024-05-10,Toys,store,1,-8.41,-2.74\n")


def _with_refunds(tmp_path: Path) -> Path:
    """The retail example, its transactions with REFUNDS added (two customers with only a
    refund)."""
    project = copy_example_project(tmp_path)
    data = tmp_path / "transactions.csv"
    data.write_text((ROOT / "examples/retail/transactions.csv").read_text() + REFUNDS)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(
        f"{ROOT}/examples/retail/transactions.csv", str(data)))
    return project


def test_a_run_counts_the_customers_with_only_refunds(tmp_path: Path) -> None:
    project = _with_refunds(tmp_path)
    result = runner.invoke(app, ["run", "--project", str(project), "--out",
                                 str(tmp_path / "out"), "--no-history"])
    assert result.exit_code == 0, result.stderr
    assert ("  left out 2 customers with no purchase left (only refund rows, or every "
            "purchase row skipped above); their 2 refund rows (EUR 51.11) are in no "
            "customer's revenue\n") in result.stdout
    counts = json.loads((tmp_path / "out" / "manifest.json").read_text())["counts"]
    assert counts["customers_without_purchase"] == 2
    scored = runner.invoke(app, ["score", "--project", str(project), "--out",
                                 str(tmp_path / "score")])
    assert "  left out 2 customers with no purchase left" in scored.stdout
    as_json = runner.invoke(app, ["score", "--project", str(project), "--out",
                                  str(tmp_path / "score"), "--json"])
    assert json.loads(as_json.stdout)["customers_without_purchase"] == 2


def test_the_refunds_of_a_customer_left_out_are_not_said_netted(tmp_path: Path) -> None:
    """A trial: `cvm score` said "netted 3 refund rows (EUR 105.00)" while the revenue it
    printed held only two of them: the third was a customer's with no purchase, left out of
    the value table. The refunds netted are those of the customers scored; the others are
    said on the line of the customers left out, and `cvm run` says them there too."""
    import pandas as pd

    project = _with_refunds(tmp_path)
    rows = pd.read_csv(ROOT / "examples/retail/transactions.csv")
    refunds = rows[rows["NetAmount"] < 0]
    netted = (f"  netted {len(refunds):,} refund rows "
              f"(EUR {-refunds['NetAmount'].sum():,.2f})\n")
    left = ("  left out 2 customers with no purchase left (only refund rows, or every purchase "
            "row skipped above); their 2 refund rows (EUR 51.11) are in no customer's "
            "revenue\n")
    scored = runner.invoke(app, ["score", "--project", str(project), "--out",
                                 str(tmp_path / "score")])
    assert scored.exit_code == 0, scored.stderr
    assert netted in scored.stdout
    assert left in scored.stdout
    table = pd.read_csv(tmp_path / "score" / "customers.csv")
    assert round(float(table["refunds"].sum()), 2) == round(-refunds["NetAmount"].sum(), 2)
    run = runner.invoke(app, ["run", "--project", str(project), "--out",
                              str(tmp_path / "out"), "--no-history"])
    assert left in run.stdout


def test_the_report_counts_those_refunds_in_their_month(tmp_path: Path) -> None:
    """README "The customer equity report": its amounts are the rows `cvm score` uses, the
    refunds of the customers left out included (revenue lost in its month): the months'
    revenue is the value table's revenue less those refunds."""
    import pandas as pd

    project = _with_refunds(tmp_path)
    scored = runner.invoke(app, ["score", "--project", str(project), "--out",
                                 str(tmp_path / "score")])
    assert scored.exit_code == 0, scored.stderr
    report = runner.invoke(app, ["report", "--project", str(project), "--out",
                                 str(tmp_path / "report")])
    assert report.exit_code == 0, report.stderr
    months = pd.read_csv(next((tmp_path / "report").rglob("monthly_figures.csv")))
    table = pd.read_csv(tmp_path / "score" / "customers.csv")
    assert round(months["revenue"].sum() - (table["revenue"].sum() - 51.11), 2) == 0
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert ("Amounts are those of the rows `cvm score` uses (refunds netted, skipped rows not "
            "counted), the refunds of the customers it leaves out of the value table included "
            "(revenue lost in their month; the summaries of `cvm score` and `cvm run` say how "
            "many such rows, and their amount); margin is gross margin as in the value table, "
            "those refunds' margin included") in readme


def test_contracts_of_a_negative_price_count_their_payments(tmp_path: Path) -> None:
    """Session 31's review: with contracts the load counted refund rows as contract rows while
    the value table sees payments ("netted -8 refund rows (EUR -74.93)"); that fix left the
    contracts' refunds out of the left-out figures, and a reviewer then found the manifest's
    'netted' amount at one period's price (12.00 where the table's refunds held 20.00). The
    refunds of contracts are now their payments of a negative price, everywhere: KX1 pays
    -9.99 eight times to the as-of date (2026-01-01, every 30 days from 2025-06-01), KX2
    -5.00 twice (from 2025-12-01)."""
    import pandas as pd

    source = ROOT / "examples" / "subscription"
    project = tmp_path / "p"
    for name in ("rules", "policies", "templates"):
        shutil.copytree(source / name, project / name)
    (project / "contracts.csv").write_text(
        (source / "contracts.csv").read_text()
        + "KX1,SX1,2025-06-01,,basic,web,-9.99,0\nKX2,SX2,2025-12-01,,basic,web,-5.00,0\n"
        + "KX3,S00001,2025-10-01,2025-11-15,basic,web,-2.50,0\n")  # a scored customer's
    (project / "cvm.yaml").write_text((source / "cvm.yaml").read_text())
    scored = runner.invoke(app, ["score", "--project", str(project), "--out",
                                 str(tmp_path / "score")])
    assert scored.exit_code == 0, scored.stderr
    assert "  netted 2 refund rows (EUR 5.00)\n" in scored.stdout
    assert "  left out 2 customers with no purchase left (only refund rows, or every purchase " \
           "row skipped above); their 10 refund rows (EUR 89.92) are in no customer's " \
           "revenue\n" in scored.stdout
    as_json = runner.invoke(app, ["score", "--project", str(project), "--out",
                                  str(tmp_path / "score"), "--json"])
    assert json.loads(as_json.stdout)["refunds"] == {
        "rows": 2, "amount": 5.0, "left_out_rows": 10, "left_out_amount": 89.92}
    table = pd.read_csv(tmp_path / "score" / "customers.csv")
    assert round(float(table["refunds"].sum()), 2) == 5.0


def test_the_refund_figures_are_in_the_manifest_the_json_and_the_api(tmp_path: Path) -> None:
    """The audit: the refunds netted and left out were said only on the terminal; a campaign
    tool reading the manifest or `cvm score --json` had no figure for the left-out ones (in
    no customer's revenue, so in no file). The same figures as the summary, everywhere."""
    import pandas as pd

    from engine import api

    project = _with_refunds(tmp_path)
    rows = pd.read_csv(ROOT / "examples/retail/transactions.csv")
    refunds = rows[rows["NetAmount"] < 0]
    expected = {"rows": len(refunds), "amount": round(-refunds["NetAmount"].sum(), 2),
                "left_out_rows": 2, "left_out_amount": 51.11}
    as_json = runner.invoke(app, ["score", "--project", str(project), "--out",
                                  str(tmp_path / "score"), "--json"])
    assert as_json.exit_code == 0, as_json.stderr
    said = json.loads(as_json.stdout)
    assert (said["schema_version"], said["refunds"]) == (3, expected)
    run = api.run(project, out=tmp_path / "out", history=False)
    assert run.refunds == expected
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["refunds"] == expected
    assert api.score(project).refunds == expected
    table = pd.read_csv(tmp_path / "score" / "customers.csv")
    assert round(float(table["refunds"].sum()), 2) == expected["amount"]
