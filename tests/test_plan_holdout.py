"""`cvm plan` names the holdout draw when it moves a customer into or out of a campaign's
holdout group: the salt, the campaign's holdout_share, or the campaign the policy names."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

runner = CliRunner()


def _changes(project: Path, proposed: Path, out: Path) -> pd.DataFrame:
    result = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(proposed),
                                 "--no-history", "--quiet", "--changes", str(out)])
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(out, dtype={"customer_id": str}, keep_default_na=False)


def _held(changes: pd.DataFrame) -> pd.DataFrame:
    return changes[(changes["status_before"] == "holdout")
                   != (changes["status_after"] == "holdout")]


@pytest.mark.parametrize(("old", "new", "into", "out_of"), [
    ('salt: "2026"', 'salt: "2027"',
     "same action; in campaign {c}'s holdout group now: the groups are drawn again (salt "
     "'2026' -> '2027')",
     "same action; out of campaign {c}'s holdout group now: the groups are drawn again "
     "(salt '2026' -> '2027')"),
    ("    value_at_stake: potential_value   # what winning",
     "    holdout_share: 0.30\n    value_at_stake: potential_value   # what winning",
     "same action; in campaign {c}'s holdout group now: its holdout_share changed 0.1 -> 0.3",
     None),
])
def test_a_customer_the_holdout_draw_moved_is_told_so(
        tmp_path: Path, old: str, new: str, into: str, out_of: str | None) -> None:
    """A marketer's trial: a new salt (or a campaign's holdout_share raised) moved about 200
    customers into or out of holdout groups, each told 'the channel allocation changed
    (capacity, budget or competition)'."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    project = copy_example_project(tmp_path / "a")
    proposed = copy_example_project(tmp_path / "b")
    campaigns = proposed / "policies" / "campaigns.yaml"
    text = campaigns.read_text()
    assert text.count(old) == 1
    campaigns.write_text(text.replace(old, new))
    held = _held(_changes(project, proposed, tmp_path / "changes.csv"))
    assert len(held) > 10
    into_rows = held[held["status_after"] == "holdout"]
    assert len(into_rows) > 0
    assert set(into_rows["reason"]) == {into.format(c=c) for c in
                                        set(into_rows["campaign_after"])}
    out_rows = held[held["status_before"] == "holdout"]
    if out_of is None:
        assert out_rows.empty  # a share raised keeps everyone who was held out
    else:
        assert len(out_rows) > 0
        assert set(out_rows["reason"]) == {out_of.format(c=c) for c in
                                           set(out_rows["campaign_before"])}
