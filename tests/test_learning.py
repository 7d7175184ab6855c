"""Learning (README "Learning"): a campaign's expected response per channel moves from the
declared rate to the posterior of what the history measured, and the allocation uses the uplift
over the holdout once the holdout is measured. On SQLite and PostgreSQL. The estimator's own
cases (intention to treat, distinct customers, no lock-out): tests/test_learn_fix.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from engine.activation.allocate import NO_CHANNEL, allocate, build_options
from engine.activation.learned import (
    INCREMENTAL,
    POSTERIOR,
    Counts,
    Learned,
    Tally,
    figures,
    posterior_mean,
)
from engine.data.load import EPOCH, LoadReport, Transactions
from engine.history.learn import learn
from engine.history.record import record_run
from engine.history.responses import import_responses
from engine.history.settings import parse
from engine.history.store import Store, open_store
from engine.project.channels import Campaign, Channel, ChannelSetup, Learning

# (as_of, campaign, group: a channel or "holdout", customers, of whom converted)
Plan = list[tuple[str, str, str, int, int]]
TWO_RUNS: Plan = [
    ("2025-03-01", "win_back", "email", 200, 40),
    ("2025-03-01", "win_back", "holdout", 60, 6),
    ("2025-04-01", "win_back", "email", 100, 30),
    ("2025-04-01", "win_back", "sms", 100, 10),
    ("2025-04-01", "win_back", "holdout", 60, 3),
]


def channel(cid: str, rate: float, capacity: int = 1000) -> Channel:
    return Channel(cid, cid, 1.0, capacity, None, 0.0, rate, ("standard",), None, (), "")


def setup_of(prior: int = 100, enabled: bool = True, capacity: int = 1000) -> ChannelSetup:
    default = Campaign("*", "", None, 0.1, "clv_discounted", "", (), 30)
    return ChannelSetup((channel("email", 0.05, capacity), channel("sms", 0.02, capacity)),
                        1.5, "s", default, {}, (), 0.5, Learning(enabled, prior))


def transactions(ids: list[str], as_of: str) -> Transactions:
    """One purchase per customer on 2025-01-10, before every window: no conversion comes
    from the transactions, only from the imported responses."""
    customer_ids = np.array(sorted(ids), dtype=object)
    n = len(customer_ids)
    day = (dt.date(2025, 1, 10) - EPOCH).days
    return Transactions(customer_ids, pa.array(customer_ids.tolist()), np.arange(n),
                        np.full(n, day, dtype=np.int32), np.full(n, 10.0), np.full(n, 4.0),
                        None, None, (), dt.date.fromisoformat(as_of), LoadReport("tx"))


def plant(store: Store, plan: Plan, tmp_path: Path) -> list[str]:
    """Record one run per as-of date of ``plan`` and import its conversions (dated 3 days
    after the run); return every customer id."""
    every: list[str] = []
    answers = []
    for as_of in sorted({p[0] for p in plan}):
        rows = []
        for _, campaign, group, size, converted in (p for p in plan if p[0] == as_of):
            ids = [f"{campaign}-{group}-{as_of}-{i:04d}" for i in range(size)]
            held = group == "holdout"
            rows.append(pd.DataFrame({
                "customer_id": ids, "value_tier": "gold", "lifecycle_stage": "maturity",
                "total_value": 100.0, "value_score": 50.0, "action": "act",
                "campaign": campaign, "policy_id": campaign,
                "channel": None if held else group,
                "status": "holdout" if held else "allocated", "holdout": held,
                "cost": 0.0 if held else 1.0, "value_at_stake": 100.0,
                "expected_response": 0.0}))
            every += ids
            day = dt.date.fromisoformat(as_of) + dt.timedelta(days=3)
            answers += [(c, campaign, day.isoformat(), "converted") for c in ids[:converted]]
        record_run(store, run_id=as_of, as_of=dt.date.fromisoformat(as_of), project="test",
                   inputs={}, snapshot=pd.concat(rows, ignore_index=True))
    path = tmp_path / "responses.csv"
    pd.DataFrame(answers, columns=["customer_id", "campaign", "date", "outcome"]).to_csv(
        path, index=False)
    import_responses(store, path, "responses.csv")
    return every


def planted(history_url: str, tmp_path: Path, plan: Plan) -> tuple[Store, list[str]]:
    store = open_store(parse(history_url, tmp_path, source="test"), create=True)
    assert store is not None
    return store, plant(store, plan, tmp_path)


def test_the_formula_by_hand() -> None:
    # declared 0.05 counting as 100 customers; 300 contacted, 70 converted
    assert posterior_mean(0.05, 100, 300, 70 / 300) == pytest.approx(75 / 400)
    assert posterior_mean(0.05, 0, 0, 0) == 0.05
    email, sms = Tally(300, 300, 70), Tally(100, 100, 10)
    everyone = Tally(400, 400, 80)
    got = figures("k", [("email", 0.05), ("sms", 0.02)],
                  Counts({"email": email, "sms": sms}, everyone, everyone,
                         Tally(120, 120, 9)), 100)
    assert got.figure == INCREMENTAL and got.baseline == pytest.approx(0.075)
    # the uplift shrunk towards the declared rate: (5 + 300 x (70 / 300 - 0.075)) / 400
    assert [f.posterior for f in got.channels] == pytest.approx([0.13125, 0.0225])
    assert [f.response for f in got.channels] == pytest.approx([0.13125, 0.0225])
    # 29 holdout customers are too few to measure the baseline: the raw posterior is used
    few = figures("k", [("email", 0.05)],
                  Counts({"email": email}, email, email, Tally(29, 29, 9)), 100)
    assert few.figure == POSTERIOR and few.channels[0].response == pytest.approx(0.1875)


def test_a_planted_history_moves_the_posterior(history_url: str, tmp_path: Path) -> None:
    store, ids = planted(history_url, tmp_path, TWO_RUNS)
    try:
        found = learn(store, transactions(ids, "2025-06-01"), setup_of(),
                      as_of=dt.date(2025, 6, 1), campaigns=["win_back"], source="the history")
        early = learn(store, transactions(ids, "2025-04-15"), setup_of(),
                      as_of=dt.date(2025, 4, 15), campaigns=["win_back"], source="the history")
        off = learn(store, transactions(ids, "2025-06-01"), setup_of(enabled=False),
                    as_of=dt.date(2025, 6, 1), campaigns=["win_back"], source="the history")
    finally:
        store.close()
    # by hand: holdout (6 + 3) / 120 = 0.075; everyone assigned was contacted, so the
    # contacted alone would have converted at 0.075 too; email (5 + 300 x (70 / 300 - 0.075))
    # / 400 = 0.13125, sms (2 + 100 x (0.1 - 0.075)) / 200 = 0.0225
    got = found.campaigns["win_back"]
    assert found.runs == 2 and got.figure == INCREMENTAL
    assert (got.holdout, got.holdout_windows, got.holdout_converted) == (120, 120, 9)
    email, sms = got.channels
    assert (email.contacted, email.converted, sms.contacted, sms.converted) == (300, 70, 100, 10)
    assert (email.posterior, sms.posterior) == pytest.approx((0.13125, 0.0225))
    assert (email.response, sms.response) == pytest.approx((0.13125, 0.0225))
    # on 2025-04-15 the second run's window (04-01 .. 04-30) is not over: the first run only,
    # email 40 / 200 = 0.2 against the holdout's 6 / 60 = 0.1: (5 + 200 x 0.1) / 300
    first = early.campaigns["win_back"]
    assert early.runs == 1 and first.channels[0].contacted == 200
    assert first.channels[0].posterior == pytest.approx(25 / 300)
    assert first.channels[0].response == pytest.approx(25 / 300)
    # learning off: the declared rates, whatever the history holds
    assert off.campaigns["win_back"].figure == "declared"
    assert off.rates()["win_back"].tolist() == [0.05, 0.02]
    assert found.as_dict()["campaigns"]["win_back"]["channels"]["email"] == {
        "declared": 0.05, "contacted": 300, "windows": 300, "converted": 70,
        "measured": round(70 / 300 - 0.075, 6), "posterior": 0.13125, "response": 0.13125}


# Campaign "loud" converts a lot, contacted or not; "quiet" converts because it is contacted.
RAW_VS_UPLIFT: Plan = [
    ("2025-03-01", "loud", "email", 100, 60),
    ("2025-03-01", "loud", "holdout", 40, 22),
    ("2025-03-01", "quiet", "email", 100, 30),
    ("2025-03-01", "quiet", "holdout", 40, 2),
]


def test_the_allocation_switches_to_uplift_once_measured(history_url: str,
                                                          tmp_path: Path) -> None:
    store, ids = planted(history_url, tmp_path, RAW_VS_UPLIFT)
    setup = setup_of(prior=10, capacity=1)  # one contact for two customers
    try:
        found = learn(store, transactions(ids, "2025-06-01"), setup,
                      as_of=dt.date(2025, 6, 1), campaigns=["loud", "quiet"], source="test")
    finally:
        store.close()
    loud, quiet = found.campaigns["loud"], found.campaigns["quiet"]
    # raw: loud (0.5 + 60) / 110 = 0.55 > quiet (0.5 + 30) / 110 = 0.277;
    # incremental: loud (0.5 + 100 x (0.6 - 22 / 40)) / 110 = 0.05 < quiet
    # (0.5 + 100 x (0.3 - 2 / 40)) / 110 = 0.232
    raw = {"loud": np.array([60.5 / 110, 0.02]), "quiet": np.array([30.5 / 110, 0.02])}
    assert loud.channels[0].response == pytest.approx(5.5 / 110)
    assert quiet.channels[0].response == pytest.approx(25.5 / 110)
    actions = pd.DataFrame({"channels": ["email", "email"], "service_level": "standard",
                            "campaign": ["loud", "quiet"]})
    table = pd.DataFrame({"customer_id": ["A", "B"]})
    stake = np.array([100.0, 100.0])

    def chosen(rates: dict[str, np.ndarray]) -> list[str]:
        opts = build_options(actions, table, setup, stake, rates)
        alloc = allocate(opts, setup)
        return [c for c, k in zip(["A", "B"], alloc.channel, strict=True) if k != NO_CHANNEL]

    assert chosen(raw) == ["A"]
    assert chosen(found.rates()) == ["B"]


def test_the_readme_worked_example_and_settings(tmp_path: Path) -> None:
    import re

    from engine.project.channels import load_channels
    from engine.project.schema import attribute_types

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    # the worked example: tests/test_learn_fix.py
    # the campaigns.yaml example of "Channels and campaigns", with its learning settings
    block = re.search(r"```yaml\n(holdout_share:.*?)```", readme, flags=re.S)
    channels = re.search(r"```yaml\n(preference_lift:.*?)```", readme, flags=re.S)
    assert block is not None and channels is not None
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "channels.yaml").write_text(channels.group(1))
    (tmp_path / "policies" / "campaigns.yaml").write_text(
        block.group(1).replace("prior_customers: 100", "prior_customers: 40"))
    setup = load_channels(tmp_path, attribute_types(consents=["phone"]))
    assert setup.learning == Learning(True, 40)


def test_a_raw_rate_far_above_the_declared_one_is_noted() -> None:
    """A new user's develop_growth (holdout of 9) learnt sms 0.2486 against 0.04 declared, its
    raw buying rate, while cvm measure showed no uplift; nothing on screen said so."""
    sms = Tally(77, 77, 19)
    few = figures("develop_growth", [("sms", 0.04), ("email", 0.03)],
                  Counts({"sms": sms}, sms, sms, Tally(9, 9, 5)), 0)
    measured = figures("win_back", [("email", 0.03)],
                       Counts({"email": sms}, sms, sms, Tally(40, 40, 2)), 0)
    learned = Learned(True, 0, "history", 1, {"develop_growth": few, "win_back": measured})
    assert learned.notes() == [
        "learning: develop_growth's sms response 0.2468 is 6.2 times its declared 0.04: the "
        "raw purchase rate of 77 customers contacted, with no baseline measured (the holdout "
        "has 9, 30 measure one); it counts purchases the campaign did not cause"]
