"""Every figure in a campaign brief is computed from the action list's counts; the holdout is
compared with the whole treated audience (intention to treat); an undeclared campaign says so."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from engine.activation.actions_schema import NAMES
from engine.cli import app
from engine.project.config import load_config
from engine.render.brief_data import campaign_contexts
from engine.render.briefs import render
from engine.run.build import load_setup
from tests.conftest import copy_example_project

ROOT = Path(__file__).resolve().parents[1]
RUN = {"run_id": "r", "as_of": "2026-01-01", "currency": "EUR", "project": "t"}


def _actions(campaign: str, allocated: int, holdout: int, not_served: int) -> pd.DataFrame:
    n = allocated + holdout + not_served
    status = ["allocated"] * allocated + ["holdout"] * holdout + ["not_served"] * not_served
    frame = pd.DataFrame({name: [None] * n for name in NAMES})
    return frame.assign(
        customer_id=[f"C{i:06d}" for i in range(n)], campaign=campaign, action="retain",
        policy_id="retain_high_value", priority=90, status=status,
        holdout=[s == "holdout" for s in status],
        channel=["email" if s == "allocated" else None for s in status],
        cost=[0.02 if s == "allocated" else 0.0 for s in status], expected_value=1.0,
        expected_response=0.03, value_at_stake=10.0, value_tier="gold",
        lifecycle_stage="decline",
        reason=["no consented channel" if s == "not_served" else "" for s in status])


def _briefs(actions: pd.DataFrame) -> dict[str, str]:
    setup = load_setup(load_config(ROOT))
    out = {}
    for ctx in campaign_contexts(actions, setup.rulebook, setup.channels, run=RUN):
        for ext in ("md", "html"):
            out[f"{ctx['campaign']['id']}.{ext}"] = render(setup.templates, f"brief.{ext}.j2", ctx)
    return out


def test_holdout_share_is_the_actual_one_and_the_comparison_is_intention_to_treat() -> None:
    briefs = _briefs(_actions("retain_high_value", 300, 30, 38))
    md = briefs["retain_high_value.md"]
    assert "30 of the 368 customers in the segment (8.2%; target 10%) are held out" in md
    assert ("everyone assigned to the campaign outside the holdout (338 customers, "
            "contacted or not)") in md
    assert "between contacted customers and the holdout" not in md
    html = briefs["retain_high_value.html"]
    assert "30 of the 368 customers in the segment (8.2%; target 10%) are held out" in html
    assert "outside the holdout (338 customers, contacted or not)" in html


def test_context_figures_follow_the_counts() -> None:
    setup = load_setup(load_config(ROOT))
    actions = _actions("retain_high_value", 7, 1, 4)
    (ctx,) = campaign_contexts(actions, setup.rulebook, setup.channels, run=RUN)
    assert ctx["holdout"]["size"] == 1
    assert ctx["holdout"]["actual_share"] == 1 / 12
    assert ctx["holdout"]["comparison_size"] == 11
    assert ctx["holdout"]["share"] == 0.10
    assert ctx["campaign"]["declared"] is True


def test_undeclared_campaign_brief_says_so(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    policy = project / "policies" / "win_back.yaml"
    policy.write_text(policy.read_text().replace("priority: 70\n",
                                                 "priority: 70\ncampaign: spring_promo\n"))
    res = CliRunner().invoke(app, ["run", "-p", str(project), "-o", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 0, res.stderr
    md = (tmp_path / "o" / "briefs" / "spring_promo.md").read_text()
    objective = md.split("## Objective\n", 1)[1].split("\n## ", 1)[0].strip()
    assert objective == (
        "`spring_promo` is not declared in policies/campaigns.yaml, so it has no objective, "
        "budget or KPIs of its own; it uses the defaults (holdout share 10%, value at stake "
        "clv_discounted). The policies below say whom it targets. Declare it in "
        "policies/campaigns.yaml to set them.")
    html = (tmp_path / "o" / "briefs" / "spring_promo.html").read_text()
    assert "<code>spring_promo</code> is not declared in policies/campaigns.yaml" in html
    assert np.all(pd.read_csv(tmp_path / "o" / "actions.csv").query(
        "policy_id == 'win_back'")["campaign"] == "spring_promo")


def test_a_mix_counts_missing_values_as_none_and_no_unused_category() -> None:
    """A brief's stage, tier and reason mix (counted without a filled copy of the column since
    session 19): a missing value is "(none)", together with a text "(none)"; a category that
    no row has is not listed; the most frequent first, then by name."""
    from engine.render.brief_data import _Coded

    def _mix(values: pd.Series) -> list[dict[str, object]]:
        return _Coded(values).mix(np.arange(len(values)))

    stages = pd.Series(pd.Categorical(["growth", None, "decline", "growth"],
                                      categories=["growth", "decline", "exit"]))
    assert _mix(stages) == [{"name": "growth", "count": 2, "share": 0.5},
                            {"name": "(none)", "count": 1, "share": 0.25},
                            {"name": "decline", "count": 1, "share": 0.25}]
    reasons = pd.Series(["(none)", None, "budget", np.nan], dtype=object)
    assert _mix(reasons) == [{"name": "(none)", "count": 3, "share": 0.75},
                             {"name": "budget", "count": 1, "share": 0.25}]
    assert _mix(pd.Series([], dtype=object)) == []


def test_every_amount_of_the_html_brief_names_its_currency() -> None:
    """The HTML brief's headline said "EUR 506.34 budget used of 2,000.00" (the trial)."""
    html = _briefs(_actions("retain_high_value", 300, 30, 38))["retain_high_value.html"]
    headline = re.search(r'<span class="kpi"><b>([^<]*)</b>budget used([^<]*)</span>', html)
    assert headline is not None
    assert headline.group(1).startswith(f"{RUN['currency']} ")
    assert headline.group(2).startswith(f" of {RUN['currency']} ")


def test_a_contact_costing_a_fraction_of_a_cent_shows_its_price() -> None:
    """The new user's find: 13 App push contacts at 0.005 showed '| 0.01 | 0.07 |', which
    reads as 13 x 0.01 = 0.13. A price per contact shows its fractions of a cent."""
    actions = _actions("retain_high_value", 13, 0, 0).assign(channel="app_push", cost=0.005)
    briefs = _briefs(actions)
    assert "| App push | 13 | 0.005 | 0.07 |" in briefs["retain_high_value.md"]
    assert '<td class="n">0.005</td>' in briefs["retain_high_value.html"]
    email = _briefs(_actions("retain_high_value", 3, 0, 0))["retain_high_value.md"]
    assert "| Email | 3 | 0.02 | 0.06 |" in email  # whole cents: two decimals, as before


def test_the_brief_s_return_on_spend_is_counted_as_cvm_measure_counts_it() -> None:
    """An analyst's trial: a brief's 'return on spend of 8.1' was (expected value + cost) /
    cost, where cvm measure's return on spend of the same campaign is incremental margin /
    cost: a planned 7.1 was set against a measured 2.31 as 8.1. Both are net of the cost."""
    setup = load_setup(load_config(ROOT))
    actions = _actions("retain_high_value", 10, 1, 0)  # 10 contacts at 0.02, 1.0 each
    (ctx,) = campaign_contexts(actions, setup.rulebook, setup.channels, run=RUN)
    assert ctx["expected"]["return_on_spend"] == 10.0 / 0.2  # the value after the cost, / cost
    md = _briefs(actions)["retain_high_value.md"]
    assert "a return on spend of 50.0 (expected value after contact costs, per unit of cost, " \
        "as cvm measure counts the margin it measures)" in md


def test_a_brief_copied_before_the_change_is_told_its_words_are_old(tmp_path: Path) -> None:
    """A review: a project's own copy of the briefs (cvm init copies them) still says
    '(expected value plus cost, per unit of cost)' over a figure now one less."""
    project = copy_example_project(tmp_path)
    brief = project / "templates" / "brief.md.j2"
    brief.write_text(brief.read_text().replace(
        "expected value after contact costs, per unit of cost, as cvm measure counts the "
        "margin it measures", "expected value plus cost, per unit of cost"))
    line = brief.read_text().splitlines().index(next(
        x for x in brief.read_text().splitlines() if "plus cost" in x)) + 1
    result = CliRunner().invoke(app, ["validate", "-p", str(project)])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[:2] == [
        f"warning: templates/brief.md.j2:{line}: says return_on_spend is \"expected value plus "
        "cost, per unit of cost\": it is the expected value after contact costs per unit of "
        "cost since 7 December 2026, as cvm measure's return on spend (one less than the "
        "figure these words describe)",
        "  hint: write \"expected value after contact costs, per unit of cost\""]
