"""A campaign budget of 0 (a marketer pausing a campaign's spend) is a valid setting: `cvm
validate` accepts it, so `cvm run` must work. The brief's share of the budget used has no
value then (0 of 0), and the filters show a figure that has none as "n/a" instead of failing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engine.project.templates import Templates
from engine.render.sandbox import sandbox
from tests.history_runs import cvm, retail_copy


def test_a_campaign_paused_with_a_budget_of_0_runs(tmp_path: Path) -> None:
    project = retail_copy(tmp_path)
    campaigns = project / "policies" / "campaigns.yaml"
    text = campaigns.read_text()
    assert text.count("    budget: 500\n") == 1
    campaigns.write_text(text.replace("    budget: 500\n", "    budget: 0\n"))
    assert cvm("validate", "--project", str(project)).exit_code == 0
    done = cvm("run", "--project", str(project), "--out", str(tmp_path / "out"),
               "--no-history", "-q")
    assert done.exit_code == 0, done.stderr
    actions = pd.read_csv(tmp_path / "out" / "actions.csv", keep_default_na=False)
    win_back = actions[actions["campaign"] == "win_back"]
    assert len(win_back) > 0 and not (win_back["status"] == "allocated").any()
    brief = (tmp_path / "out" / "briefs" / "win_back.md").read_text()
    assert "Budget used: EUR 0.00 of EUR 0.00 (n/a).\n" in brief


@pytest.mark.parametrize(("name", "shown"), [("pct", "n/a"), ("money", "n/a"), ("num", "n/a")])
def test_a_filter_shows_a_missing_figure_as_n_a(tmp_path: Path, name: str, shown: str) -> None:
    env = sandbox(Templates(tmp_path), trim=True)
    assert env.from_string("{{ x | " + name + " }}").render(x=None) == shown
