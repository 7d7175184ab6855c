"""A campaign's settings written in a policy's then get a hint to where they go (a new user
wrote then.budget and was told only the keys then allows)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project


def test_a_budget_in_a_policy_s_then_is_pointed_to_campaigns_yaml(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    policy = project / "policies" / "win_back.yaml"
    text = policy.read_text()
    policy.write_text(text.replace("  offer: comeback_discount\n",
                                   "  offer: comeback_discount\n  budget: 100\n"))
    line = next(i for i, x in enumerate(policy.read_text().splitlines(), 1)
                if x == "  budget: 100")
    result = CliRunner().invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 1
    assert (f"error: policies/win_back.yaml:{line}:3: then.budget: unknown key 'budget'\n"
            "  hint: a campaign's budget is set in policies/campaigns.yaml, under "
            "campaigns.<its campaign>.budget (a policy's campaign is its campaign key, by "
            "default its id)\n") in result.output, result.output
