"""Learning in `cvm run`, `cvm explain` and `cvm plan` on the bundled example: two runs, the
second learns from the first; the manifest says which figure each campaign used and from how
many customers; campaigns.yaml's `learning` settings are used and checked."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from engine.activation.learned import HISTORY, Learned, explain_lines, figures, posterior_mean
from engine.cli import app
from engine.workflow.json_output import schema_path
from tests.history_runs import learning_proposal, retail_copy

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def retail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = retail_copy(tmp_path)
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    return project


def cvm(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def two_runs(retail: Path, tmp_path: Path) -> tuple[pd.DataFrame, dict[str, object], Result]:
    config = (retail / "cvm.yaml").read_text()
    (retail / "cvm.yaml").write_text(config.replace("as_of: null", "as_of: 2025-09-01"))
    done = cvm("run", "--project", str(retail), "--out", str(tmp_path / "run1"), "-q")
    assert done.exit_code == 0, done.stderr
    (retail / "cvm.yaml").write_text(config)
    second = cvm("run", "--project", str(retail), "--out", str(tmp_path / "run2"))
    assert second.exit_code == 0, second.stderr
    manifest = json.loads((tmp_path / "run2" / "manifest.json").read_text())
    return pd.read_csv(tmp_path / "run1" / "actions.csv"), manifest, second


def test_the_second_run_learns_from_the_first(retail: Path, tmp_path: Path) -> None:
    first, manifest, shown = two_runs(retail, tmp_path)
    learning = manifest["learning"]
    assert (learning["enabled"], learning["prior_customers"]) == (True, 100)
    assert learning["source"] == "the history" and learning["runs_counted"] == 1
    channels = json.loads(json.dumps(manifest["allocation"]))  # the manifest is plain JSON
    assert channels
    seen = 0
    for campaign, got in learning["campaigns"].items():
        mine = first[first["campaign"] == campaign]
        assert got["holdout"] == got["holdout_windows"] == int(mine["holdout"].sum())
        assert got["assigned"] == int((~mine["holdout"]).sum())
        assert got["contacted"] == int((mine["status"] == "allocated").sum())
        kind = "declared" if not got["contacted"] else \
            "incremental" if got["holdout"] >= 30 else "posterior"
        assert got["figure"] == kind
        b = got["contacted_baseline"] if kind == "incremental" else 0.0
        for channel, fig in got["channels"].items():
            contacted = int(((mine["status"] == "allocated") & (mine["channel"] == channel)).sum())
            assert fig["contacted"] == fig["windows"] == contacted
            assert 0 <= fig["converted"] <= contacted
            if not contacted:
                assert fig["measured"] is None and fig["response"] == fig["declared"]
                continue
            m = fig["converted"] / contacted - b
            assert fig["measured"] == pytest.approx(m, abs=1e-6)
            assert fig["posterior"] == pytest.approx(posterior_mean(
                fig["declared"], 100, contacted, m), abs=1e-6)
            assert fig["response"] == pytest.approx(posterior_mean(
                fig["declared"], 100, contacted, max(m, 0.0) if kind == "incremental" else m),
                abs=1e-6)
            seen += contacted
        if kind == "incremental":
            rate = got["holdout_converted"] / got["holdout_windows"]
            assert got["holdout_rate"] == pytest.approx(rate, abs=1e-6)
    assert seen > 0
    kinds = [c["figure"] for c in learning["campaigns"].values()]
    assert (f"  learning: {len(kinds)} campaigns, {kinds.count('incremental')} on incremental "
            f"response, {kinds.count('posterior')} on a posterior, {kinds.count('declared')} "
            "on the declared rates (1 run measured)") in shown.stdout
    # the action list's expected response is the learnt figure (times the preference lift)
    acts = pd.read_csv(tmp_path / "run2" / "actions.csv")
    done = acts[acts["status"] == "allocated"]
    lift = 1.5
    for row in done.head(200).itertuples():
        base = learning["campaigns"][row.campaign]["channels"][row.channel]["response"]
        assert row.expected_response in (pytest.approx(base, abs=1e-6),
                                          pytest.approx(base * lift, abs=1e-6))


def _incremental_customer(retail: Path, tmp_path: Path) -> tuple[dict[str, Any], pd.Series]:
    """After two runs: the second run's learnt figures per campaign, and an action list row
    of a customer contacted for a campaign on incremental response."""
    _, manifest, _ = two_runs(retail, tmp_path)
    learnt = manifest["learning"]["campaigns"]  # type: ignore[index]
    acts = pd.read_csv(tmp_path / "run2" / "actions.csv")
    done = acts[acts["status"] == "allocated"]
    row = done[done["campaign"].map(lambda k: learnt[k]["figure"] == "incremental")].iloc[0]
    return learnt, row


def test_learning_off_uses_the_declared_rates(retail: Path, tmp_path: Path) -> None:
    with (retail / "policies" / "campaigns.yaml").open("a") as f:
        f.write("learning:\n  enabled: false\n")
    _, manifest, shown = two_runs(retail, tmp_path)
    learning = manifest["learning"]
    assert learning["enabled"] is False and learning["runs_counted"] == 0
    assert {c["figure"] for c in learning["campaigns"].values()} == {"declared"}
    assert "  learning: off (off: learning.enabled is false in policies/campaigns.yaml; the " \
        "declared rates are used)" in shown.stdout


def test_explain_and_plan_show_the_figures(retail: Path, tmp_path: Path) -> None:
    learnt, row = _incremental_customer(retail, tmp_path)
    shown = cvm("explain", row["customer_id"], "--project", str(retail))
    assert shown.exit_code == 0, shown.stderr
    got = learnt[row["campaign"]]
    b = f"{got['contacted_baseline']:.4f}"
    assert f"Expected response, campaign {row['campaign']} (the history: 1 run of this " \
        "campaign measured): " \
        f"incremental from {got['contacted']:,} customers contacted of {got['assigned']:,} " \
        f"assigned, against a holdout of {got['holdout']:,} ({got['holdout_converted']:,} of " \
        f"{got['holdout_windows']:,} windows converted: {got['holdout_rate']:.4f}; the " \
        f"contacted's baseline, had they not been contacted: {b}): " in shown.stdout
    fig = got["channels"][row["channel"]]
    assert f"{row['channel']} {fig['response']:.4f} (declared {fig['declared']:g}; " \
        f"{fig['contacted']:,} customers, {fig['converted']:,} of {fig['windows']:,} windows " \
        f"converted, measured uplift {fig['measured']:+.4f}" \
        f"{', counted as 0' if fig['measured'] < 0 else ''})" in shown.stdout
    proposal = learning_proposal(retail, tmp_path)
    plan = cvm("plan", "--project", str(retail), "--proposed", str(proposal))
    assert plan.exit_code == 0, plan.stderr
    assert "Expected responses learnt from the history" in plan.stdout
    # filed under campaigns, whose file sets it (issue 13 trial: under channels)
    assert re.search(r"\n  campaigns +learning\.prior_customers: 100 -> 0\n", plan.stdout), \
        plan.stdout
    table = plan.stdout.split("Expected responses learnt from the history", 1)[1]
    k = row["campaign"]
    assert f"incremental from {got['contacted']:,} contacted, holdout {got['holdout']:,}: " \
        in table.split(f"\n  {k} ", 1)[1].splitlines()[0]
    # --no-history: as `cvm run --no-history` decides (before, explain read the history and
    # showed learnt figures and counted contacts such a run had not used: a new user's trial)
    alone = cvm("explain", row["customer_id"], "--project", str(retail), "--no-history")
    assert alone.exit_code == 0, alone.stderr
    assert f"Expected response, campaign {k} (--no-history): the declared rates: " \
        in alone.stdout
    # the reason where the count goes (before: "contacts from none: --no-history, contact
    # policies have nothing to count: 0 counted for this customer", a new user's trial)
    assert "Contact policies (policies/contact_policies.yaml; no contacts counted: " \
        "--no-history)\n" in alone.stdout
    # the value-change attributes take their first-run values: no previous tier
    assert "previous_tier is missing" in alone.stdout
    assert "previous_tier is missing" not in shown.stdout


def _windows(retail: Path, days: int, short: str = "", short_days: int = 30) -> None:
    """Every campaign's attribution window ``days`` long, but ``short``'s ``short_days``."""
    path = retail / "policies" / "campaigns.yaml"
    text = path.read_text().replace("campaigns:\n", f"attribution_days: {days}\ncampaigns:\n", 1)
    if short:
        text = text.replace(f"  {short}:\n", f"  {short}:\n    attribution_days: {short_days}\n", 1)
    path.write_text(text)


def test_a_campaign_not_yet_measured_says_when_its_run_counts(retail: Path,
                                                             tmp_path: Path) -> None:
    """The first run (2025-09-01) is over for win_back (30 days) by the second (2026-01-01),
    not for the other campaigns (200 days): the run says 1 run measured, and explain says, per
    campaign, whether it was measured and from when a run waiting for its window counts
    (before: "(the history; 0 runs measured)" beside the run's "1 run measured")."""
    _windows(retail, 200, short="win_back")
    _, manifest, shown = two_runs(retail, tmp_path)
    learning = manifest["learning"]
    assert learning["runs_counted"] == 1 and learning["runs_waiting"] == 0  # type: ignore[index]
    waiting = sum(1 for c in learning["campaigns"].values()  # type: ignore[union-attr]
                  if c["runs_waiting"] and not c["runs_counted"])
    # the campaigns on the declared rates because their window is open, and from when
    assert waiting >= 1 and ("on the declared rates (1 run measured; "
                             f"{waiting} campaign{'s' if waiting > 1 else ''} waiting for "
                             f"{'their' if waiting > 1 else 'its'} attribution window"
                             f"{'s' if waiting > 1 else ''}, "
                             f"{'the first ' if waiting > 1 else ''}counted from 2026-03-20)"
                             ) in shown.stdout
    camps = learning["campaigns"]  # type: ignore[index]
    assert (camps["win_back"]["runs_counted"], camps["win_back"]["runs_waiting"]) == (1, 0)
    assert camps["win_back"]["next_counted_from"] is None
    acts = pd.read_csv(tmp_path / "run2" / "actions.csv")
    done = acts[acts["status"] == "allocated"]
    waiting = done[done["campaign"] != "win_back"].iloc[0]
    k = waiting["campaign"]
    assert (camps[k]["runs_counted"], camps[k]["runs_waiting"]) == (0, 1)
    assert camps[k]["next_counted_from"] == "2026-03-20" and camps[k]["figure"] == "declared"
    shown = cvm("explain", waiting["customer_id"], "--project", str(retail))
    assert shown.exit_code == 0, shown.stderr
    assert f"Expected response, campaign {k} (the history: no run of this campaign measured " \
        "yet; 1 more recorded, counted from 2026-03-20, once its attribution window is over): " \
        "the declared rates (nothing measured yet): " in shown.stdout
    back = done[done["campaign"] == "win_back"].iloc[0]
    shown = cvm("explain", back["customer_id"], "--project", str(retail))
    assert "Expected response, campaign win_back (the history: 1 run of this campaign " \
        "measured): " in shown.stdout
    doc = json.loads(cvm("explain", waiting["customer_id"], "--project", str(retail),
                         "--json").stdout)
    jsonschema.validate(doc, json.loads(schema_path("explain").read_text()),
                        cls=jsonschema.Draft202012Validator)
    data = doc["expected_response"]
    assert (data["runs_measured"], data["runs_counted"], data["runs_waiting"],
            data["next_counted_from"]) == (0, 0, 1, "2026-03-20")


def test_a_run_whose_windows_are_not_over_is_said_to_wait(retail: Path, tmp_path: Path) -> None:
    """Every window 200 days: the first run counts for none yet, and the second run says which
    campaigns wait and from when (before: "(0 runs measured)", as if there were no run)."""
    _windows(retail, 200)
    _, manifest, shown = two_runs(retail, tmp_path)
    assert (manifest["learning"]["runs_counted"],  # type: ignore[index]
            manifest["learning"]["runs_waiting"]) == (0, 1)  # type: ignore[index]
    assert re.search(r"on the declared rates \(0 runs measured; [2-9] campaigns waiting for "
                     r"their attribution windows, the first counted from 2026-03-20\)",
                     shown.stdout), shown.stdout


def test_without_a_history_the_reason_is_given_not_a_run_count(retail: Path,
                                                               tmp_path: Path) -> None:
    """--no-history and a first run printed the same "(0 runs measured)", and explain "no
    history yet; 0 runs measured" (a new user's trial): each gives the reason, as the
    manifest's source does."""
    alone = cvm("run", "--project", str(retail), "--out", str(tmp_path / "a"), "--no-history")
    assert alone.exit_code == 0, alone.stderr
    # the reason once (before: "on the declared rates (none: --no-history, the declared
    # response rates are used)", the declared rates said twice)
    assert "on the declared rates (--no-history)\n" in alone.stdout
    rows = pd.read_csv(tmp_path / "a" / "actions.csv")
    row = rows[rows["status"] == "allocated"].iloc[0]
    shown = cvm("explain", row["customer_id"], "--project", str(retail))
    assert f"Expected response, campaign {row['campaign']} (no history yet): the declared " \
        "rates: " in shown.stdout
    assert "Contact policies (policies/contact_policies.yaml; no contacts counted: " \
        "no history yet)\n" in shown.stdout
    first = cvm("run", "--project", str(retail), "--out", str(tmp_path / "b"))
    assert first.exit_code == 0, first.stderr
    assert "on the declared rates (no history yet)\n" in first.stdout
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["learning"]["source"] == "none: no history yet"
    assert manifest["learning"]["runs_earlier"] is None
    # a history now, but no run dated before this one's as-of date: why none was measured
    # (before: "(0 runs measured)" and no reason)
    again = cvm("run", "--project", str(retail), "--out", str(tmp_path / "c"))
    assert again.exit_code == 0, again.stderr
    assert "on the declared rates (0 runs measured: no run in the history is dated before " \
        "this run's as-of date)\n" in again.stdout
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert (manifest["learning"]["runs_earlier"], manifest["learning"]["runs_counted"]) == (0, 0)


def test_earlier_runs_that_assigned_none_of_the_campaigns_are_said() -> None:
    """Runs dated before the as-of date that assigned none of this run's campaigns: said so,
    not left as a bare "(0 runs measured)"."""
    from engine.activation.learned import HISTORY, NO_HISTORY_FLAG, NO_HISTORY_YET, Learned
    from engine.history.learn import OFF

    learned = Learned(True, 100, HISTORY, 0, {}, 0, 2)
    assert learned.summary().endswith(
        "on the declared rates (0 runs measured: the 2 runs read (the latest per as-of date "
        "before this run's) assigned none of these campaigns)")
    assert learned.as_dict()["runs_earlier"] == 2
    # not read: null, not 0 (a review: the history may hold runs)
    for source in (NO_HISTORY_FLAG, NO_HISTORY_YET, OFF):
        assert Learned(True, 100, source).as_dict()["runs_earlier"] is None
    one = Learned(True, 100, HISTORY, 1, {}, 0, 3)
    assert one.summary().endswith("on the declared rates (1 run measured)")


def test_explain_s_figures_read_as_their_kind() -> None:
    """One customer, not "1 customers"; a raw rate without a sign (it is no uplift); a negative
    uplift said to count as 0 (a new user could not see how the figure followed from it)."""
    from engine.activation.learned import Counts, Tally, describe

    one = figures("k", [("email", 0.05)], Counts({"email": Tally(1, 1, 1)}, Tally(1, 1, 1),
                  Tally(1, 1, 1), Tally(1, 1, 0)), 100)
    assert describe(one).endswith("email 0.0594 (declared 0.05; 1 customer, 1 of 1 windows "
                                  "converted, measured rate 1.0000)")
    worse = figures("k", [("email", 0.05), ("sms", 0.02)], Counts(
        {"email": Tally(250, 300, 70), "sms": Tally(100, 100, 5)}, Tally(350, 400, 75),
        Tally(400, 500, 80), Tally(60, 120, 9)), 100)
    assert describe(worse, ["sms"]).endswith(
        "sms 0.0100 (declared 0.02; 100 customers, 5 of 100 windows converted, measured uplift "
        "-0.0312, counted as 0)")
    # an uplift below 0 that prints as -0.0000: not said to be counted as 0
    from dataclasses import replace

    tiny = replace(worse, channels=(replace(worse.channels[1], measured=-0.00001),))
    assert describe(tiny).endswith("measured uplift -0.0000)")


def test_a_campaign_no_earlier_run_assigned_says_so() -> None:
    found = figures("k", [("email", 0.05)], None, 100)
    lines = explain_lines(Learned(True, 100, HISTORY, 2, {"k": found}), "k", ["email"])
    assert lines[1] == "Expected response, campaign k (the history: no earlier run assigned " \
        "this campaign): the declared rates (nothing measured yet): email 0.0500"


def test_learning_settings_are_checked(retail: Path) -> None:
    with (retail / "policies" / "campaigns.yaml").open("a") as f:
        f.write("learning:\n  prior_customers: -5\n  enable: false\n")
    done = cvm("validate", "--project", str(retail))
    assert done.exit_code == 1
    lines = (done.stdout + done.stderr).splitlines()
    at = sum(1 for _ in (ROOT / "policies" / "campaigns.yaml").open()) + 2
    assert f"error: policies/campaigns.yaml:{at + 1}:3: learning.enable: unknown key " \
        "'enable'" in lines
    assert f"error: policies/campaigns.yaml:{at}:20: learning.prior_customers: found -5, " \
        "expected a whole number of at least 0" in lines
