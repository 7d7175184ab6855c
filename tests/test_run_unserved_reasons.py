"""`cvm run`'s summary says the customers not served by reason: a marketer's trial set a
campaign's budget to 0, and the run said only "210 not served" (validate had warned; the
reason was in the action list alone)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project


def test_the_summary_says_why_customers_are_not_served(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    campaigns = project / "policies" / "campaigns.yaml"
    text = campaigns.read_text()
    assert "    budget: 150\n" in text
    campaigns.write_text(text.replace("    budget: 150\n", "    budget: 0\n", 1))
    out = tmp_path / "o"
    said = CliRunner().invoke(app, ["run", "-p", str(project), "--no-history", "-o", str(out)])
    assert said.exit_code == 0, said.output
    actions = pd.read_csv(out / "actions.csv")
    reasons = actions.loc[actions["status"] == "not_served", "reason"].value_counts()
    lines = said.stdout.splitlines()
    start = lines.index("  not served, by reason:")
    assert lines[start + 1:start + 1 + len(reasons)] == [
        "        210  budget: the campaign budget is below the cost of one contact",
        "         86  no consented channel",
        "         34  no channel: the consented channels do not serve this service level",
        "          2  not worth a contact: expected value not above the cost on every allowed "
        "channel"]
    assert [int(line.split()[0]) for line in lines[start + 1:start + 1 + len(reasons)]] == \
        sorted(reasons.tolist(), reverse=True)
