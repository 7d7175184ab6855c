"""The starter win_back policy admits lapsing customers on potential_value; its campaign must
value them on what it admits them for (a new user: with value_at_stake clv_discounted, which is
0 for every one-time buyer, 141 of 330 win_back customers came out 'not worth a contact', and
took the place of no_win_back_low_value)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project

runner = CliRunner()


def test_no_customer_the_starter_win_back_admits_is_valued_at_nothing(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    result = runner.invoke(app, ["run", "-p", str(project), "--no-history", "-q", "--out",
                                 str(tmp_path / "out")])
    assert result.exit_code == 0, result.stderr
    actions = pd.read_csv(tmp_path / "out" / "actions.csv")
    win_back = actions[actions["campaign"] == "win_back"]
    assert len(win_back) > 100
    assert (win_back["value_at_stake"] > 0).all()
    assert not win_back["reason"].str.startswith("not worth a contact").any()


def test_cvm_init_s_starter_is_the_repository_s() -> None:
    starter = ROOT / "engine" / "workflow" / "starter" / "policies" / "campaigns.yaml"
    assert starter.read_text() == (ROOT / "policies" / "campaigns.yaml").read_text()
