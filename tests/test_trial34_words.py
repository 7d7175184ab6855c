"""A one-customer project, as a new user's first try often is: every command's count says
"1 customer", not "1 customers" (e27d0f4 mended score, run and decide; these are the rest)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT

runner = CliRunner()
TX = ("OrderID,CustomerID,OrderDate,Category,SalesChannel,Qty,NetAmount,Cost\n"
      "O1,C000001,2023-01-02,Garden,app,1,42.70,28.42\n"
      "O2,C000001,2023-06-02,Garden,app,1,42.70,28.42\n"
      "O3,C000001,2023-11-02,Toys,app,1,42.70,28.42\n")


def one_customer_project(folder: Path) -> Path:
    """The bundled example's rules, policies and customers file with one customer's rows."""
    folder.mkdir()
    for name in ("rules", "policies", "templates"):
        shutil.copytree(ROOT / name, folder / name)
    (folder / "tx.csv").write_text(TX)
    text = (ROOT / "cvm.yaml").read_text()
    text = text.replace("examples/retail/transactions.csv", str(folder / "tx.csv"))
    (folder / "cvm.yaml").write_text(text.replace("examples/", f"{ROOT}/examples/"))
    return folder


def said(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_validate_audience_and_plan_say_1_customer(tmp_path: Path) -> None:
    project = one_customer_project(tmp_path / "p")
    proposed = one_customer_project(tmp_path / "q")
    audience = said("validate", "--audience", "-p", str(project))
    assert "Audience sizes: 1 customer as of 2023-11-03 (matches:" in audience, audience
    plan = said("plan", "-p", str(project), "--proposed", str(proposed), "--no-history")
    assert f"Plan: {proposed} against current project, 1 customer as of 2023-11-03\n" in plan, plan


def test_run_and_explain_say_1_customer(tmp_path: Path) -> None:
    project = one_customer_project(tmp_path / "p")
    run = said("run", "-p", str(project), "-o", str(tmp_path / "out"), "--no-history")
    assert "1 customers" not in run, run
    assert "allocate: 2 options of 1 customer, best score first" in run, run
    explained = said("explain", "C000001", "-p", str(project), "--no-history")
    assert "Allocation, as cvm run allocates now (1 customer with an action)" in explained, \
        explained
    missing = runner.invoke(app, ["explain", "C9", "-p", str(project), "--no-history"])
    assert "1 customers" not in missing.output, missing.output


def test_counted_says_the_noun_in_its_number() -> None:
    from engine.words import counted

    assert [counted(n, "customer") for n in (0, 1, 2, 2000, 1.0)] == [
        "0 customers", "1 customer", "2 customers", "2,000 customers", "1 customer"]
    assert counted(3, "option", "options given") == "3 options given"


def test_a_recorded_run_and_its_manifest_say_1_customer(tmp_path: Path) -> None:
    import json

    project = one_customer_project(tmp_path / "p")
    run = said("run", "-p", str(project), "-o", str(tmp_path / "out"))
    assert re.search(r"\nrecorded in the history \(.+\) as run \d+: 1 customer\n", run), run
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert "1 customers" not in json.dumps(manifest), manifest


def test_one_duplicate_one_option_one_active_customer(tmp_path: Path) -> None:
    """The review (session 35): "skipped 1 exact duplicate rows", "1 duplicates", "(1 active
    customers", "1 options of"; and counted(0.6, ...) said "1 customers"."""
    from engine.words import counted

    project = one_customer_project(tmp_path / "p")
    tx = project / "tx.csv"
    tx.write_text(TX + TX.splitlines(keepends=True)[-1])  # one exact duplicate row
    score = said("score", "-p", str(project), "-o", str(tmp_path / "s"))
    assert "  skipped 1 exact duplicate row (first kept)\n" in score, score
    run = said("run", "-p", str(project), "-o", str(tmp_path / "out"), "--no-history")
    assert ", 0 zero amounts, 1 exact duplicate (first kept)\n" in run, run
    report = said("report", "-p", str(project), "-o", str(tmp_path / "r"))
    assert "1 active customers" not in report and "(1 active customer," in report, report
    assert (counted(0.6, "customer"), counted(1.4, "customer")) == ("1 customer", "1 customer")
    assert re.search(r"\b1 options\b", run) is None, run
