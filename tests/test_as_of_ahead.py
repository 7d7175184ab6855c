"""An as-of date after tomorrow is warned about (the trial: as_of 2026-12-10 set on 4 December
ran without a word, and the holdout comparison read +2017%): by the commands that score, on
standard error, never in an output; by `cvm validate` for `as_of:` in cvm.yaml."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.project import as_of_today
from tests.conftest import ROOT, copy_example_project


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The bundled example valued at 2026-01-01, the day after its last transaction."""
    project = copy_example_project(tmp_path)
    config = (project / "cvm.yaml").read_text()
    (project / "cvm.yaml").write_text(config.replace("as_of: null ", "as_of: 2026-01-01"))
    return project

AHEAD = (
    "warning: cvm.yaml:32:8: as_of: 2026-01-01 is after today (2025-12-20): recency, tenure, "
    "P(alive) and the contact look-backs count 11 days that have not happened yet, and a "
    "campaign measured from this run compares days without purchases yet\n"
    "  hint: set as_of to today or earlier, or remove it to use the day after the last "
    "transaction\n")
DEFAULT_AHEAD = (
    "warning: cvm.yaml:5:17: data.transactions: the transactions run to 2025-12-31, after "
    "today (2025-12-20), so the default as-of date is 2026-01-01: recency, tenure, P(alive) and "
    "the contact look-backs count 11 days that have not happened yet, and a campaign measured "
    "from this run compares days without purchases yet\n"
    f"  hint: check the 312 rows dated after today, the latest at {ROOT}/examples/retail/"
    "transactions.csv:19446 (a year mistyped?) and data.date_format (a day and a month "
    "swapped?); as_of: in cvm.yaml sets the date\n")


def _on(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    monkeypatch.setattr(as_of_today, "today", lambda: dt.date.fromisoformat(day))


def _mistyped_year(tmp_path: Path) -> Path:
    """The bundled example with one row's year mistyped: 2027-12-01."""
    project = copy_example_project(tmp_path)
    rows = (ROOT / "examples/retail/transactions.csv").read_text().splitlines(keepends=True)
    assert ",C001216,2024-12-01," in rows[8999]
    rows[8999] = rows[8999].replace(rows[8999].split(",")[2], "2027-12-01")
    (project / "tx.csv").write_text("".join(rows))
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(f"{ROOT}/examples/retail/transactions.csv",
                                                 str(project / "tx.csv")))
    return project


def _cvm(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", ["score", "run", "decide", "fit", "report"])
def test_an_as_of_date_ahead_is_warned_about(example: Path, monkeypatch: pytest.MonkeyPatch,
                                              command: str) -> None:
    project = example
    _on(monkeypatch, "2025-12-20")
    code, _, err = _cvm(command, "--project", str(project), "--out", str(project / "out"))
    assert code == 0, err
    assert AHEAD in err


def test_explain_warns_too(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _on(monkeypatch, "2025-12-20")
    code, _, err = _cvm("explain", "C000005", "--project", str(example))
    assert (code, err) == (0, AHEAD)


def test_tomorrow_is_no_warning(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """as_of is the first day not read: an export of today's rows has tomorrow's date."""
    _on(monkeypatch, "2025-12-31")
    code, _, err = _cvm("score", "--project", str(example), "--out", str(example / "out"))
    assert (code, err) == (0, "")


def test_the_default_date_after_rows_dated_ahead(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_example_project(tmp_path)
    _on(monkeypatch, "2025-12-20")
    code, _, err = _cvm("score", "--project", str(project), "--out", str(project / "out"))
    assert (code, err) == (0, DEFAULT_AHEAD)


def test_quiet_silences_it_and_the_outputs_do_not_change(
        example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = example
    files = []
    for day in ("2025-12-20", "2026-03-01"):
        _on(monkeypatch, day)
        out = project / f"out-{day}"
        code, _, err = _cvm("score", "--project", str(project), "--out", str(out), "--quiet")
        assert (code, err) == (0, "")
        files.append((out / "customers.csv").read_bytes())
    assert files[0] == files[1]


def test_validate_warns_at_the_line_of_as_of(example: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    project = example
    _on(monkeypatch, "2025-12-20")
    code, out, err = _cvm("validate", "--project", str(project))
    assert code == 0, out + err
    assert AHEAD.removeprefix("warning: ") in out + err
    _on(monkeypatch, "2025-12-31")
    code, out, err = _cvm("validate", "--project", str(project))
    assert (code, "after today" in out + err) == (0, False)


def test_the_readme_shows_the_warning() -> None:
    assert f"```\n{AHEAD}```\n" in (ROOT / "README.md").read_text()


def test_plan_warns_too(example: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Both versions share the date: said once, at the baseline's cvm.yaml (by its path)."""
    _on(monkeypatch, "2025-12-20")
    proposed = tmp_path / "proposed" / "policies"
    proposed.mkdir(parents=True)
    code, _, err = _cvm("plan", "--project", str(example), "--proposed", str(proposed.parent),
                        "--overlay", "--json")
    assert code == 0, err
    assert err == AHEAD.replace("cvm.yaml:", f"{example / 'cvm.yaml'}:")


def test_validate_audience_warns_about_rows_dated_ahead(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """--audience reads the rows as cvm score does: rows dated after today, with no as_of:,
    are said (validate alone reads no row; with as_of: it says the date once)."""
    project = copy_example_project(tmp_path)
    _on(monkeypatch, "2025-12-20")
    code, out, err = _cvm("validate", "--project", str(project), "--audience")
    assert code == 0, out + err
    assert DEFAULT_AHEAD in err
    assert err.count("the transactions run to") == 1


def test_validate_says_rows_dated_ahead_before_what_they_make_fail(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new user's trial: one row's year mistyped (2027-12-01) made validate blame
    retention.lookback_periods ("raise retention.lookback_periods"), without a word of the
    date after today that is the cause. validate reads every row's date: it says it, first."""
    project = _mistyped_year(tmp_path)
    _on(monkeypatch, "2026-12-06")
    code, out, err = _cvm("validate", "--project", str(project))
    assert code == 1
    said = out + err
    ahead = said.index("warning: cvm.yaml:5:17: data.transactions: the transactions run to "
                       "2027-12-01, after today (2026-12-06), so the default as-of date is "
                       "2027-12-02: ")
    assert ahead < said.index("error: cvm.yaml:"), said
    assert "retention.lookback_periods" in said  # what it makes fail, said after
    _on(monkeypatch, "2025-12-20")  # and without an error: validate alone says it too
    (tmp_path / "b").mkdir()
    code, out, err = _cvm("validate", "--project", str(copy_example_project(tmp_path / "b")))
    assert code == 0
    assert DEFAULT_AHEAD.removeprefix("warning: ") in out + err


@pytest.mark.parametrize("command", ["run", "score", "decide"])
def test_the_commands_say_rows_dated_ahead_before_what_they_make_fail(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    """validate said the mistyped year (2027-12-01) before the retention error it caused;
    cvm run, score and decide said only the retention error ("raise
    retention.lookback_periods"), the warning coming after a scoring that never finished."""
    project = _mistyped_year(tmp_path)
    _on(monkeypatch, "2026-12-06")
    code, _, err = _cvm(command, "--project", str(project), "--out", str(tmp_path / "out"))
    assert code == 1
    ahead = err.index("warning: cvm.yaml:5:17: data.transactions: the transactions run to "
                      "2027-12-01, after today (2026-12-06), so the default as-of date is "
                      "2027-12-02: ")
    assert ahead < err.index("error: cvm.yaml:"), err
    assert err.count("after today") == 2, err  # the warning and its hint
    assert "  hint: check the row dated after today, at tx.csv:9000 (a year mistyped?) and " \
        "data.date_format" in err, err  # a new user's trial: it named cvm.yaml only
