"""`cvm explain` on a customer the value table does not hold says why, when the data say it:
a customer of the customers file without a transaction, or one whose rows hold no purchase
before the as-of date, got only "did you mean" three other ids."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project


def _project(tmp_path: Path) -> Path:
    project = copy_example_project(tmp_path)
    customers = (ROOT / "examples" / "retail" / "customers.csv").read_text()
    (project / "customers.csv").write_text(
        customers + "C009999,2024-01-01,mail,yes,yes,no,yes,no,,east\n")
    tx = (ROOT / "examples" / "retail" / "transactions.csv").read_text()
    (project / "transactions.csv").write_text(  # a purchase after the as-of date only
        tx + "O9999998,C009998,2026-02-01,Garden,app,1,42.70,28.42\n")
    config = (project / "cvm.yaml").read_text()
    for name in ("customers", "transactions"):
        config = config.replace(f"{ROOT}/examples/retail/{name}.csv", f"{name}.csv")
    (project / "cvm.yaml").write_text(config.replace("as_of: null ", "as_of: 2026-01-01"))
    return project


def test_a_customer_of_the_customers_file_without_a_transaction(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["explain", "C009999", "--project", str(_project(tmp_path))])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: CUSTOMER_ID: customer 'C009999' is in the customers file (customers.csv) but "
        "has no transaction: not in the value table\n"
        "  hint: a customer is valued from their purchases; cvm score counts those without "
        "one\n")


def test_a_customer_whose_rows_hold_no_purchase_before_the_as_of_date(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["explain", "C009998", "--project", str(_project(tmp_path))])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: CUSTOMER_ID: customer 'C009998' has transactions but no purchase before "
        "2026-01-01 (rows dated on or after it, of amount 0, duplicates or refunds): not in "
        "the value table\n"
        "  hint: a customer is valued from their purchases before the as-of date\n")


def test_an_unknown_id_still_gets_the_close_ones(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["explain", "C00001", "--project", str(_project(tmp_path))])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: CUSTOMER_ID: customer 'C00001' is not in the value table (2,000 customers with "
        "a purchase before 2026-01-01)\n  hint: did you mean ")


def test_an_id_without_its_leading_zeros_gets_the_one_with_them(tmp_path: Path) -> None:
    """A marketer's ids were 000003: `cvm explain 3` got no suggestion at all."""
    project = copy_example_project(tmp_path)
    tx = (ROOT / "examples" / "retail" / "transactions.csv").read_text()
    (project / "transactions.csv").write_text(tx.replace(",C0", ",0"))
    customers = (ROOT / "examples" / "retail" / "customers.csv").read_text()
    (project / "customers.csv").write_text(customers.replace("\nC0", "\n0").replace(",C0", ",0"))
    config = (project / "cvm.yaml").read_text()
    for name in ("customers", "transactions"):
        config = config.replace(f"{ROOT}/examples/retail/{name}.csv", f"{name}.csv")
    (project / "cvm.yaml").write_text(config)
    result = CliRunner().invoke(app, ["explain", "3", "--project", str(project)])
    assert result.exit_code == 1, result.output
    assert result.stderr.endswith("  hint: did you mean '000003'?\n"), result.stderr


def test_a_subscriber_whose_contract_starts_after_the_as_of_date(tmp_path: Path) -> None:
    """Subscriptions have contracts and payments, not purchases and refunds: said so."""
    import shutil

    project = tmp_path / "subscription"
    shutil.copytree(ROOT / "examples" / "subscription", project,
                    ignore=shutil.ignore_patterns("output", ".cvm"))
    with (project / "contracts.csv").open("a") as contracts:
        contracts.write("K999999,S99999,2026-02-01,,standard,web,17.99,6.84\n")
    result = CliRunner().invoke(app, ["explain", "S99999", "--project", str(project)])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: CUSTOMER_ID: customer 'S99999' has a contract but no payment before "
        "2026-01-01 (contracts starting on or after it, of price 0, duplicates or refunds): "
        "not in the value table\n"
        "  hint: a subscriber is valued from their payments before the as-of date\n")
    result = CliRunner().invoke(app, ["explain", "S0001", "--project", str(project)])
    assert result.stderr.startswith(
        "error: CUSTOMER_ID: customer 'S0001' is not in the value table (3,000 customers with "
        "a payment before 2026-01-01)\n")
