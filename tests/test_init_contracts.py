"""`cvm init --from` recognising a contracts file (engine/workflow/sniff_contracts.py): the
line review of session 7 (the reviewer's files, inline), each failing before its fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app

runner = CliRunner()

CONTRACTS1 = """customer_id,signup_date,start_date,end_date,monthly_fee
c1,2023-01-01,2023-01-05,,9.99
c2,2023-02-01,2023-02-03,2023-06-03,9.99
c3,2023-03-01,2023-03-02,,19.99
"""
CONTRACTS2 = """customer_id,last_login_date,subscription_start,cancel_date,mrr
c1,2024-05-01,2023-01-05,,9.99
c2,2024-04-01,2023-02-03,2023-06-03,9.99
c3,2024-05-02,2023-03-02,,19.99
"""
CONTRACTS3 = """subscription_id,customer_id,start_date,end_date,monthly_fee
1001,c1,2023-01-05,,9.99
1002,c2,2023-02-03,2023-06-03,9.99
1003,c3,2023-03-02,,19.99
1004,c4,2023-03-09,,19.99
"""
CONTRACTS4 = """contract_no,customer_id,start_date,end_date,billing_account,plan_price
5001,c1,2023-01-05,,77,9.99
5002,c2,2023-02-03,2023-06-03,78,9.99
5003,c3,2023-03-02,,79,19.99
"""
ORDERS = """order_id,customer_id,order_date,amount,cancelled_at
1,c1,2024-01-03,25.00,
2,c2,2024-01-05,40.00,2024-01-06
3,c1,2024-02-11,13.50,
4,c3,2024-02-12,99.00,
5,c2,2024-03-01,20.00,
6,c4,2024-03-09,10.00,2024-03-10
"""
ORDERS2 = """customer_id,order_date,amount,customer_since,churn_date
c1,2024-01-03,25.00,2023-05-01,
c2,2024-01-05,40.00,2023-06-01,2024-04-01
c1,2024-02-11,13.50,2023-05-01,
c3,2024-02-12,99.00,2022-01-01,
"""
ORDERS3 = """customer_id,date,total,valid_until
c1,2024-01-03,25.00,2024-02-03
c2,2024-01-05,40.00,
c1,2024-02-11,13.50,2024-03-11
"""
# a purchases file with no order-named column: the customer's dates alone make no contracts
PURCHASES = """customer_id,day,spend,customer_since,churn_date
c1,2024-01-03,25.00,2023-05-01,
c2,2024-01-05,40.00,2023-06-01,2024-04-01
c1,2024-02-11,13.50,2023-05-01,
"""


def _init(tmp_path: Path, text: str, *flags: str) -> tuple[str, str]:
    source = tmp_path / "export.csv"
    source.write_text(text)
    result = runner.invoke(app, ["init", str(tmp_path / "p"), "--from", str(source), *flags])
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout, (tmp_path / "p" / "cvm.yaml").read_text()


@pytest.mark.parametrize(("text", "date", "amount", "end", "order_id"), [
    (CONTRACTS1, "start_date", "monthly_fee", "end_date", None),
    (CONTRACTS2, "subscription_start", "mrr", "cancel_date", None),
    (CONTRACTS3, "start_date", "monthly_fee", "end_date", "subscription_id"),
    (CONTRACTS4, "start_date", "plan_price", "end_date", "contract_no"),
], ids=["signup-and-start", "last-login", "subscription-id", "contract-no"])
def test_contracts_files_become_subscription_projects_with_the_right_columns(
        tmp_path: Path, text: str, date: str, amount: str, end: str,
        order_id: str | None) -> None:
    out, _ = _init(tmp_path, text)
    from engine.project.config import load_config

    config = load_config(tmp_path / "p")
    columns = config.data.columns
    assert (columns["date"], columns["amount"], columns.get("order_id")) == \
        (date, amount, order_id)
    assert config.subscriptions is not None and config.subscriptions.end == end
    assert f"ended by {end!r}, billed every 30 days" in out
    assert "contracts?" not in out
    # a retention lead's trial: a contract's row twice (its id too) was billed twice, kept by
    # init's 'duplicates: keep'; with a contract id, exact duplicates are a row exported twice
    assert config.data.duplicates == ("drop" if order_id else "keep")


def test_the_start_replaces_an_earlier_date_guess(tmp_path: Path) -> None:
    """The old dict merge kept sniff's date guess ('last_login_date') over the start."""
    out, yaml = _init(tmp_path, CONTRACTS2)
    assert '    date: "subscription_start"' in yaml and "last_login_date\"" not in yaml
    assert ("  date         <- 'subscription_start' (high: the name says the contract's "
            "start, and the values are dates)") in out


def test_an_id_column_is_never_the_price(tmp_path: Path) -> None:
    out, yaml = _init(tmp_path, CONTRACTS3)
    assert "'subscription_id' (high: the name says a price" not in out
    assert ("  amount       <- 'monthly_fee' (high: the name says a price per billing period, "
            "and the values are decimal numbers)") in out
    assert '    order_id: "subscription_id"' in yaml


def test_whole_numbers_counting_up_are_never_the_price(tmp_path: Path) -> None:
    """Named like a price per period ('monthly_billing'), valued like an id (7001, 7002, ...)."""
    _, yaml = _init(tmp_path, "customer_id,monthly_billing,start_date,end_date,monthly_fee\n"
                    "c1,7001,2023-01-05,,9.99\nc2,7002,2023-02-03,2023-06-03,9.99\n"
                    "c3,7003,2023-03-02,,19.99\n")
    assert '    amount: "monthly_fee"' in yaml and "\nsubscriptions:" in yaml


def test_a_price_column_guessed_by_its_values_says_its_name(tmp_path: Path) -> None:
    """'mrr' was guessed by its values (low, "the name says nothing"), then skipped as taken,
    while the billing period below said "'mrr' says monthly (MRR)"."""
    out, _ = _init(tmp_path, CONTRACTS2)
    assert ("  amount       <- 'mrr' (high: the name says a price per billing period, and the "
            "values are decimal numbers)") in out
    assert "billed every 30 days (medium: 'mrr' says monthly (MRR))" in out


CONSIDERED = {
    "orders": ("order_date", "  contracts?   'cancelled_at' is named like a contract's end, "
               "but 'order_id' holds order ids and 'order_date' is named like a purchase "
               "date: read as one row per purchase; if each row is a contract, run cvm init "
               "into a new folder with --contracts"),
    "orders2": ("order_date", "  contracts?   'churn_date' is named like a contract's end, "
                "but 'order_date' is named like a purchase date: read as one row per "
                "purchase; if each row is a contract, run cvm init into a new folder with "
                "--contracts"),
    "orders3": ("date", "  contracts?   'valid_until' is named like a contract's end, but "
                "'date' is named like a purchase date: read as one row per purchase; if each "
                "row is a contract, run cvm init into a new folder with --contracts"),
    "purchases": ("day", "  contracts?   'churn_date' is named like a contract's end, but "
                  "'day' is named like a purchase date: read as one row per purchase; if each "
                  "row is a contract, run cvm init into a new folder with --contracts"),
}


@pytest.mark.parametrize(("name", "text"), [
    ("orders", ORDERS), ("orders2", ORDERS2), ("orders3", ORDERS3), ("purchases", PURCHASES)])
def test_orders_files_stay_purchase_projects_and_say_the_contracts_reading(
        tmp_path: Path, name: str, text: str) -> None:
    out, yaml = _init(tmp_path, text)
    date, line = CONSIDERED[name]
    assert "subscriptions" not in yaml and "contracts:" not in out
    assert f'    date: "{date}"' in yaml
    assert line in out.splitlines()


def test_read_as_purchases_the_date_is_not_a_contract_end(tmp_path: Path) -> None:
    """'churn_date' scored above 'day' as the purchase date of a purchases file."""
    out, yaml = _init(tmp_path, PURCHASES)
    assert ("  date         <- 'day' (medium: the values are dates, and 'churn_date' is named "
            "like a contract's start or end, not a purchase's)") in out
    (tmp_path / "t").mkdir()
    out, yaml = _init(tmp_path / "t", PURCHASES, "--transactions")
    assert '    date: "day"' in yaml


def test_contracts_forces_the_contracts_reading(tmp_path: Path) -> None:
    out, yaml = _init(tmp_path, ORDERS, "--contracts")
    assert "\nsubscriptions:" in yaml and '  end: "cancelled_at"' in yaml
    assert '    date: "order_date"' in yaml and "contracts?" not in out


def test_transactions_refuses_the_contracts_reading(tmp_path: Path) -> None:
    out, yaml = _init(tmp_path, CONTRACTS3, "--transactions")
    assert "subscriptions" not in yaml and "contracts" not in out


def test_contracts_without_an_end_column_is_an_input_error(tmp_path: Path) -> None:
    source = tmp_path / "tx.csv"
    source.write_text("customer_id,date,amount\nc1,2024-01-03,25.00\nc2,2024-01-05,40.00\n")
    result = runner.invoke(app, ["init", str(tmp_path / "p"), "--from", str(source),
                                 "--contracts"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {source}: --contracts: found no column named like a contract's end (end, "
        "cancelled, churn_date, until, ...) beside a start, expected one to read the file as "
        "contracts\n  hint: drop --contracts to read it as transactions (one row per "
        "purchase)\n")
    assert not (tmp_path / "p").exists()


def test_contracts_without_from_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "p"), "--transactions"])
    assert result.exit_code == 2
    assert result.stderr == ("error: --transactions: given without --from, expected --from FILE "
                             "(the file to read)\n"
                             "  hint: give the file to read with --from, or drop "
                             "--transactions\n")
    assert not (tmp_path / "p").exists()


def test_a_file_of_monthly_and_annual_contracts_is_said_billed_at_one_period(
        tmp_path: Path) -> None:
    """A retention lead's trial: a 'billing' column of monthly and annual contracts, and init
    said 'no column name says the billing period: 30 days (monthly) assumed': the annual
    fees were billed every 30 days, twelve times the revenue, said nowhere."""
    out, yaml = _init(tmp_path, "contract_ref,member_id,billing,start,end,fee\n"
                      "C1,M1,monthly,2023-01-15,2023-07-15,29.00\n"
                      "C2,M2,annual,2024-03-01,2025-03-01,399.00\n"
                      "C3,M3,monthly,2024-02-01,,29.00\n", "--contracts")
    assert ("billed every 30 days (low: 'billing' holds annual, monthly contracts, and every "
            "contract is billed every 30 days (no column name says the billing period: 30 "
            "days (monthly) assumed): split the file by billing period into projects of their "
            "own)") in out
    assert "  billing_days: 30  # guess (low): 'billing' holds annual, monthly" in yaml
