"""measure.csv's cost is the allocation summary's campaign cost, to the cent (review 13e: a
float sum rounded on its own gave 2.26 where the summary, whose campaign rows add up to the
run's total, shows 2.25 of an exact 2.255; `cvm report` shows both)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.history_runs import cvm, retail_copy, two_runs

RESPONSES = """customer_id,campaign,date,outcome,revenue
C000003,win_back,2025-12-07,opted_out,
C000009,win_back,2025-12-08,opted_out,
C000021,win_back,2025-12-05,complained,
"""


def test_measure_cost_is_the_allocation_summary_cost(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = retail_copy(tmp_path)
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    runs = two_runs(project, tmp_path, "2025-12-01", "2025-12-08", responses=RESPONSES)
    done = cvm("measure", "--project", str(project), "--out", str(tmp_path / "m"), "-q")
    assert done.exit_code == 0, done.stderr
    measured = pd.read_csv(tmp_path / "m" / "measure.csv")
    compared = 0
    for folder, as_of in ((runs.first, "2025-12-01"), (runs.second, "2025-12-08")):
        summary = pd.read_csv(folder / "allocation_summary.csv")
        cost = summary[summary["level"] == "campaign"].set_index("campaign")["cost"]
        for row in measured[measured["as_of"] == as_of].itertuples():
            assert (as_of, row.campaign, row.cost) == (as_of, row.campaign, cost[row.campaign])
            compared += 1
    assert compared >= 6
