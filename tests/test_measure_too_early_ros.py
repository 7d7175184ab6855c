"""While a campaign is too early to tell, cvm measure gives no return on spend: it showed
'ROS 0.00', which reads as a campaign that earned nothing (a new user's find); significance was
already left unjudged then."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.history_runs import cvm, retail_copy, two_runs


def test_no_return_on_spend_while_too_early(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    project = retail_copy(tmp_path)
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    two_runs(project, tmp_path, "2025-12-01", "2025-12-08")
    done = cvm("measure", "--project", str(project), "--out", str(tmp_path / "m"))
    assert done.exit_code == 0, done.stderr
    measured = pd.read_csv(tmp_path / "m" / "measure.csv")
    early = measured[measured["verdict"].str.startswith("too early to tell")]
    assert len(early) and early["return_on_spend"].isna().all()
    assert early["significant"].isna().all()
    for line in done.stdout.splitlines():
        if "too early to tell" in line:
            assert " 0.00  too early" not in line, line
