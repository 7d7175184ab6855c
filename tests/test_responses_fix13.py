"""`cvm responses import` (issue 13's trial): rows that can never count are said (a campaign
no run and no policy knows is refused, a customer in no recorded run is a warning), a repeated
response with another revenue is said, a negative revenue is refused, the first problem in
file order is the one reported, and the folder, delimiter and usage messages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.history import record
from tests.history_runs import cvm, open_history, retail_copy, snapshot

HEAD = "customer_id,campaign,date,outcome,revenue\n"


def _project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> Path:
    """The bundled retail project (copied), its history at ``url`` with one recorded run of
    C0000000..C0000049 (campaign retain_high_value), the cwd tmp_path."""
    project = retail_copy(tmp_path)
    monkeypatch.setenv("CVM_HISTORY_URL", url)
    monkeypatch.chdir(tmp_path)
    store = open_history(url, tmp_path)
    try:
        record.record_run(store, run_id="r1", as_of=dt.date(2025, 10, 1), project="t",
                          inputs={}, snapshot=snapshot(50, status_p=[0.5, 0.5, 0, 0]))
    finally:
        store.close()
    return project


@pytest.fixture
def retail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return _project(tmp_path, monkeypatch, str(tmp_path / "h.sqlite"))


def _import(project: Path, content: str, *options: str) -> tuple[int, str, str]:
    Path("responses.csv").write_text(content)
    done = cvm("responses", "import", "responses.csv", "--project", str(project), *options)
    return done.exit_code, done.stdout, done.stderr


def test_a_customer_in_no_recorded_run_is_counted_and_said(retail: Path) -> None:
    code, out, err = _import(retail, HEAD + "C0000003,retain_high_value,2025-10-03,converted,10\n"
                             "ZZZ999,retain_high_value,2025-10-03,converted,10\n"
                             "YYY1,retain_high_value,2025-10-04,responded,\n")
    assert code == 0, err
    assert out.splitlines()[1] == "  imported 3, already present 0, skipped 0"
    assert err == (
        "warning: responses.csv:3: row 2, column 'customer_id': 2 rows name a customer in no "
        "recorded run (ZZZ999, YYY1): kept\n"
        "  hint: a response counts once a run holds its customer (contact policies, "
        "last_outcome; an opt-out stops cvm serve's contacts at once), and in cvm measure "
        "only for the runs that assigned the customer to "
        "the campaign; check the ids if they should match the transactions'\n")


def test_a_campaign_no_run_or_policy_knows_is_refused(retail: Path, tmp_path: Path) -> None:
    code, _, err = _import(retail, HEAD + "C0000003,retain_high_value,2025-10-03,converted,10\n"
                           "C0000004,win_bak,2025-10-03,converted,10\n"
                           "C0000005,win_bak,2025-10-04,converted,10\n")
    assert code == 1
    assert err.startswith(
        "error: responses.csv:3: row 2, column 'campaign': found 'win_bak', expected a "
        "campaign of a recorded run, of policies/campaigns.yaml, of a policy or of a trigger\n"
        "  hint: did you mean 'win_back'? 2 rows have this problem; the campaigns known: "
        "cross_sell_maturity, develop_growth, retain_high_value, ")
    # nothing written: the run's history holds no response
    assert "response" not in cvm("history", "C0000004", "--project", str(retail)).stdout


def test_a_repeat_with_another_revenue_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               history_url: str) -> None:
    retail = _project(tmp_path, monkeypatch, history_url)
    code, out, err = _import(retail, HEAD + "C0000003,win_back,2025-10-03,converted,10\n"
                             "C0000003,win_back,2025-10-03,converted,12.5\n"
                             "C0000003,win_back,2025-10-03,converted,10\n")
    assert code == 0, err
    assert out.splitlines()[1:] == [
        "  imported 1, already present 0, skipped 2",
        "    2 repeat an earlier row of the file (same customer, campaign, date and outcome)"]
    assert err == (
        "warning: responses.csv:3: row 2, column 'revenue': 1 row repeats an earlier row's "
        "customer, campaign, date and outcome with another revenue: found 12.50, row 1 has "
        "10.00: skipped\n"
        "  hint: a response is one per customer, campaign, date and outcome and the first "
        "row's revenue is kept: give two purchases as one row with their total, and a "
        "correction in place of the row it corrects\n")
    code, out, err = _import(retail, HEAD + "C0000003,win_back,2025-10-03,converted,11\n")
    assert out.splitlines()[1] == "  imported 0, already present 1, skipped 0"
    assert err == (
        "warning: responses.csv:2: row 1, column 'revenue': 1 row is in the history already "
        "with another revenue: found 11.00, the history has 10.00: the history's is kept\n"
        "  hint: a response is imported once (its customer, campaign, date and outcome); "
        "cvm history CUSTOMER shows the revenue kept (cvm measure takes revenue and margin "
        "from the transactions, not from responses)\n")


def test_a_negative_revenue_is_refused(retail: Path) -> None:
    code, _, err = _import(retail, HEAD + "C0000003,win_back,2025-10-03,converted,-5\n")
    assert code == 1
    assert err == (
        "error: responses.csv:2: row 1, column 'revenue': found '-5', expected a revenue of 0 "
        "or more\n"
        "  hint: a response's revenue is what it earned; a refund belongs in the transactions "
        "(a negative amount there)\n")


def test_the_first_problem_in_file_order_is_reported(retail: Path) -> None:
    code, _, err = _import(retail, HEAD + "C000003,win_back,2025-13-03,converted,10\n"
                           "C000005,win_back,2025-10-03,bought,x\n"
                           "C000007,,2025-10-03,converted,1\n")
    assert code == 1
    assert err == (
        "error: responses.csv:2: row 1, column 'date': found '2025-13-03', expected a date such "
        "as 2024-01-31\n"
        "  hint: write dates as YYYY-MM-DD (time optional); 3 more problems: row 2, column "
        "'outcome'; row 2, column 'revenue'; row 3, column 'campaign'\n")


@pytest.mark.parametrize(("column", "hint"), [
    ("customer_id", "every response names its customer, as the transactions do"),
    ("campaign", "every response names the campaign it answers"),
    ("date", "every response has the day it happened, YYYY-MM-DD"),
    ("outcome", "every response has an outcome: converted, responded, no_response, "
                "complained or opted_out"),
])
def test_an_empty_value_has_a_hint(retail: Path, column: str, hint: str) -> None:
    row = {"customer_id": "C0000003", "campaign": "win_back", "date": "2025-10-03",
           "outcome": "converted", "revenue": "1"}
    row[column] = ""
    code, _, err = _import(retail, HEAD + ",".join(row.values()) + "\n")
    assert code == 1
    expected = "a date" if column == "date" else "a value"
    assert err == (f"error: responses.csv:2: row 1, column {column!r}: found an empty value, "
                   f"expected {expected} in every row\n  hint: {hint}\n")


def test_a_semicolon_file_is_recognised(retail: Path) -> None:
    code, _, err = _import(retail, "customer_id;campaign;date;outcome\n"
                           "C0000003;win_back;2025-10-03;converted\n")
    assert code == 1
    assert err == (
        "error: responses.csv:1: header: found one column 'customer_id;campaign;date;outcome', "
        "expected columns separated by commas\n"
        "  hint: the file is separated by semicolons: save it as CSV with commas (the columns "
        "are customer_id, campaign, date, outcome and (optional) revenue)\n")


def test_a_folder_is_an_input_problem(retail: Path, tmp_path: Path) -> None:
    done = cvm("responses", "import", str(tmp_path), "--project", str(retail))
    assert done.exit_code == 1
    assert done.stderr == (f"error: {tmp_path}: is a folder, expected a CSV or Parquet file\n"
                           "  hint: give a CSV or Parquet file of responses\n")


def test_the_usage_line_names_the_file(retail: Path) -> None:
    done = cvm("responses", "import", "--help")
    assert done.exit_code == 0
    assert "Usage: cvm responses import [OPTIONS] FILE" in done.stdout
    assert "{file}" not in done.stdout


def test_one_row_read_is_singular(retail: Path) -> None:
    code, out, err = _import(retail, HEAD + "C0000003,win_back,2025-10-03,converted,10\n")
    assert code == 0, err
    assert out.splitlines()[0].endswith(": 1 row read")


def test_the_readme_examples_hold(retail: Path) -> None:
    from tests.test_history_cli import _plain_blocks, _readme_section

    blocks = _plain_blocks(_readme_section("History: what the engine remembers"))
    _, _, refused = _import(retail, HEAD + "C0000004,win_bak,2025-10-03,converted,10\n")
    assert refused in blocks
    _, _, warned = _import(retail, HEAD + "C0000003,retain_high_value,2025-10-03,converted,10\n"
                           "ZZZ999,retain_high_value,2025-10-03,converted,10\n"
                           "YYY1,retain_high_value,2025-10-04,responded,\n")
    assert warned in blocks


def test_an_empty_file_is_said_to_be_empty(retail: Path) -> None:
    """A file of 0 bytes was told 'the first line is empty ... remove the blank lines above
    it' (a new user): it has no line at all."""
    code, _, err = _import(retail, "")
    assert (code, err) == (1, "error: responses.csv: the file is empty, expected a header line "
                              "and data rows\n  hint: check whether the export stopped early or "
                              "wrote its rows to another file\n")
