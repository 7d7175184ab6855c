"""The synthetic retail generator: determinism, shape, and the behaviours it must simulate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import synth  # examples/retail/synth.py (pytest's pythonpath)

N = 3000
END = "2025-12-31"


@pytest.fixture(scope="module")
def data() -> synth.SynthData:
    return synth.generate(N, seed=11)


@pytest.fixture(scope="module")
def orders(data: synth.SynthData) -> pd.DataFrame:
    """One row per order (sales lines only), with its index in the customer's history."""
    sales = data.transactions[data.transactions.NetAmount > 0]
    out = (sales.groupby("OrderID", sort=False)
           .agg(cust=("CustomerID", "first"), date=("OrderDate", "first"),
                value=("NetAmount", "sum"), cats=("Category", frozenset))
           .reset_index().sort_values(["date", "OrderID"], kind="stable"))
    out["date"] = pd.to_datetime(out["date"])
    out["n"] = out.groupby("cust").cumcount()
    out["orders"] = out.groupby("cust")["n"].transform("size")
    return out


def _days(a: pd.Series, b: str) -> pd.Series:
    return (pd.Timestamp(b) - a).dt.days


def test_same_seed_gives_byte_identical_csv(tmp_path: Path) -> None:
    a = synth.write(synth.generate(500, seed=3), tmp_path / "a")
    b = synth.write(synth.generate(500, seed=3), tmp_path / "b")
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes()


def test_committed_example_is_reproducible(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "retail"
    paths = synth.write(synth.generate(2000, seed=7), tmp_path)  # the README's command
    for path in paths:
        assert path.read_bytes() == (example / path.name).read_bytes(), path.name


def test_different_seed_differs() -> None:
    a, b = synth.generate(500, seed=3), synth.generate(500, seed=4)
    assert not a.transactions.equals(b.transactions)
    assert not a.customers.equals(b.customers)


def test_columns_ids_and_sorting(data: synth.SynthData) -> None:
    tx, cu = data.transactions, data.customers
    assert list(tx.columns) == ["OrderID", "CustomerID", "OrderDate", "Category",
                                "SalesChannel", "Qty", "NetAmount", "Cost"]
    assert list(cu.columns) == ["CustomerID", "SignupDate", "PreferredChannel", "EmailOptIn",
                                "SmsOptIn", "PhoneOptIn", "MailOptIn", "PushOptIn",
                                "ReferredBy", "Region"]
    assert tx.OrderID.str.fullmatch(r"O\d{7}").all()
    assert tx.CustomerID.str.fullmatch(r"C\d{6}").all()
    assert tx.OrderDate.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert tx.OrderDate.is_monotonic_increasing
    assert set(tx.Category) == set(synth.CATEGORIES) and len(synth.CATEGORIES) == 8
    assert set(tx.SalesChannel) == set(synth.SALES_CHANNELS)
    assert set(cu.Region) == set(synth.REGIONS)
    assert (tx.NetAmount.round(2) == tx.NetAmount).all() and (tx.Cost.round(2) == tx.Cost).all()
    assert 15_000 < len(tx) * 2000 / N < 30_000
    assert set(tx.CustomerID) == set(cu.CustomerID) and cu.CustomerID.is_unique


def test_date_range_is_respected() -> None:
    d = synth.generate(300, seed=1, start=dt.date(2024, 3, 1), end=dt.date(2024, 8, 31))
    assert d.transactions.OrderDate.min() >= "2024-03-01"
    assert d.transactions.OrderDate.max() <= "2024-08-31"
    assert d.customers.SignupDate.min() >= "2024-03-01"


def test_orders_have_one_to_three_lines_in_distinct_categories(data: synth.SynthData) -> None:
    tx = data.transactions
    sales = tx[tx.NetAmount > 0].drop_duplicates()
    per = sales.groupby("OrderID").agg(lines=("Category", "size"), cats=("Category", "nunique"),
                                       dates=("OrderDate", "nunique"),
                                       custs=("CustomerID", "nunique"),
                                       chans=("SalesChannel", "nunique"))
    assert per.lines.between(1, 3).all() and (per.lines == per.cats).all()
    assert (per[["dates", "custs", "chans"]] == 1).all().all()
    assert 1.3 < per.lines.mean() < 1.9
    assert (tx.Qty[tx.NetAmount > 0] >= 1).all()


def test_customers_are_acquired_throughout_more_recently(orders: pd.DataFrame) -> None:
    first_year = orders[orders.n == 0].date.dt.year.value_counts()
    assert set(first_year.index) == {2023, 2024, 2025}
    assert first_year[2025] > first_year[2023] > 0.15 * N


def test_one_time_buyers_including_big_spenders(orders: pd.DataFrame) -> None:
    per_cust = orders.groupby("cust").agg(orders=("n", "size"), value=("value", "sum"))
    one_time = per_cust[per_cust.orders == 1]
    assert 0.33 < len(one_time) / N < 0.47
    big = one_time.value > 10 * orders.value.median()
    assert 20 <= big.sum() < 0.1 * len(one_time)  # about 6 from the lognormal tail alone


def test_churned_and_active_repeat_buyers(orders: pd.DataFrame) -> None:
    last = orders[orders.orders > 1].groupby("cust").date.max()
    assert (_days(last, END) > 365).mean() > 0.1  # stopped buying long before the end
    assert (_days(last, END) <= 90).mean() > 0.4  # still buying at the end


def test_spend_grows_after_the_first_order(orders: pd.DataFrame) -> None:
    regular = orders[orders.orders >= 6]
    first = regular[regular.n == 0].set_index("cust").value
    later = regular[regular.n.between(2, 5)].groupby("cust").value.mean()
    assert (later / first).median() > 1.6  # about 1.3 without the ramp-up


def test_declining_customers_buy_less_and_less_often(orders: pd.DataFrame) -> None:
    last = orders.groupby("cust").date.transform("max")
    gone = orders[(orders.orders >= 6) & (_days(last, END) > 180)].copy()
    gone["gap"] = gone.groupby("cust").date.diff().dt.days
    gone["back"] = gone.orders - 1 - gone.n  # 0 for the last order
    tail = gone[gone.back < 2].groupby("cust")
    middle = gone[(gone.n >= gone.orders // 3) & (gone.back >= 3)].groupby("cust")  # mature
    # without a decline phase these ratios come out near 1.1 and 0.8
    assert (tail.value.mean() / middle.value.mean()).median() < 1.0
    assert (tail.gap.mean() / middle.gap.mean()).median() > 1.15


def test_category_breadth_grows_with_tenure(orders: pd.DataFrame) -> None:
    regular = orders[orders.orders >= 8]

    def breadth(rows: pd.DataFrame) -> pd.Series:
        return rows.groupby("cust").cats.agg(lambda s: len(frozenset().union(*s)))

    early = breadth(regular[regular.n < 3])
    late = breadth(regular[regular.n >= regular.orders - 3])
    assert late.mean() > early.mean() + 0.5


def test_refunds_follow_a_sale_of_the_same_line(data: synth.SynthData) -> None:
    tx = data.transactions
    refunds = tx[tx.NetAmount < 0]
    sales = tx[tx.NetAmount > 0].drop_duplicates(["OrderID", "Category"])
    assert 0.015 < len(refunds) / sales.OrderID.nunique() < 0.045
    assert refunds.OrderID.is_unique and (refunds.Cost < 0).all() and (refunds.Qty < 0).all()
    m = refunds.merge(sales, on=["OrderID", "Category"], suffixes=("", "_sale"),
                      validate="one_to_one")
    assert len(m) == len(refunds)
    assert (m.NetAmount == -m.NetAmount_sale).all() and (m.CustomerID == m.CustomerID_sale).all()
    assert (m.OrderDate > m.OrderDate_sale).all() and (m.OrderDate <= END).all()


def test_duplicates_and_free_samples_are_rare_but_present(data: synth.SynthData) -> None:
    tx = data.transactions
    assert 0 < tx.duplicated().sum() < 0.006 * len(tx)
    zero = tx[tx.NetAmount == 0]
    assert 0 < len(zero) < 0.006 * len(tx)
    assert (zero.Qty == 1).all() and (zero.Cost >= 0).all()


def test_costs_sit_below_amounts_with_category_margins(data: synth.SynthData) -> None:
    sales = data.transactions[data.transactions.NetAmount > 0]
    assert (sales.Cost / sales.NetAmount).mean() < 0.8
    assert (sales.Cost > 0).all()
    by = sales.groupby("Category")[["NetAmount", "Cost"]].sum()
    margin = 1 - by.Cost / by.NetAmount
    assert margin["Beauty"] > 0.5 > 0.2 > margin["Electronics"]
    price = sales.groupby("Category").NetAmount.median()
    assert price["Electronics"] > 2 * price["Books"]


def test_referrals_name_earlier_higher_value_customers(data: synth.SynthData,
                                                       orders: pd.DataFrame) -> None:
    cu = data.customers
    referred = cu[cu.ReferredBy.notna()]
    assert 0.06 < len(referred) / N < 0.13
    assert referred.ReferredBy.isin(cu.CustomerID).all()
    first = orders.groupby("cust").date.min()
    signup = pd.to_datetime(referred.SignupDate).to_numpy()
    assert (first[referred.ReferredBy].to_numpy() < signup).all()  # a customer before signup
    revenue = orders.groupby("cust").value.sum()
    assert revenue[referred.ReferredBy].mean() > 2 * revenue.mean()


def test_signup_and_contact_consents(data: synth.SynthData, orders: pd.DataFrame) -> None:
    cu = data.customers.set_index("CustomerID")
    first = orders.groupby("cust").date.min()
    assert (pd.to_datetime(cu.SignupDate) <= first[cu.index]).all()
    assert (pd.to_datetime(cu.SignupDate) < first[cu.index]).mean() > 0.2
    assert set(cu.PreferredChannel) == set(synth.CONTACT_CHANNELS)
    columns = ["EmailOptIn", "SmsOptIn", "PhoneOptIn", "MailOptIn", "PushOptIn"]
    rates = (cu[columns] == "yes").mean().to_numpy()
    assert np.allclose(rates, [0.75, 0.40, 0.30, 0.55, 0.35], atol=0.05)
    assert cu[columns].isin(["yes", "no"]).all().all()
    of_preferred = [cu.loc[cu.PreferredChannel == ch, col].eq("yes").mean()
                    for ch, col in zip(synth.CONTACT_CHANNELS, columns, strict=True)]
    assert min(of_preferred) > 0.9


def test_write_parquet_round_trips(data: synth.SynthData, tmp_path: Path) -> None:
    tx_path, cu_path = synth.write(data, tmp_path, fmt="parquet")
    assert tx_path.name == "transactions.parquet" and cu_path.name == "customers.parquet"
    back = pd.read_parquet(tx_path)
    assert len(back) == len(data.transactions)
    assert (back.NetAmount.to_numpy() == data.transactions.NetAmount.to_numpy()).all()
    assert list(back.OrderID[:5]) == list(data.transactions.OrderID[:5])


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        synth.generate(0)
    with pytest.raises(ValueError):
        synth.generate(10, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 1))
    with pytest.raises(ValueError):
        synth.write(synth.generate(10), tmp_path, fmt="xlsx")  # type: ignore[arg-type]
