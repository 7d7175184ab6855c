"""The learnt expected response (README "Learning"): the uplift of a contact is measured by
intention to treat against the holdout, counted in distinct customers, shrunk towards the
declared rate as the prior of the uplift, and a learnt figure never locks a campaign out.
Planted histories, on SQLite and PostgreSQL (review 14, findings A and B)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.activation.allocate import NO_CHANNEL, allocate, build_options
from engine.activation.learned import INCREMENTAL, POSTERIOR, Learned, describe
from engine.history.learn import learn
from engine.history.record import record_run
from engine.history.responses import import_responses
from engine.history.settings import parse
from engine.history.store import Store, open_store
from engine.project.channels import Campaign, Channel, ChannelSetup, Learning
from tests.test_learning import transactions

# one group of a planted run: (campaign, channel or None, status, customer ids, converted:
# the first ``converted`` of the ids converted in the run's window)
Group = tuple[str, str | None, str, list[str], int]


def ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{i:05d}" for i in range(n)]


def channel(cid: str, rate: float) -> Channel:
    return Channel(cid, cid, 1.0, 100_000, None, 0.0, rate, ("standard",), None, (), "")


def setup_of(rates: list[tuple[str, float]], prior: int = 100) -> ChannelSetup:
    default = Campaign("*", "", None, 0.1, "clv_discounted", "", (), 30)
    return ChannelSetup(tuple(channel(c, r) for c, r in rates), 1.5, "s", default, {}, (),
                        0.5, Learning(True, prior))


def plant(store: Store, runs: dict[str, list[Group]], tmp_path: Path) -> list[str]:
    """Record one run per as-of date and import its conversions (3 days after the run)."""
    every: set[str] = set()
    answers = []
    for as_of, groups in sorted(runs.items()):
        rows = []
        for campaign, chan, status, who, converted in groups:
            held = status == "holdout"
            rows.append(pd.DataFrame({
                "customer_id": who, "value_tier": "gold", "lifecycle_stage": "maturity",
                "total_value": 100.0, "value_score": 50.0, "action": "act",
                "campaign": campaign, "policy_id": campaign, "channel": chan,
                "status": status, "holdout": held, "cost": 1.0 if chan else 0.0,
                "value_at_stake": 100.0, "expected_response": 0.0}))
            every |= set(who)
            day = (dt.date.fromisoformat(as_of) + dt.timedelta(days=3)).isoformat()
            answers += [(c, campaign, day, "converted") for c in who[:converted]]
        record_run(store, run_id=as_of, as_of=dt.date.fromisoformat(as_of), project="test",
                   inputs={}, snapshot=pd.concat(rows, ignore_index=True))
    path = tmp_path / "responses.csv"
    pd.DataFrame(answers, columns=["customer_id", "campaign", "date", "outcome"]).to_csv(
        path, index=False)
    import_responses(store, path, "responses.csv")
    return sorted(every)


def learnt(history_url: str, tmp_path: Path, runs: dict[str, list[Group]],
           setup: ChannelSetup, campaigns: list[str],
           more: dict[str, list[Group]] | None = None) -> tuple[Learned, Learned | None]:
    """What a run on 2025-09-01 learns from ``runs``, and, when given, after ``more`` runs
    are recorded too."""
    store = open_store(parse(history_url, tmp_path, source="test"), create=True)
    assert store is not None

    def now(every: list[str]) -> Learned:
        return learn(store, transactions(every, "2025-09-01"), setup,
                     as_of=dt.date(2025, 9, 1), campaigns=campaigns, source="the history")

    try:
        every = plant(store, runs, tmp_path)
        if more is None:
            return now(every), None
        first = now(every)
        return first, now(sorted(set(every) | set(plant(store, more, tmp_path))))
    finally:
        store.close()


REVIEW = [("call_centre", 0.15), ("email", 0.03), ("sms", 0.04)]


def test_a_real_uplift_is_learnt_shrunk_towards_the_prior(history_url: str,
                                                          tmp_path: Path) -> None:
    # review 14 (A): email converted 30 of 100 against a holdout of 8 of 40 (+10 points)
    runs = {"2025-03-01": [("win_back", "email", "allocated", ids("e", 100), 30),
                           ("win_back", None, "holdout", ids("h", 40), 8)]}
    got, _ = learnt(history_url, tmp_path, runs, setup_of(REVIEW), ["win_back"])
    fig = got.campaigns["win_back"]
    assert fig.figure == INCREMENTAL and fig.baseline == pytest.approx(0.2)
    call, email, sms = fig.channels
    # (100 x 0.03 + 100 x (0.30 - 0.20)) / (100 + 100): the measured +0.10 met the prior 0.03
    assert email.measured == pytest.approx(0.10)
    assert email.posterior == pytest.approx(0.065) and email.response == pytest.approx(0.065)
    # channels never contacted keep the declared rates, not 0
    assert (call.response, sms.response) == pytest.approx((0.15, 0.04))


def test_a_holdout_without_contacts_keeps_the_declared_rates(history_url: str,
                                                            tmp_path: Path) -> None:
    # review 14 (A): a holdout measured, nobody contacted (all not served): nothing to learn
    runs = {"2025-03-01": [("win_back", None, "not_served", ids("n", 100), 20),
                           ("win_back", None, "holdout", ids("h", 40), 8)]}
    got, _ = learnt(history_url, tmp_path, runs, setup_of(REVIEW), ["win_back"])
    fig = got.campaigns["win_back"]
    assert fig.rates().tolist() == [0.15, 0.03, 0.04]
    assert fig.figure == "declared"


def test_a_campaign_without_effect_learns_no_uplift_from_selected_contacts(
        history_url: str, tmp_path: Path) -> None:
    # review 14 (B): the capacity went to the high-value 30%, who convert at 30% contacted or
    # not; the others at 5%. The contact does nothing. The holdout has the same mix.
    runs = {"2025-03-01": [
        ("dud", "email", "allocated", ids("hi", 2700), 810),
        ("dud", None, "not_served", ids("lo", 6300), 315),
        ("dud", None, "holdout", ids("hh", 300), 90),
        ("dud", None, "holdout", ids("hl", 700), 35)]}
    got, _ = learnt(history_url, tmp_path, runs, setup_of([("email", 0.05)]), ["dud"])
    fig = got.campaigns["dud"]
    # h = 125 / 1000; contacted share k = 0.3; not contacted q = 0.05;
    # baseline of the contacted b = (0.125 - 0.7 x 0.05) / 0.3 = 0.3 = their own rate
    assert fig.figure == INCREMENTAL
    assert fig.baseline == pytest.approx(0.125)
    assert fig.contacted_baseline == pytest.approx(0.3)
    email = fig.channels[0]
    assert email.measured == pytest.approx(0.0, abs=1e-12)
    # the posterior is the prior's share alone: 100 x 0.05 / (100 + 2700)
    assert email.posterior == pytest.approx(5 / 2800)
    # comparing the contacted with the holdout would have said +17.5 points
    assert email.converted / email.windows - fig.baseline == pytest.approx(0.175)


def test_a_random_no_effect_campaign_learns_no_uplift() -> None:
    """The same, drawn: 200 seeds of a no-effect campaign whose contacts go to the customers
    most likely to buy anyway; the measured uplift averages 0 (the old comparison of the
    contacted with the holdout: +0.17)."""
    from engine.activation.learned import Counts, Tally, figures

    found = []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        base = np.where(rng.random(4000) < 0.3, 0.3, 0.05)
        held = rng.random(4000) < 0.1
        contacted = ~held & (base > 0.1)  # capacity: the high-value customers
        bought = rng.random(4000) < base  # the contact changes nothing

        def tally(mask: np.ndarray, bought: np.ndarray = bought) -> Tally:
            n = int(mask.sum())
            return Tally(n, n, int(bought[mask].sum()))

        counts = Counts({"email": tally(contacted)}, tally(contacted), tally(~held),
                        tally(held))
        found.append(figures("dud", [("email", 0.05)], counts, 0).channels[0].measured)
    assert abs(float(np.mean(found))) < 0.01


def test_the_holdout_counts_distinct_customers(history_url: str, tmp_path: Path) -> None:
    # review 14 (B): the same 10 holdout customers in 3 runs are 10 customers, not 30
    same = ids("h", 10)
    runs = {day: [("win_back", "email", "allocated", ids(f"e{day}", 50), 10),
                  ("win_back", None, "holdout", same, 1)]
            for day in ("2025-03-01", "2025-04-01", "2025-05-01")}
    got, _ = learnt(history_url, tmp_path, runs, setup_of(REVIEW), ["win_back"])
    fig = got.campaigns["win_back"]
    assert fig.figure == POSTERIOR  # 10 distinct customers are too few to measure
    assert (fig.holdout, fig.holdout_windows, fig.holdout_converted) == (10, 30, 3)
    email = fig.channels[1]
    assert (email.contacted, email.windows, email.converted) == (150, 150, 30)


def test_rates_are_per_window_and_weights_per_customer(history_url: str,
                                                       tmp_path: Path) -> None:
    # the same 50 customers contacted in two runs are 50 customers, as the 40 held out
    runs = {day: [("win_back", "email", "allocated", ids("e", 50), 10),
                  ("win_back", None, "holdout", ids("h", 40), 4)]
            for day in ("2025-03-01", "2025-04-01")}
    got, _ = learnt(history_url, tmp_path, runs, setup_of(REVIEW), ["win_back"])
    fig = got.campaigns["win_back"]
    assert fig.figure == INCREMENTAL
    assert (fig.holdout, fig.holdout_windows, fig.holdout_converted) == (40, 80, 8)
    email = fig.channels[1]
    assert (email.contacted, email.windows, email.converted) == (50, 100, 20)
    # (100 x 0.03 + 50 x (20 / 100 - 8 / 80)) / (100 + 50)
    assert email.posterior == pytest.approx(8 / 150)


def test_a_campaign_learnt_at_zero_is_not_locked_out(history_url: str, tmp_path: Path) -> None:
    # email converted 5 of 100 against a holdout of 4 of 40: the measured uplift is -0.05
    first = {"2025-03-01": [("dud", "email", "allocated", ids("e", 100), 5),
                            ("dud", None, "holdout", ids("h", 40), 4)]}
    more = {"2025-04-01": [("dud", "email", "allocated", ids("f", 100), 25),
                           ("dud", None, "holdout", ids("h", 40), 4)]}
    setup = setup_of([("email", 0.05)])
    got, later = learnt(history_url, tmp_path, first, setup, ["dud"], more)
    assert later is not None
    email = got.campaigns["dud"].channels[0]
    assert email.measured == pytest.approx(-0.05)
    assert email.posterior == pytest.approx(0.0)  # (100 x 0.05 - 100 x 0.05) / 200
    # the figure used keeps the prior's share: 100 x 0.05 / 200
    assert email.response == pytest.approx(0.025)
    actions = pd.DataFrame({"channels": ["email"], "service_level": "standard",
                            "campaign": ["dud"]})
    opts = build_options(actions, pd.DataFrame({"customer_id": ["A"]}), setup,
                         np.array([100.0]), got.rates())
    assert allocate(opts, setup).channel.tolist() != [NO_CHANNEL]  # 100 x 0.025 - 1 > 0
    # so its contacts go on, and when they convert the figure rises again:
    # 30 / 200 - 8 / 80 = +0.05 over 200 customers, (5 + 200 x 0.05) / 300
    email = later.campaigns["dud"].channels[0]
    assert email.measured == pytest.approx(0.05)
    assert email.response == pytest.approx(0.05)


def test_the_readme_worked_example() -> None:
    from engine.activation.learned import Counts, Tally, figures

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = " ".join(readme.split("### Learning: expected responses from the history")[1]
                       .split("\n## ")[0].split())
    counts = Counts({"email": Tally(250, 300, 70), "sms": Tally(100, 100, 10)},
                    Tally(350, 400, 80), Tally(400, 500, 85), Tally(60, 120, 9))
    got = figures("k", [("email", 0.05), ("sms", 0.02)], counts, 100)
    email, sms = got.channels
    assert got.figure == INCREMENTAL
    assert f"h = 9 / 120 = {got.baseline:g}" in section
    assert f"b = (0.075 - 0.2 x 0.05) / 0.8 = {got.contacted_baseline:g}" in section
    assert email.measured is not None and sms.measured is not None
    assert f"Email: m = 70 / 300 - 0.08125 = {email.measured:.6f}, u = (100 x 0.05 + 250 x " \
        f"{email.measured:.6f}) / (100 + 250) = {email.posterior:.6f}" in section
    assert f"sms: m = 10 / 100 - 0.08125 = {sms.measured:g}, u = (2 + 100 x " \
        f"{sms.measured:g}) / 200 = {sms.posterior:g}" in section
    assert f"would have said {70 / 300 - 0.075:.6f} on email" in section
    # the intention to treat uplift per contact: (85 / 500 - 0.075) / 0.8
    per_contact = (300 * email.measured + 100 * sms.measured) / 400
    assert per_contact == pytest.approx((85 / 500 - 0.075) / 0.8)
    worse = figures("k", [("email", 0.05), ("sms", 0.02)], Counts(
        {"email": Tally(250, 300, 70), "sms": Tally(100, 100, 5)}, Tally(350, 400, 75),
        Tally(400, 500, 80), Tally(60, 120, 9)), 100).channels[1]
    assert worse.measured is not None
    # b is unchanged (the not-served rate and the holdout are the same)
    assert f"Had sms converted 5 of 100: m = {worse.measured:g}, u = {worse.posterior:g}, " \
        f"and the figure used 2 / 200 = {worse.response:g}" in section


def test_explain_and_plan_say_which_figure_and_from_how_many() -> None:
    from engine.activation.learned import Counts, Learned, Tally, compare_rows, describe, figures

    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text().split())
    counts = Counts({"email": Tally(250, 300, 70), "sms": Tally(100, 100, 10)},
                    Tally(350, 400, 80), Tally(400, 500, 85), Tally(60, 120, 9))
    got = figures("k", [("email", 0.05), ("sms", 0.02)], counts, 100)
    text = describe(got, ["email"])
    assert text == ("incremental from 350 customers contacted of 400 assigned, against a "
                    "holdout of 60 (9 of 120 windows converted: 0.0750; the contacted's "
                    "baseline, had they not been contacted: 0.0813): email 0.1229 (declared "
                    "0.05; 250 customers, 70 of 300 windows converted, measured uplift "
                    "+0.1521)")
    assert f"(`{text}`;" in readme
    before = Learned(True, 100, "the history", 2, {"k": got})
    row = compare_rows(before, before)[0]
    assert row[1] == "incremental from 350 contacted, holdout 60: email 0.1229, sms 0.0194"
    assert f"`{row[1]}`" in readme
    # too few held out: the raw posterior, saying why; nothing contacted: the declared rates
    few = figures("k", [("email", 0.05)], Counts({"email": Tally(250, 300, 70)},
                  Tally(250, 300, 70), Tally(250, 300, 70), Tally(10, 30, 3)), 100)
    assert describe(few) == (
        "posterior of the raw response from 250 customers contacted (the holdout's 10 "
        "customers are too few for a baseline: 30 needed): email 0.1810 (declared 0.05; 250 "
        "customers, 70 of 300 windows converted, measured rate 0.2333)")
    one = figures("k", [("email", 0.05)], Counts({"email": Tally(1, 1, 1)}, Tally(1, 1, 1),
                  Tally(1, 1, 1), Tally(1, 1, 0)), 100)
    assert describe(one).startswith(  # not "1 customers are"
        "posterior of the raw response from 1 customer contacted (the holdout's 1 customer is "
        "too few for a baseline: 30 needed)")
    alone = figures("k", [("email", 0.05)], Counts({"email": Tally(1, 1, 1)}, Tally(1, 1, 1),
                    Tally(40, 40, 5), Tally(30, 30, 3)), 100)
    assert describe(alone).startswith("incremental from 1 customer contacted of 40 assigned")
    none = figures("k", [("email", 0.05)], Counts(holdout=Tally(40, 40, 8)), 100)
    assert describe(none) == "the declared rates (no contact measured yet): email 0.0500"
    assert describe(figures("k", [("email", 0.05)], None, 100)) == \
        "the declared rates (nothing measured yet): email 0.0500"


def test_the_worked_example_from_a_planted_history(history_url: str, tmp_path: Path) -> None:
    """The README's counts, recorded as two runs: 50 email customers contacted in both, the
    same 50 not served twice, the same 60 held out twice."""
    email, sms, rest, held = ids("e", 250), ids("s", 100), ids("n", 50), ids("h", 60)
    runs = {"2025-03-01": [("k", "email", "allocated", email[:150], 35),
                           ("k", "sms", "allocated", sms[:50], 5),
                           ("k", None, "not_served", rest, 3),
                           ("k", None, "holdout", held, 5)],
            "2025-04-01": [("k", "email", "allocated", email[100:], 35),
                           ("k", "sms", "allocated", sms[50:], 5),
                           ("k", None, "suppressed", rest, 2),
                           ("k", None, "holdout", held, 4)]}
    got, _ = learnt(history_url, tmp_path, runs, setup_of([("email", 0.05), ("sms", 0.02)]),
                    ["k"])
    fig = got.campaigns["k"]
    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text().split())
    assert f"(`{describe(fig, ['email'])}`;" in readme
    assert [f.posterior for f in fig.channels] == pytest.approx([0.122917, 0.019375], abs=1e-6)


def test_explain_json_carries_the_counts_under_schema_3() -> None:
    import json

    import jsonschema

    from engine.activation.learned import Counts, Tally, figures
    from engine.workflow.json_output import SCHEMA_VERSIONS, plain, schema_path

    schema = json.loads(schema_path("explain").read_text())
    # version 4 added the model figures (issue 15), 5 the opt-out (issue 13), 6 the campaign's
    # runs counted and waiting, 8 allocation.reason null without an action
    assert SCHEMA_VERSIONS["explain"] == schema["properties"]["schema_version"]["const"] == 8
    counts = Counts({"email": Tally(250, 300, 70), "sms": Tally(100, 100, 10)},
                    Tally(350, 400, 80), Tally(400, 500, 85), Tally(60, 120, 9))
    got = figures("k", [("email", 0.05), ("sms", 0.02), ("call_centre", 0.1)], counts, 100)
    doc = plain({"campaign": "k", "source": "the history", "runs_measured": 2, **got.as_dict()})
    jsonschema.validate(doc, schema["properties"]["expected_response"],
                        cls=jsonschema.Draft202012Validator)
    assert {k: doc[k] for k in ("holdout", "holdout_windows", "assigned", "contacted",
                                "contacted_share", "contacted_baseline")} == {
        "holdout": 60, "holdout_windows": 120, "assigned": 400, "contacted": 350,
        "contacted_share": 0.8, "contacted_baseline": 0.08125}
    assert doc["channels"]["call_centre"] == {
        "declared": 0.1, "contacted": 0, "windows": 0, "converted": 0, "measured": None,
        "posterior": 0.1, "response": 0.1}
