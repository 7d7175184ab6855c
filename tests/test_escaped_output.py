"""Control characters in what the engine prints are shown escaped, never run by the terminal
(a security trial: a policy file named ``\\x1b[2J\\x1b]0;PWNED\\x07evil.yaml`` cleared the
screen and retitled the window through ``cvm validate``'s error line). Every problem is
printed through ``Problem.format``; ``--json`` escapes C0 itself, and DEL and C1 as well."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from engine.errors import Problem

PROJECT = Path(__file__).resolve().parent / "cases" / "bad_input" / "project"


def test_a_problem_shows_its_control_characters_escaped() -> None:
    problem = Problem("found 'x', expected y \x9b31m\r", file="policies/\x1b[2J\x07a.yaml",
                      line=3, column=1, key="then.\x1b]0;t\x07\nx",
                      hint="write it\nagain\twith\x7f care", severity="warning")
    assert problem.format() == (
        "policies/\\x1b[2J\\x07a.yaml:3:1: then.\\x1b]0;t\\x07\\nx: found 'x', expected y "
        "\\x9b31m\\r\n  hint: write it\nagain\twith\\x7f care")


def test_the_json_document_escapes_del_and_c1(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    name = "policies/\x9b2J\x1b[31m\x7fevil.yaml"
    (project / name).write_text("- id: evil\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "--json", "--project", str(project)])
    assert result.exit_code == 1
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", result.stdout)
    assert "policies/\\u009b2J\\u001b[31m\\u007fevil.yaml" in result.stdout
    problems = json.loads(result.stdout)["problems"]
    assert [p["file"] for p in problems] == [name]  # the same text, read back


def test_a_failing_policy_tests_file_name_is_escaped(tmp_path: Path) -> None:
    """``cvm test`` names a failing test by its file, outside the problems' lines."""
    checkout = Path(__file__).resolve().parents[1]
    project = tmp_path / "project"
    project.mkdir()
    for part in ("rules", "policies", "templates", "examples/retail"):
        shutil.copytree(checkout / part, project / part)
    shutil.copy(checkout / "cvm.yaml", project / "cvm.yaml")
    (project / "policy_tests").mkdir()
    (project / "policy_tests" / "\x1b[2Jbad.yaml").write_text(
        "tests:\n  - name: a gold customer is retained\n    customer: {value_tier: gold}\n"
        "    expect: {action: win_back}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["test", "--project", str(project)])
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith(
        "FAIL policy_tests/\\x1b[2Jbad.yaml:2: a gold customer is retained\n"), result.stdout


def test_a_control_character_delimiter_is_still_read(tmp_path: Path) -> None:
    """A review of the loader's refusal: Hive's exports are delimited by \\x01 (^A), written
    delimiter: "\\x01" in cvm.yaml; that one character stays a delimiter, at that key only."""
    from tests.history_runs import retail_copy

    project = retail_copy(tmp_path)
    for name in ("transactions.csv", "customers.csv"):
        data = project / "examples" / "retail" / name
        data.write_text(data.read_text().replace(",", "\x01"))
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(  # customers_delimiter too (a review)
        'delimiter: ","', 'delimiter: "\\x01"\n  customers_delimiter: "\\x01"'))
    done = CliRunner().invoke(app, ["score", "-p", str(project), "-o", str(tmp_path / "o"),
                                        "-q"])
    assert done.exit_code == 0, done.stderr
    assert (tmp_path / "o" / "customers.csv").is_file()


def test_warnings_and_the_events_table_show_control_characters_escaped(
        tmp_path: Path, capsys: object) -> None:
    """A review: an events file's customer id reached the terminal raw in `cvm events`' list of
    customers not in the run, and a warning written from an f-string (a file's name) too."""
    from engine import notices
    from tests.history_runs import retail_copy

    notices.warn("a file named x\x1b]0;PWNED\x07.csv")
    assert capsys.readouterr().err == "warning: a file named x\\x1b]0;PWNED\\x07.csv\n"  # type: ignore[attr-defined]
    project = retail_copy(tmp_path, ("triggers",))
    assert CliRunner().invoke(app, ["run", "-p", str(project), "-q"]).exit_code == 0
    events = tmp_path / "events.csv"
    events.write_text("customer_id,type,at\nX\x1b]0;PWNED\x07,complaint,2026-01-01T10:00:00\n")
    done = CliRunner().invoke(app, ["events", str(events), "-p", str(project)])
    assert done.exit_code == 0, done.output
    assert "\x1b" not in done.stdout and "X\\x1b]0;PWNED\\x07" in done.stdout


def test_the_files_a_folder_skips_are_named_escaped() -> None:
    """A re-trial: a folder's file named with a terminal escape reached the terminal raw in the
    load report's note of the files not read."""
    from engine.data.object_store import skipped_note

    assert skipped_note(["x\x1b[2J\x1b]0;pwn\x07.json"], ["e\x1b[32m.csv"]) == (
        "1 file skipped (suffix not .parquet, .pq, .csv, .txt or .tsv): "
        "x\\x1b[2J\\x1b]0;pwn\\x07.json; 1 file without rows skipped (empty, or a header "
        "alone): e\\x1b[32m.csv")
