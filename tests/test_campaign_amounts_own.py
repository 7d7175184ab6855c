"""A campaign's amounts depend on its own contacts only (session 27, the new user's find):
the allocation summary apportioned the run's total among the campaigns by largest remainder,
so a campaign whose contacts did not change could move by a cent when another campaign did
(the cdnow example: disabling develop_growth moved win_back's direct-mail expected value from
1,769.85 to 1,769.84, and `cvm plan` reported win_back's brief as changed). Each campaign is
now its exact sum rounded once, half up; the run's total is the sum of its campaigns; the
channel rows are apportioned to that total, a campaign's channel rows to the campaign."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from engine.render.brief_data import campaign_contexts
from engine.run.pipeline import allocation_summary
from tests.conftest import copy_example_project
from tests.test_money_totals import ROWS, SETUP, _actions, _level

ROOT = Path(__file__).resolve().parents[1]


def _brief_amounts(rows: list[tuple[str, str, float]]) -> dict[str, Any]:
    actions = _actions(rows).assign(policy_id="p", value_at_stake=1.0, reason="p",
                                    lifecycle_stage="s", value_tier="t", offer=None)
    actions["customer_id"] = [f"C{k}" for k in range(len(actions))]
    rulebook: Any = SimpleNamespace(policies=[])
    return {b["campaign"]["id"]: (b["expected"]["cost"], b["expected"]["value"],
                                  [(c["id"], c["cost"], c["expected_value"])
                                   for c in b["channels"]])
            for b in campaign_contexts(actions, rulebook, SETUP, run={})}


def _campaign_rows(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    summary = allocation_summary(_actions(rows), SETUP)
    return summary[summary["level"].isin(["campaign", "campaign_channel"])].reset_index(
        drop=True)


def test_a_campaigns_amounts_do_not_move_when_another_campaign_changes() -> None:
    without_c = [r for r in ROWS if r[0] != "c"]
    both, alone = _brief_amounts(ROWS), _brief_amounts(without_c)
    assert both["b"] == alone["b"] and both["a"] == alone["a"]
    assert both["a"][:2] == both["b"][:2] == (302.13, 906.38)  # 302.125, 906.375: half up
    rows_both, rows_alone = _campaign_rows(ROWS), _campaign_rows(without_c)
    kept = rows_both[rows_both["campaign"] != "c"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, rows_alone)


def test_the_total_is_the_sum_of_the_campaigns_and_the_channels_add_up_to_it() -> None:
    summary = allocation_summary(_actions(ROWS), SETUP)
    campaigns = _level(summary, "campaign").set_index("campaign")["cost"]
    assert campaigns.to_dict() == {"a": 302.13, "b": 302.13, "c": 0.01}  # each half up
    assert round(_level(summary, "channel")["cost"].sum(), 2) == 604.27 == round(
        campaigns.sum(), 2)


def test_plan_reports_no_brief_change_for_a_campaign_left_alone(tmp_path: Path) -> None:
    project = tmp_path / "cdnow"
    shutil.copytree(ROOT / "examples" / "cdnow", project,
                    ignore=shutil.ignore_patterns("output", "*.sqlite"))
    proposed = tmp_path / "proposed" / "policies"
    proposed.mkdir(parents=True)
    text = (project / "policies" / "develop_growth.yaml").read_text()
    (proposed / "develop_growth.yaml").write_text(
        text.replace("\npriority:", "\nenabled: false\npriority:", 1))
    done = CliRunner().invoke(app, ["plan", "--project", str(project), "--proposed",
                                    str(proposed.parent), "--overlay", "--json"])
    assert done.exit_code == 0, done.output
    briefs = {b["file"]: b["change"] for b in json.loads(done.stdout)["briefs"]}
    assert briefs == {"develop_growth.html": "no longer written",
                      "develop_growth.md": "no longer written"}



def test_one_contact_on_a_channel_is_said_in_the_singular(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    channels = project / "policies" / "channels.yaml"
    text = channels.read_text()
    assert "    capacity: 100000\n    budget: 50\n" in text
    channels.write_text(text.replace("    capacity: 100000\n    budget: 50\n",
                                     "    capacity: 1\n    budget: 50\n"))
    done = CliRunner().invoke(app, ["run", "--project", str(project), "--no-history",
                                    "--out", str(tmp_path / "out")])
    assert done.exit_code == 0, done.stderr
    assert "    app_push               1 contact (capacity 1), EUR 0.01 of EUR 50.00\n" \
        in done.stdout


def test_cents_taken_from_the_channels_never_make_one_negative() -> None:
    """Campaigns each rounded down can leave the total below the channels' floors: the cents
    are taken from the largest channel, never from one worth less than a cent (review: 3 push
    contacts at 0.004 in three campaigns and one in-app contact at 0.001 showed inapp -0.01)."""
    from engine.activation import money

    rows = [("a", "push", 0.004), ("b", "push", 0.004), ("c", "push", 0.004),
            ("d", "inapp", 0.001)]
    shown = money.breakdown(pd.Series([r[0] for r in rows]), pd.Series([r[1] for r in rows]),
                            pd.Series([r[2] for r in rows]), ["push", "inapp"],
                            ["a", "b", "c", "d"])
    assert shown.total == 0.0
    assert shown.channel == {"push": 0.0, "inapp": 0.0}
    assert money.apportion([120, 10], 0) == [0.0, 0.0]
    assert money.apportion([2_500, 120, 10], 24) == [0.24, 0.0, 0.0]  # 0.25 + 0.01 floors


def test_apportion_adds_up_never_below_zero_and_gives_nothing_to_nothing() -> None:
    """Random rows and targets a run's campaigns can make (up to a cent per campaign from the
    rows' exact sum): the rows add up to the target, none is below zero, an empty row shows
    0, and with the default target each row is within a cent of its exact figure."""
    import numpy as np

    from engine.activation import money

    rng = np.random.default_rng(7)
    for _ in range(2_000):
        parts = [int(x) for x in rng.integers(0, 3_000, rng.integers(1, 6))]
        parts = [0 if rng.random() < 0.2 else p for p in parts]
        base = money.cents(sum(parts))
        drift = int(rng.integers(-8, 9)) if any(parts) else 0  # nothing: a total of 0
        for target in {base, max(0, base + drift)}:
            shown = money.apportion(parts, target)
            assert round(sum(shown) * 100) == target
            assert all(s >= 0 for s in shown)
            assert all(s == 0 for s, p in zip(shown, parts, strict=True) if p == 0)
        assert all(abs(s * 100 - p / 100) < 1 for s, p in
                   zip(money.apportion(parts), parts, strict=True))


def test_a_channel_row_is_the_sum_of_its_campaign_cells() -> None:
    """The new user's find: half-cent push contacts in several campaigns, each campaign
    rounded up, moved the run's total; the leftover cents landed on the largest channel, so
    26 account-manager contacts at 35.00 showed 910.01. A channel row is now the sum of its
    campaign_channel cells: a channel whose contacts cost whole cents shows its exact cost, and
    a channel one campaign uses shows that campaign's brief figure."""
    from engine.activation import money

    rows = ([(camp, "push", 0.005) for camp in ("a", "b", "c")]
            + [("a", "account_manager", 35.0)] * 26 + [("d", "sms", 3.3667)] * 3)
    shown = money.breakdown(pd.Series([r[0] for r in rows]), pd.Series([r[1] for r in rows]),
                            pd.Series([r[2] for r in rows]), ["account_manager", "sms", "push"],
                            ["a", "b", "c", "d"])
    assert shown.channel["account_manager"] == 910.0
    assert shown.channel["sms"] == shown.cell["d", "sms"] == shown.campaign["d"] == 10.1
    assert shown.channel["push"] == 0.03  # three campaigns, each 0.005 rounded half up
    assert round(sum(shown.channel.values()), 2) == round(sum(shown.campaign.values()), 2) \
        == shown.total == 920.13
