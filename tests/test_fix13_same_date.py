"""A run re-made on the same as-of date looks back on the same history as the run it replaces
(issue 13 trial: the second compared every customer with the first, so every tier change was
0 and the first's contacts counted), and `cvm explain` after it agrees with it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from engine.history.changes import COLUMNS
from tests.history_runs import cvm, retail_copy, run, set_as_of, two_runs

RESPONSES = ("customer_id,campaign,date,outcome,revenue\n"
             "C000003,win_back,2025-08-01,responded,\n"
             "C000010,welcome_new,2025-09-01,converted,12\n")


def customers(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "customers.csv", dtype={"customer_id": str},
                       keep_default_na=False)


def test_a_run_re_made_on_the_same_date_reads_the_same_history(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    project = retail_copy(tmp_path)
    runs = two_runs(project, tmp_path, "2025-07-01", responses=RESPONSES)
    again = run(project, tmp_path / "run3")  # the same as-of date as run2
    first, second = customers(runs.second), customers(again)
    assert (second["tier_change"] != "").sum() > 1000  # compared with run1, not with run2
    assert second[list(COLUMNS)].equals(first[list(COLUMNS)])
    assert (again / "decisions.csv").read_bytes() == (runs.second / "decisions.csv").read_bytes()
    # explain after both reads the history as the run did: the same decision
    decided = pd.read_csv(again / "decisions.csv", dtype=str, keep_default_na=False)
    dropped = decided[decided["policy_id"] == "retain_tier_drop"]
    assert len(dropped) > 0
    said = cvm("explain", str(dropped["customer_id"].iloc[0]), "--project", str(project),
               "--json")
    assert said.exit_code == 0, said.stderr
    assert json.loads(said.stdout)["decision"]["action_policy"]["id"] == "retain_tier_drop"


def test_a_re_made_run_on_a_fresh_history_has_no_previous_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    project = retail_copy(tmp_path)
    set_as_of(project, "2025-07-01")
    run(project, tmp_path / "a")
    again = customers(run(project, tmp_path / "b"))
    assert (again["previous_tier"] == "").all() and (again["tier_change"] == "").all()
    assert (again["days_since_last_contact"] == "").all()
    assert (again["contacts_last_30_days"].astype(str) == "0").all()
