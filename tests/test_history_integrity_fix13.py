"""A SQLite history damaged in the middle (issue 13's trial: 4 KB overwritten, so that only
reading a damaged part fails) is refused by cvm validate and by cvm run before its work, with
the file, what is wrong and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.history_runs import cvm, damaged_history


@pytest.fixture
def damaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The retail project (copied) whose history holds two runs, then 4 KB of its middle
    overwritten (the header and the version table intact)."""
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    return damaged_history(tmp_path)


def test_validate_refuses_a_history_damaged_in_the_middle(damaged: Path, tmp_path: Path) -> None:
    done = cvm("validate", "--project", str(damaged))
    assert done.exit_code == 1
    first, hint = done.stderr.splitlines()[:2]
    assert first.startswith(f"error: {tmp_path / 'h.sqlite'}: history (CVM_HISTORY_URL): is "
                            "damaged: ")
    assert first.endswith(" (SQLite's quick_check)")
    assert hint == ("  hint: restore the file from a backup, or move it away: the next run "
                    "starts a new history (without the runs and responses recorded so far, "
                    "opt-outs included)")


def test_run_refuses_it_before_its_work(damaged: Path, tmp_path: Path) -> None:
    before = (tmp_path / "h.sqlite").read_bytes()
    done = cvm("run", "--project", str(damaged), "--out", str(tmp_path / "o"), "-q")
    assert done.exit_code == 1
    assert "is damaged: " in done.stderr.splitlines()[0]
    assert not (tmp_path / "o").exists()
    assert (tmp_path / "h.sqlite").read_bytes() == before


def test_responses_import_refuses_it(damaged: Path, tmp_path: Path) -> None:
    before = (tmp_path / "h.sqlite").read_bytes()
    (tmp_path / "r.csv").write_text("customer_id,campaign,date,outcome\n"
                                    "C0000001,retain_high_value,2025-10-03,converted\n")
    done = cvm("responses", "import", str(tmp_path / "r.csv"), "--project", str(damaged))
    assert done.exit_code == 1
    assert "is damaged: " in done.stderr.splitlines()[0]
    assert (tmp_path / "h.sqlite").read_bytes() == before
