"""`cvm plan`: a customer moved off a channel whose limit was lowered, though the channel is
not used up in the proposal, is told the lowered limit: the allocation prices a scarce
channel's places (README "Allocation"), so a cut moves customers before it binds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

runner = CliRunner()


def _channels(project: Path, old: str, new: str) -> None:
    path = project / "policies" / "channels.yaml"
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def _sides(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    return copy_example_project(tmp_path / "a"), copy_example_project(tmp_path / "b")


def _changes(project: Path, proposed: Path, out: Path) -> pd.DataFrame:
    result = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(proposed),
                                 "--no-history", "--quiet", "--changes", str(out)])
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(out, dtype={"customer_id": str}, keep_default_na=False)


def test_a_lowered_limit_that_prices_a_channel_higher_is_named(tmp_path: Path) -> None:
    """A retention lead's trial: the call centre at 28 places, the account manager cut from
    40 to 5 places: 8 customers moved from the account manager to the call centre were told
    'the channel allocation changed (capacity, budget or competition)'; the account manager
    ended at 4 of 5, and its price did it."""
    project, proposed = _sides(tmp_path)
    for side in (project, proposed):
        _channels(side, "    capacity: 150\n    budget: 800\n",
                  "    capacity: 28\n    budget: 800\n")
    _channels(proposed, "    capacity: 40\n    budget: 1500\n",
              "    capacity: 5\n    budget: 1500\n")
    changes = _changes(project, proposed, tmp_path / "changes.csv")
    moved = changes[(changes["channel_before"] == "account_manager")
                    & (changes["channel_after"] != "account_manager")
                    & (changes["channel_after"] != "")]
    assert len(moved) > 0
    reasons = set(moved["reason"])
    assert not any("the channel allocation changed" in r for r in reasons), reasons
    priced = {r for r in reasons if "priced higher" in r}
    assert priced, reasons
    assert all(r.startswith("same action; account_manager's capacity changed 40 -> 5: its "
                            "places are priced higher (") for r in priced), priced


def test_a_customer_kept_on_a_channel_whose_cost_changed_is_told_the_cost(
        tmp_path: Path) -> None:
    """A marketer's trial: direct mail's cost raised, its customers who stayed on it were
    told 'changed: cost, expected_value' without the setting that did it."""
    project, proposed = _sides(tmp_path)
    _channels(proposed, "    cost_per_contact: 1.10\n", "    cost_per_contact: 1.50\n")
    changes = _changes(project, proposed, tmp_path / "changes.csv")
    kept = changes[(changes["channel_before"] == "direct_mail")
                   & (changes["channel_after"] == "direct_mail")]
    assert len(kept) > 0
    assert set(kept["reason"]) == {
        "changed: cost, expected_value (direct_mail's cost_per_contact 1.1 -> 1.5)"}


def test_a_budget_spent_by_a_dearer_contact_names_the_cost(tmp_path: Path) -> None:
    """A re-trial: SMS at 0.60 a contact instead of 0.06, its budget of 60 the same: the
    customers moved off SMS were told 'sms's budget is spent after its budget changed
    60.00 -> 60.00'."""
    project, proposed = _sides(tmp_path)
    _channels(proposed, "    cost_per_contact: 0.06\n", "    cost_per_contact: 0.60\n")
    changes = _changes(project, proposed, tmp_path / "changes.csv")
    moved = changes[(changes["channel_before"] == "sms")
                    & ~changes["channel_after"].isin(["sms", ""])]
    assert len(moved) > 0
    reasons = set(moved["reason"])
    assert not any("60.00 -> 60.00" in r for r in reasons), reasons
    assert "same action; sms's budget is spent after its cost_per_contact changed 0.06 -> 0.6" \
        in reasons, reasons
