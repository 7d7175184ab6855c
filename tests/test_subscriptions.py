"""Subscriptions (``subscriptions:`` in cvm.yaml): contracts become payments, the sBG model
gives survival, churn risk and residual value, and policies act on them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.data.load import EPOCH, load_transactions
from engine.project.config import load_config
from engine.value.score import score

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "subscription"
runner = CliRunner()

CONFIG = """\
name: contracts
data:
  transactions: tx.csv
  columns:
    customer_id: cust
    date: start
    amount: price
subscriptions:
  end: end
  billing_days: 30
as_of: 2024-07-01
period_days: 30
horizon_periods: 4
"""


def test_contracts_become_one_payment_per_billing_period(
        make_project: Callable[..., Path]) -> None:
    project = make_project(CONFIG, tx="cust,start,end,price\n"
                           "a,2024-01-01,2024-03-15,10.00\n"  # 74 days: 3 periods, then left
                           "b,2024-05-01,,20.00\n"  # running: 05-01, 05-31, 06-30
                           "c,2024-06-20,2024-06-21,5.00\n")  # one day: its first period
    tx = load_transactions(load_config(project))
    days = [str(EPOCH + dt.timedelta(days=int(d))) for d in tx.day]
    assert sorted(zip(tx.customer_ids[tx.code], days, tx.amount, strict=True)) == [
        ("a", "2024-01-01", 10.0), ("a", "2024-01-31", 10.0), ("a", "2024-03-01", 10.0),
        ("b", "2024-05-01", 20.0), ("b", "2024-05-31", 20.0), ("b", "2024-06-30", 20.0),
        ("c", "2024-06-20", 5.0)]
    assert tx.active is not None and tx.active.tolist() == [False, True, False]


def test_an_end_before_the_start_is_an_error_at_its_row(
        make_project: Callable[..., Path]) -> None:
    project = make_project(CONFIG, tx="cust,start,end,price\na,2024-01-01,,10.00\n"
                           "b,2024-03-01,2024-02-01,10.00\n")
    result = runner.invoke(app, ["score", "--project", str(project)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: tx.csv:3: row 2, column 'end': found the end 2024-02-01 before the start "
        "2024-03-01 (1 such row), expected an end on or after the start",
        "  hint: leave the end empty while the contract runs"]


@pytest.mark.parametrize(("section", "message"), [
    ("subscriptions:\n  billing_days: 30\n",
     "error: cvm.yaml:9:3: subscriptions: missing required key 'end'"),
    ("subscriptions:\n  end: end\n  billing_days: 0\n",
     "error: cvm.yaml:10:17: subscriptions.billing_days: found 0, expected a whole number "
     "from 1 to 366"),
])
def test_subscription_settings_are_validated(make_project: Callable[..., Path], section: str,
                                             message: str) -> None:
    config = CONFIG[:CONFIG.index("subscriptions:")] + section + \
        CONFIG[CONFIG.index("as_of:"):]
    project = make_project(config, tx="cust,start,end,price\na,2024-01-01,,10.00\n")
    result = runner.invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(message)


def test_the_example_is_valued_by_the_sbg_model() -> None:
    """The generator draws churn probabilities from Beta(0.9, 4.5): the fit finds them; a
    customer who left has p_alive 0; an active one with n renewals has churn risk
    alpha / (alpha + beta + n), the sBG probability of leaving at the next renewal."""
    scored = score(load_config(EXAMPLE))
    model, t = scored.model, scored.table
    assert model.used and model.transaction_model == "sbg"
    alpha, beta = model.params["sbg"]["alpha"], model.params["sbg"]["beta"]
    assert alpha == pytest.approx(0.9, rel=0.1) and beta == pytest.approx(4.5, rel=0.1)
    left = t["p_alive"] == 0
    assert (t.loc[left, "p_alive"] == 0).all() and (t.loc[left, "clv_model"] == 0).all()
    active = t[~left]
    assert len(active) == 991
    n = active["frequency"].to_numpy()  # one payment per 30 days: payments - 1 renewals
    np.testing.assert_allclose(active["churn_risk"], alpha / (alpha + beta + n), rtol=0,
                               atol=5.1e-7)  # shown to 6 places
    assert (active["clv_model_lower"] < active["clv_model"]).all()
    assert (active["clv_model"] < active["clv_model_upper"]).all()
    assert model.equity is not None
    total, low, high = model.equity
    assert low < total < high
    assert total == pytest.approx(active["clv_model"].sum())


def test_a_policy_on_churn_risk_works(tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = runner.invoke(app, ["decide", "--project", str(EXAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    decisions = pd.read_csv(out / "decisions.csv", dtype={"customer_id": str})
    t = score(load_config(EXAMPLE)).table
    # past the first three months or cancelling (not acquisition) and not cancelled (exit),
    # nor taken by save_cancelling (priority 95: a cancellation booked, two renewals or more)
    booked = t["days_to_contract_end"].notna()
    at_risk = t[(t["churn_risk"] >= 0.085) & (t["clv_model"] >= 20) & (t["p_alive"] > 0)
                & ((t["tenure_days"] > 90) | booked) & ~(booked & (t["frequency"] >= 2))]
    assert 50 < len(at_risk) < 500
    chosen = decisions.loc[decisions["policy_id"] == "save_at_risk", "customer_id"]
    assert set(chosen) == set(at_risk["customer_id"])
    assert (decisions.loc[decisions["policy_id"] == "save_at_risk", "action"] == "retain").all()


def test_fit_on_the_example(tmp_path: Path) -> None:
    result = runner.invoke(app, ["fit", "--project", str(EXAMPLE), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("  sBG          alpha 0.8531 (se 0.051)  "
                                                    "beta 4.706 (se 0.41)")
    assert "Holdout: sBG fitted to 2025-01-05" in result.stdout
    readme = (ROOT / "README.md").read_text()
    assert "```\n" + "\n".join(result.stdout.splitlines()[1:3]) + "\n```" in readme


def test_readme_subscription_settings_and_policy(make_project: Callable[..., Path]) -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```yaml\nsubscriptions:\n", 1)[1].split("```", 1)[0]
    config = CONFIG[:CONFIG.index("subscriptions:")] + "subscriptions:\n" + block.replace(
        "end_date", "end") + CONFIG[CONFIG.index("as_of:"):]
    project = make_project(config, tx="cust,start,end,price\na,2024-01-01,,10.00\n")
    assert load_config(project).subscriptions is not None
    policy = (EXAMPLE / "policies" / "save_at_risk.yaml").read_text()
    shown = readme.split("A marketer's policy on the churn risk", 1)[1].split("```yaml\n", 1)[1]
    assert shown.split("```", 1)[0] in policy


CONTRACTS = ("cust,start,end,price\n"
             "a,2024-01-01,,10.00\n"
             "b,2024-01-01,,10.00\nb,2024-01-01,,-2.00\n"  # a discount line beside it
             "c,2024-01-01,,10.00\nc,2024-01-01,,10.00\n"  # the contract's row twice
             "d,2024-01-01,,10.00\nd,2024-02-15,,5.00\n"  # an add-on running beside it
             # the others, who churn at various renewals or stay (the sBG needs both)
             + "".join(f"p{k},2024-01-01,{end},10.00\n" for k, end in enumerate(
                 ["2024-01-20"] * 6 + ["2024-03-20"] * 4 + ["2024-05-20"] * 3 + [""] * 6))
             + "".join(f"q{k},2023-09-01,{end},10.00\n" for k, end in enumerate(
                 ["2023-09-20"] * 5 + ["2023-12-20"] * 3 + ["2024-04-20"] * 2 + [""] * 4)))


def test_renewals_are_billing_periods_paid_not_payment_rows(
        make_project: Callable[..., Path]) -> None:
    """A retention lead's trial: the sBG counted payment rows, so a discount line (a negative
    payment), a contract's row twice and an add-on running beside the main contract each
    counted as renewals (M009's n was 45 for 22 renewals, its clv_model half the formula's).
    Each customer here has the main contract of a: the same renewals, the same churn risk."""
    project = make_project(CONFIG.replace("    amount: price\n", "    amount: price\n"
                                          "  duplicates: keep\n"), tx=CONTRACTS)
    result = runner.invoke(app, ["score", "--project", str(project), "-o", str(project / "o")])
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(project / "o" / "customers.csv").set_index("customer_id")
    risk = table["churn_risk"]
    assert risk["b"] == risk["c"] == risk["d"] == risk["a"], risk.to_dict()
    assert table.loc["c", "frequency"] == table.loc["a", "frequency"]


def test_fit_fits_the_customers_the_value_table_values(
        make_project: Callable[..., Path], tmp_path: Path) -> None:
    """A retention lead's trial: a contract starting after the as-of date (no payment yet) made
    cvm fit fail ('renewals is negative in 2 rows (first at index 9)'), where validate and
    run passed; a customer with a negative contract alone was fitted by fit, not by run."""
    import json
    import re

    project = make_project(CONFIG, tx=CONTRACTS + "m,2024-08-01,,10.00\nn,2024-01-01,,-5.00\n")
    scored = runner.invoke(app, ["score", "--project", str(project), "-o", str(tmp_path / "s")])
    assert scored.exit_code == 0, scored.stderr
    fitted = runner.invoke(app, ["fit", "--project", str(project), "-o", str(tmp_path / "fit")])
    assert fitted.exit_code == 0, fitted.stderr
    params = json.loads((tmp_path / "fit" / "fit" / "params.json").read_text())
    fit = params["models"]["sbg"]["params"]
    said = dict(re.findall(r"(alpha|beta)=([0-9.]+)", scored.stdout))
    assert said == {k: f"{fit[k]:.4g}" for k in ("alpha", "beta")}, scored.stdout


def _contracts(code: np.ndarray, start: np.ndarray, end: np.ndarray, amount: np.ndarray,
               customers: int, as_of_day: int) -> Any:
    """What billing_periods reads of the loaded contracts."""
    from types import SimpleNamespace

    from engine.data.contracts import Contracts

    return SimpleNamespace(customer_ids=np.arange(customers).astype(str), as_of_day=as_of_day,
                           contracts=Contracts(np.asarray(code), np.asarray(start, np.int64),
                                               np.asarray(end, np.int64),
                                               np.asarray(amount, np.float64)))


def test_billing_periods_before_1970_and_out_of_order_are_counted_per_customer() -> None:
    """A review: the running maximum that joins a customer's covered days was kept apart per
    customer by an offset too narrow for days before 1970 (negative), so one customer's days
    ran into the next's: 100 periods for a customer of one."""
    from engine.value.subscriptions import billing_periods

    def periods(codes: list[int], days: list[int]) -> list[int]:  # one period each
        start = np.array(days)
        return billing_periods(_contracts(np.array(codes), start, start + 30,
                                          np.full(len(codes), 10.0), 2, 1000), 30).tolist()

    assert periods([0, 0, 0, 1], [-3000, -2970, -2940, -2990]) == [3, 1]
    assert periods([0, 1, 1], [100, -400, -370]) == [1, 2]
    assert periods([1, 0, 1, 0], [-370, 100, -400, 115]) == [2, 2]  # overlap: 100..145


def test_periods_through_a_day_and_paid_in_a_window_match_counting_day_by_day() -> None:
    """`cvm fit` sorts the contracts once and counts the periods through the calibration end
    and the as-of date from that one order: each count is, customer by customer, the spans
    of their contracts (start to end, the as-of date or the day after ``through``, at least
    a day) joined where they overlap, in plain Python (random contracts, refunds, overlaps,
    days before 1970, contracts running)."""
    from engine.data.contracts import NO_END
    from engine.value.subscriptions import Coverage

    rng = np.random.default_rng(7)
    n, rows, billing, as_of = 40, 400, 30, 300
    code = rng.integers(0, n - 3, rows)  # the last three customers pay nothing
    start = rng.integers(-400, as_of, rows)
    end = np.where(rng.random(rows) < 0.3, NO_END, start + rng.integers(0, 200, rows))
    amount = rng.choice([-5.0, 10.0, 10.0, 10.0], rows)
    paid = Coverage.of(_contracts(code, start, end, amount, n, as_of), billing)
    for through in (None, -100, 0, 150, 299):
        expected = []
        for c in range(n):
            last = as_of if through is None else min(as_of, through + 1)
            spans = sorted((int(s), max(min(int(e), last), int(s) + 1)) for s, e, a in
                           zip(start[code == c], end[code == c], amount[code == c],
                               strict=True)
                           if a > 0 and (through is None or s <= through))
            joined: list[list[int]] = []  # spans that overlap joined, one after another
            for first, stop in spans:
                if joined and first < joined[-1][1]:
                    joined[-1][1] = max(joined[-1][1], stop)
                else:
                    joined.append([first, stop])
            expected.append(sum(-(-(b - a) // billing) for a, b in joined))
        assert paid.periods(through).tolist() == expected, through


def test_paid_in_a_window_is_a_positive_payment_in_it() -> None:
    from types import SimpleNamespace

    from engine.value.subscriptions import paid_between

    rng = np.random.default_rng(7)
    n, rows = 40, 400
    code = rng.integers(0, n - 3, rows)
    day = rng.integers(-400, 400, rows).astype(np.int32)
    amount = rng.choice([-5.0, 10.0, 10.0, 10.0, 0.0], rows)
    tx = SimpleNamespace(customer_ids=np.arange(n).astype(str), code=code, day=day,
                         amount=amount)
    for since, through in ((-200, -170), (0, 30), (370, 400)):
        window = [bool(((code == c) & (amount > 0) & (day > since) & (day <= through)).any())
                  for c in range(n)]
        assert paid_between(tx, since, through).tolist() == window  # type: ignore[arg-type]


def test_a_contract_beside_another_pays_no_period_past_the_as_of_date_or_its_end(
        make_project: Callable[..., Path]) -> None:
    """A trial: each payment was taken to cover a whole billing period, so an add-on (or a new
    plan starting before the old one ends) whose last payment fell later in the period than
    the main contract's stretched the days covered past the as-of date (or past the old
    contract's end): one renewal more, and every fitted figure moved. The days covered end at
    the contract's end and the as-of date (2024-07-01): 182 days, 7 periods, for each."""
    from engine.value.subscriptions import billing_periods

    project = make_project(CONFIG, tx="cust,start,end,price\n"
                           "addon,2024-01-01,,30.00\n"  # Jan 1 .. Jun 29: 7 payments
                           "addon,2024-02-01,,20.00\n"  # its last on Jun 30, to Jul 30
                           "plan,2024-01-01,2024-04-20,30.00\n"  # to Apr 30 as paid
                           "plan,2024-04-01,,35.00\n"  # Apr 1 .. Jun 30
                           "one,2024-01-01,,30.00\n"  # alone: 7
                           "same_day,2024-03-01,2024-03-01,30.00\n")  # billed its first
    tx = load_transactions(load_config(project))
    periods = dict(zip(tx.customer_ids, billing_periods(tx, 30).tolist(), strict=True))
    assert periods == {"addon": 7, "plan": 7, "one": 7, "same_day": 1}


def test_the_note_of_contracts_running_past_a_default_as_of_date_counts_in_words() -> None:
    """A trial: 'note: 1 contracts end on or after the as-of date'."""
    from engine.data.contracts import ends_after_note

    day = (dt.date(2024, 3, 2) - EPOCH).days
    assert ends_after_note(1, day, dt.date(2024, 1, 1)) == (
        "1 contract ends on or after the as-of date 2024-01-01 (latest end 2024-03-02): it is "
        "running at it; set as_of to value at a later date (the default is the day after the "
        "last contract start)")
    assert ends_after_note(2, day, dt.date(2024, 1, 1)).startswith(  # type: ignore[union-attr]
        "2 contracts end on or after the as-of date 2024-01-01 (latest end 2024-03-02): they "
        "are running")
