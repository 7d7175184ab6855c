"""`cvm responses import` after the issue 13 re-trial and review: the first problem in file
order across every kind of check (a campaign no one knows included), a response dated after
today refused, surrounding spaces said (read as the transactions read them), "did you mean"
whatever the case, hints that name no cvm.yaml setting (none applies to a responses file), NaN
refused in CSV and Parquet alike, and revenue compared in cents (the unit money is shown in)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.errors import InputError
from engine.history.responses import import_responses, read_responses
from tests.history_runs import open_history
from tests.test_responses_fix13 import HEAD, _import, _project

KNOWN = ("cross_sell_maturity, develop_growth, retain_high_value, retain_tier_drop, "
         "welcome_new, win_back, win_back_advocates")
CAMPAIGN_EXPECTED = ("expected a campaign of a recorded run, of policies/campaigns.yaml, of a "
                     "policy or of a trigger")


@pytest.fixture
def retail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return _project(tmp_path, monkeypatch, str(tmp_path / "h.sqlite"))


def _refused(tmp_path: Path, content: str | bytes | pa.Table, name: str = "r.csv",
             today: dt.date = dt.date(2026, 1, 1)) -> str:
    path = tmp_path / name
    if isinstance(content, pa.Table):
        pq.write_table(content, path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(InputError) as exc:
        read_responses(path, name, today=today)
    return exc.value.format()


# 1. the first problem in file order, across kinds of check

def test_an_unknown_campaign_before_a_bad_revenue_is_the_one_reported(retail: Path) -> None:
    code, _, err = _import(retail, HEAD + "C0000003,win_bak,2025-10-03,converted,10\n"
                           "C0000004,win_back,2025-10-03,converted,-5\n")
    assert code == 1
    assert err == (
        f"error: responses.csv:2: row 1, column 'campaign': found 'win_bak', {CAMPAIGN_EXPECTED}\n"
        f"  hint: did you mean 'win_back'? the campaigns known: {KNOWN}; 1 more problem: row 2, "
        "column 'revenue'\n")


def test_an_unknown_campaign_after_the_first_problem_is_counted(retail: Path) -> None:
    code, _, err = _import(retail, HEAD + "C0000003,win_back,2025-10-03,converted,x\n"
                           "C0000004,win_bak,2025-10-03,converted,1\n"
                           "C0000005,,2025-10-03,converted,1\n")
    assert code == 1
    assert err == (
        "error: responses.csv:2: row 1, column 'revenue': found 'x', expected a number such as "
        "12.50\n"
        "  hint: use '.' as the decimal mark, no thousands separators or currency signs; "
        "2 more problems: row 2, column 'campaign'; row 3, column 'campaign'\n")


# 2. a response dated after today

def test_a_response_dated_after_today_is_refused(tmp_path: Path) -> None:
    assert _refused(tmp_path, HEAD + "C1,win_back,2026-01-01,converted,1\n"
                    "C2,win_back,2031-05-01,converted,1\n"
                    "C3,win_back,2031-05-02,responded,\n") == (
        "r.csv:3: row 2, column 'date': found '2031-05-01', expected a date on or before today "
        "(2026-01-01)\n"
        "  hint: 2 rows have this problem; a response is something a customer did: check the "
        "year (and the machine's date, if today is not 2026-01-01)")


def test_a_parquet_date_after_today_is_refused(tmp_path: Path) -> None:
    table = pa.table({"customer_id": ["C1"], "campaign": ["win_back"],
                      "date": pa.array([dt.date(2031, 5, 1)]), "outcome": ["converted"]})
    assert _refused(tmp_path, table, "r.parquet") == (
        "r.parquet: row 1, column 'date': found 2031-05-01, expected a date on or before today "
        "(2026-01-01)\n"
        "  hint: a response is something a customer did: check the year (and the machine's "
        "date, if today is not 2026-01-01)")


def test_the_command_refuses_tomorrow(retail: Path) -> None:
    today = dt.date.today()
    tomorrow = today + dt.timedelta(days=1)
    code, _, err = _import(retail, HEAD + f"C0000003,win_back,{tomorrow},converted,10\n")
    assert code == 1
    assert err == (
        f"error: responses.csv:2: row 1, column 'date': found '{tomorrow}', expected a date on "
        f"or before today ({today})\n"
        "  hint: a response is something a customer did: check the year (and the machine's "
        f"date, if today is not {today})\n")


# 3. surrounding spaces: read as the transactions read them, and said

def test_surrounding_spaces_are_said(retail: Path) -> None:
    code, out, err = _import(retail, HEAD + " C0000003 ,win_back,2025-10-03,converted,10\n"
                             "C0000004, win_back,2025-10-03,converted,10\n"
                             "C0000005,win_back ,2025-10-03,converted,10\n")
    assert code == 0, err
    assert out.splitlines()[1] == "  imported 3, already present 0, skipped 0"
    hint = ("  hint: values are read without surrounding spaces, as the transactions' are (an "
            "id ' C1 ' there is the customer 'C1'): remove the spaces to silence this\n")
    assert err == (
        "warning: responses.csv:2: row 1, column 'customer_id': 1 row has a value with "
        "surrounding spaces (' C0000003 '): read as 'C0000003'\n" + hint
        + "warning: responses.csv:3: row 2, column 'campaign': 2 rows have a value with "
        "surrounding spaces (' win_back'): read as 'win_back'\n" + hint)
    from tests.test_history_cli import _plain_blocks, _readme_section

    first = "".join(err.splitlines(keepends=True)[:2])  # the README's example
    assert first in _plain_blocks(_readme_section("History: what the engine remembers"))
    # read as the same customer: the trimmed file adds nothing
    code, out, err = _import(retail, HEAD + "C0000003,win_back,2025-10-03,converted,10\n")
    assert (code, err) == (0, "")
    assert out.splitlines()[1] == "  imported 0, already present 1, skipped 0"


# 4. "did you mean" whatever the case

def test_an_upper_case_campaign_gets_did_you_mean(retail: Path) -> None:
    code, _, err = _import(retail, HEAD + "C0000003,WIN_BACK,2025-10-03,converted,10\n")
    assert code == 1
    assert err == (
        f"error: responses.csv:2: row 1, column 'campaign': found 'WIN_BACK', {CAMPAIGN_EXPECTED}\n"
        f"  hint: did you mean 'win_back'? the campaigns known: {KNOWN}\n")


def test_a_misspelt_outcome_gets_did_you_mean(tmp_path: Path) -> None:
    assert _refused(tmp_path, HEAD + "C1,win_back,2025-10-03,CONVERTD,1\n") == (
        "r.csv:2: row 1, column 'outcome': found 'CONVERTD', expected one of converted, "
        "responded, no_response, complained, opted_out\n"
        "  hint: did you mean 'converted'? a response is one of these outcomes")


# 5. hints of the responses file: no cvm.yaml setting applies to it

@pytest.mark.parametrize(("content", "expected"), [
    (HEAD + "C1,win_back,2025/13/03,converted,1\n",
     "r.csv:2: row 1, column 'date': found '2025/13/03', expected a date such as 2024-01-31\n"
     "  hint: write dates as YYYY-MM-DD (time optional)"),
    (HEAD + "C1,win_back,2025-10-03,converted,1e16\n",
     "r.csv:2: row 1, column 'revenue': found '1e16', expected a number below 10^15 in size\n"
     "  hint: no amount, cost or count is that large: check the value"),
    (HEAD.encode() + b"C\xe91,win_back,2025-10-03,converted,1\n",
     "r.csv:2: byte 0xe9 at byte offset 43 is not valid utf-8\n"
     "  hint: the file is read as UTF-8: save it as UTF-8"),
    ("customer_id,campaign,date,outcome,campaign\nC1,win_back,2025-10-03,converted,x\n",
     "r.csv:1: header: column 'campaign' appears 2 times (columns 2, 5), expected once\n"
     "  hint: a column is named once in the header: rename or remove the others"),
    (HEAD.encode("utf-16"),  # a trial's file, saved as "Unicode text": "byte 0xff at position 1"
     "r.csv:1: the file starts with a UTF-16 byte order mark, read as UTF-8\n"
     "  hint: the file is UTF-16 text: save it as UTF-8"),
    (HEAD.encode("utf-16-le"),
     "r.csv:1: header: found NUL bytes in the header line, expected text\n"
     "  hint: the file looks like UTF-16 text: save it as UTF-8"),
], ids=["date", "huge", "encoding", "twice", "utf16", "utf16-no-bom"])
def test_hints_name_no_cvm_yaml_setting(tmp_path: Path, content: str, expected: str) -> None:
    assert _refused(tmp_path, content) == expected


def test_a_parquet_date_of_another_type_names_no_setting(tmp_path: Path) -> None:
    table = pa.table({"customer_id": ["C1"], "campaign": ["win_back"], "date": [20251003],
                      "outcome": ["converted"]})
    assert _refused(tmp_path, table, "r.parquet") == (
        "r.parquet: column 'date': found values of type int64, expected dates\n"
        "  hint: write dates as YYYY-MM-DD (time optional)")


# 6. NaN: refused in CSV and Parquet alike; an empty value (a Parquet null) is no revenue

def test_nan_is_refused_in_both_formats(tmp_path: Path) -> None:
    hint = "  hint: NaN and infinity are not numbers here; leave an optional value empty instead"
    assert _refused(tmp_path, HEAD + "C1,win_back,2025-10-03,converted,NaN\n") == (
        "r.csv:2: row 1, column 'revenue': found 'NaN', expected a number such as 12.50\n" + hint)
    for kind in (pa.float64(), pa.float32()):
        table = pa.table({"customer_id": ["C1"], "campaign": ["win_back"],
                          "date": ["2025-10-03"], "outcome": ["converted"],
                          "revenue": pa.array([float("nan")], kind)})
        assert _refused(tmp_path, table, "r.parquet") == (
            "r.parquet: row 1, column 'revenue': found nan, expected a number such as 12.50\n"
            + hint)


# 7. revenue in cents

def _float32(path: Path, revenue: float) -> Path:
    pq.write_table(pa.table({
        "customer_id": ["C1"], "campaign": ["win_back"], "date": [dt.date(2025, 6, 1)],
        "outcome": ["converted"], "revenue": pa.array([revenue], pa.float32())}), path)
    return path


def test_float32_revenue_is_the_same_response(tmp_path: Path, history_url: str) -> None:
    csv = tmp_path / "r.csv"
    csv.write_text(HEAD + "C1,win_back,2025-06-01,converted,10.1\n")
    parquet = _float32(tmp_path / "r.parquet", 10.1)
    store = open_history(history_url, tmp_path)
    try:
        first = import_responses(store, csv, "r.csv")
        assert (first.imported, first.warnings) == (1, ())
        for _ in range(2):  # idempotent, and the same revenue in cents: nothing said
            again = import_responses(store, parquet, "r.parquet")
            assert (again.imported, again.already_present, again.warnings) == (0, 1, ())
        other = import_responses(store, _float32(tmp_path / "o.parquet", 10.11), "o.parquet")
        assert [p.format() for p in other.warnings] == [
            "o.parquet: row 1, column 'revenue': 1 row is in the history already with another "
            "revenue: found 10.11, the history has 10.10: the history's is kept\n"
            "  hint: a response is imported once (its customer, campaign, date and outcome); "
            "cvm history CUSTOMER shows the revenue kept (cvm measure takes revenue and margin "
            "from the transactions, not from responses)"]
    finally:
        store.close()


def test_a_repeat_with_the_same_revenue_in_cents_is_not_said(tmp_path: Path) -> None:
    csv = tmp_path / "r.csv"
    csv.write_text(HEAD + "C1,win_back,2025-06-01,converted,10.1\n"
                   "C1,win_back,2025-06-01,converted,10.1000001\n")
    store = open_history(f"sqlite:///{tmp_path / 'h.sqlite'}", tmp_path)
    try:
        result = import_responses(store, csv, "r.csv")
    finally:
        store.close()
    assert (result.imported, sum(result.skipped.values()), result.warnings) == (1, 1, ())


# 2b. a response dated before the first run that assigned its customer to the campaign

def test_a_response_before_the_assigning_run_is_said(retail: Path) -> None:
    code, out, err = _import(retail, HEAD + "C0000003,retain_high_value,2025-10-01,converted,1\n"
                             "C0000004,retain_high_value,2024-10-02,converted,1\n"
                             "C0000005,retain_high_value,2024-10-03,responded,\n"
                             "C0000006,win_back,2024-10-03,responded,\n")
    assert code == 0, err
    assert out.splitlines()[1] == "  imported 4, already present 0, skipped 0"
    assert err == (
        "warning: responses.csv:3: row 2, column 'date': 2 rows are dated before the first run "
        "that assigned their customer to the campaign (C0000004, retain_high_value: a run as "
        "of 2025-10-01): kept\n"
        "  hint: cvm measure counts a response from its run's as-of date on, so these count in "
        "no run's measure (last_outcome and the contact policies of later runs read them); "
        "check the year\n")


def test_a_campaign_never_assigned_to_its_customer_is_said(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A trial imported a response to a campaign its customer was never given, dated before
    the latest run, without a word: no run's measure can ever count it."""
    from engine.history import record
    from tests.history_runs import cvm, retail_copy, snapshot

    project = retail_copy(tmp_path)
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    monkeypatch.chdir(tmp_path)
    store = open_history(str(tmp_path / "h.sqlite"), tmp_path)
    try:  # C0000004, C0000005, C0000007 are in the run with no action
        record.record_run(store, run_id="r1", as_of=dt.date(2025, 10, 1), project="t",
                          inputs={}, snapshot=snapshot(50, status_p=[0.4, 0.3, 0, 0.3]))
    finally:
        store.close()
    Path("responses.csv").write_text(
        HEAD + "C0000001,retain_high_value,2025-10-02,converted,1\n"  # assigned: fine
        "C0000004,retain_high_value,2025-09-20,responded,\n"  # before the latest run: said
        "C0000005,retain_high_value,2025-10-01,responded,\n"  # on it: a run again may
        "C0000007,retain_high_value,2025-10-02,responded,\n"  # after: the next run may
        "C0000004,win_back,2025-09-20,responded,\n"  # no run assigned win_back: not said
        "ZZZ1,retain_high_value,2025-09-20,responded,\n")  # said as in no run only
    done = cvm("responses", "import", "responses.csv", "--project", str(project))
    assert done.exit_code == 0, done.stderr
    assert done.stdout.splitlines()[1] == "  imported 6, already present 0, skipped 0"
    assert done.stderr.splitlines()[2:] == [
        "warning: responses.csv:3: row 2, column 'campaign': 1 row answers a campaign that no "
        "recorded run assigned its customer to, dated before the latest run's as-of date "
        "2025-10-01 (C0000004, retain_high_value): kept",
        "  hint: cvm measure counts a response only in the runs that assigned its customer to "
        "its campaign (a holdout included), from the run's as-of date on, so these count in "
        "no run's measure (last_outcome and the contact policies of later runs read them); "
        "check the customer id and the campaign"]
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "\n".join(done.stderr.splitlines()[2:]) in readme  # its example there
    assert done.stderr.splitlines()[0].startswith(
        "warning: responses.csv:7: row 6, column 'customer_id': 1 row names a customer in no "
        "recorded run (ZZZ1): kept")


def test_a_revenue_where_the_history_has_none_is_said(tmp_path: Path, history_url: str) -> None:
    (tmp_path / "a.csv").write_text(HEAD + "C1,win_back,2025-06-01,converted,\n")
    (tmp_path / "b.csv").write_text(HEAD + "C1,win_back,2025-06-01,converted,5\n")
    store = open_history(history_url, tmp_path)
    try:
        import_responses(store, tmp_path / "a.csv", "a.csv")
        again = import_responses(store, tmp_path / "b.csv", "b.csv")
    finally:
        store.close()
    assert [p.message for p in again.warnings] == [
        "1 row is in the history already with another revenue: found 5.00, the history has "
        "none: the history's is kept"]


def test_two_kinds_of_check_in_one_column_are_both_counted(tmp_path: Path) -> None:
    assert _refused(tmp_path, HEAD + "C1,win_back,2025-10-03,converted,-5\n"
                    "C2,win_back,2025-10-03,converted,x\n"
                    ",win_back,2025-10-03,converted,1\n"
                    "C\x014,win_back,2025-10-03,converted,1\n") == (
        "r.csv:2: row 1, column 'revenue': found '-5', expected a revenue of 0 or more\n"
        "  hint: a response's revenue is what it earned; a refund belongs in the transactions "
        "(a negative amount there); 3 more problems: row 2, column 'revenue'; row 3, column "
        "'customer_id'; row 4, column 'customer_id'")


def test_a_response_to_a_trigger_s_campaign_is_imported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`cvm serve` gives a trigger's action under its campaign (service_recovery); the
    responses to it were refused as of no known campaign (an integrator could not close the
    loop)."""
    from tests.history_runs import cvm, retail_copy

    project = retail_copy(tmp_path, ["triggers"])
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    (tmp_path / "r.csv").write_text(
        "customer_id,campaign,date,outcome,revenue\nC000006,service_recovery,2025-12-02,"
        "responded,\n")
    done = cvm("responses", "import", str(tmp_path / "r.csv"), "--project", str(project))
    assert done.exit_code == 0, done.stderr
    assert "  imported 1, already present 0, skipped 0" in done.stdout


def test_a_utf16_file_read_as_utf16_by_another_name_is_read() -> None:
    """The review: `data.encoding: u16` (Python's name for utf-16 too) was refused as "starts
    with a UTF-16 byte order mark, read as u16"; a UTF-32 mark was called UTF-16."""
    from engine.data.header import Source, header_names

    head = "customer_id,campaign\n".encode("utf-16")
    assert header_names(Source(Path("r.csv"), "r.csv", "FILE", encoding="u16"),
                        head) == ["customer_id", "campaign"]
    with pytest.raises(InputError) as exc:
        header_names(Source(Path("r.csv"), "r.csv", "FILE"), "a,b\n".encode("utf-32"))
    assert "starts with a UTF-32 byte order mark" in exc.value.format()
