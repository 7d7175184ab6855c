"""A budget spent to the cent reads as spent within it (a new user's trial: 26 push contacts at
0.005 in two campaigns, 0.025 and 0.105 each rounded up, read `EUR 0.14 of EUR 0.13`). The
rows stay as they are: a campaign's amounts depend on its own contacts only (moving its cent
to another channel to mend a channel row would move its brief when another campaign
changes: the review)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

# the trial's tight limits (its folder limits/): push's budget 0.13, spent by 26 contacts
CHANNELS = [("    budget: 50\n", "    budget: 0.13\n"), ("    capacity: 40\n", "    capacity: 5\n"),
            ("    budget: 800\n", "    budget: 50\n"), ("    budget: 200\n", "    budget: 3\n")]
CAMPAIGNS = [("    budget: 2000\n", "    budget: 120\n"),
             ("    budget: 150\n", "    budget: 1.5\n"),
             ("  win_back:\n", "  win_back:\n    holdout_share: 0.25\n"),
             ("    budget: 500\n", "    budget: 60\n")]


def test_a_budget_spent_to_the_cent_is_said_to_be_within_it(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    for name, edits in (("channels.yaml", CHANNELS), ("campaigns.yaml", CAMPAIGNS)):
        path = project / "policies" / name
        text = path.read_text()
        for old, new in edits:
            assert text.count(old) == 1, old
            text = text.replace(old, new)
        path.write_text(text)
    got = CliRunner().invoke(app, ["run", "-p", str(project), "-o", str(tmp_path / "o"),
                                   "--no-history"])
    assert got.exit_code == 0, got.output
    assert "    app_push              26 contacts (capacity 100,000), EUR 0.14 of EUR 0.13 " \
        "(spent within it: each campaign's amount is rounded to the cent)\n" in got.output, \
        got.output
    summary = pd.read_csv(tmp_path / "o" / "allocation_summary.csv")
    push = summary[(summary["level"] == "channel") & (summary["channel"] == "app_push")]
    assert push[["cost", "budget", "budget_used_share"]].values.tolist() == [[0.14, 0.13, 1.0]]

