"""Issue 13's third trial: a response dated after today is found whatever else is wrong in
the file (the check ran only when every date could be read, so a bad date on a later row
hid it), in file order with the others."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.history.responses import read_responses

HEAD = "customer_id,campaign,date,outcome,revenue\n"


def _refused(tmp_path: Path, content: str) -> str:
    (tmp_path / "r.csv").write_text(content)
    with pytest.raises(InputError) as exc:
        read_responses(tmp_path / "r.csv", "r.csv", today=dt.date(2026, 1, 1))
    return exc.value.format()


def test_a_future_date_before_an_impossible_one(tmp_path: Path) -> None:
    assert _refused(tmp_path, HEAD + "C1,win_back,2026-12-25,converted,1\n"
                    "C2,win_back,2025-02-30,converted,1\n") == (
        "r.csv:2: row 1, column 'date': found '2026-12-25', expected a date on or before today "
        "(2026-01-01)\n"
        "  hint: a response is something a customer did: check the year (and the machine's "
        "date, if today is not 2026-01-01); 1 more problem: row 2, column 'date'")


def test_a_future_date_before_a_bad_outcome(tmp_path: Path) -> None:
    assert _refused(tmp_path, HEAD + "C1,win_back,2031-05-01,converted,1\n"
                    "C2,win_back,2025-01-30,bought,1\n").splitlines()[0] == (
        "r.csv:2: row 1, column 'date': found '2031-05-01', expected a date on or before today "
        "(2026-01-01)")


def test_history_of_an_unknown_customer_before_any_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.history_runs import cvm, retail_copy

    history = tmp_path / "h.sqlite"
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    project = retail_copy(tmp_path)
    done = cvm("history", "NOBODY", "--project", str(project))
    assert (done.exit_code, done.stderr) == (1, (
        f"error: {history}: CUSTOMER_ID: customer 'NOBODY' is in no run (none is recorded "
        "yet) and has no response, event or interaction\n"
        "  hint: customer ids are matched exactly, as text\n"))


def test_no_history_beside_a_history_says_its_opt_outs_are_not_applied(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.history_runs import cvm, open_history, retail_copy

    history = tmp_path / "h.sqlite"
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    open_history(str(history), tmp_path).close()
    project = retail_copy(tmp_path)
    done = cvm("run", "--no-history", "--project", str(project), "--out", str(tmp_path / "o"))
    assert done.exit_code == 0, done.stderr
    assert (f"warning: --no-history: the history ({history}) is neither read nor recorded "
            "into: its contacts, contact policies and opt-outs are not applied to this run, "
            "every campaign uses its declared response rates (nothing learnt), and "
            "value-change attributes take their first-run values\n"
            ) in done.stderr


def test_no_history_s_help_says_what_a_run_does_without_it() -> None:
    """A new user read --help's "value-change attributes take their first-run values" alone:
    the learnt response rates, contact policies and opt-outs go unsaid."""
    from tests.history_runs import cvm

    shown = " ".join(cvm("run", "--help").stdout.replace("│", " ").split())
    assert ("Neither read nor record the history: value-change attributes take their "
            "first-run values, every campaign uses its declared response rates, and no "
            "contact policy or opt-out applies (they count what the history recorded).") \
        in shown


def test_a_binary_date_column_is_an_input_error(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"customer_id": ["C1"], "campaign": ["win_back"],
                             "date": pa.array([b"\xff\xfe"], pa.binary()),
                             "outcome": ["converted"]}), tmp_path / "r.parquet")
    with pytest.raises(InputError) as exc:  # review 13d: ArrowInvalid, exit 4
        read_responses(tmp_path / "r.parquet", "r.parquet", today=dt.date(2026, 1, 1))
    assert exc.value.format() == (
        "r.parquet: column 'date': found values of type binary, expected dates\n"
        "  hint: write dates as YYYY-MM-DD (time optional)")


def test_no_history_ignores_a_history_setting_it_cannot_use(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.history_runs import cvm, retail_copy

    monkeypatch.setenv("CVM_HISTORY_URL", "bogus://x")  # review 13d: exit 1 with --no-history
    project = retail_copy(tmp_path)
    done = cvm("run", "--no-history", "-q", "--project", str(project), "--out",
               str(tmp_path / "o"))
    assert (done.exit_code, done.stderr) == (0, "")
