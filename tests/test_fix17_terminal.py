"""cvm test's FAIL on a terminal, with NO_COLOR and piped; --quiet on test, init and validate
--audience (issue 17 review: tests that could not fail)."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project
from tests.test_terminal import COLOUR, ON_A_TERMINAL, PLAIN_LINE, _in_terminal

WRONG = """\
tests:
  - name: a new customer is retained
    customer: {value_tier: bronze, tenure_days: 30, recency_days: 30}
    expect: {policy: retain_high_value}
"""


def _failing(tmp_path: Path) -> Path:
    project = copy_example_project(tmp_path)
    (project / "policy_tests").mkdir()
    (project / "policy_tests" / "wrong.yaml").write_text(WRONG)
    return project


@ON_A_TERMINAL
def test_fail_is_red_on_a_terminal_only(tmp_path: Path) -> None:
    project = _failing(tmp_path)
    code, text = _in_terminal(["test", "-p", str(project)])
    assert code == 1 and COLOUR.search(text.split("FAIL")[0] + "FAIL"), repr(text)
    for value in ("1", "true"):  # set and non-empty: no colour (no-color.org)
        code, text = _in_terminal(["test", "-p", str(project)], NO_COLOR=value)
        assert code == 1 and "FAIL policy_tests/wrong.yaml:2" in text
        assert "\x1b[" not in text, repr(text)
    code, text = _in_terminal(["test", "-p", str(project)], NO_COLOR="")
    assert code == 1 and COLOUR.search(text), "an empty NO_COLOR is not set"
    piped = CliRunner().invoke(app, ["test", "-p", str(project)])
    assert piped.exit_code == 1
    assert piped.stdout.startswith("FAIL policy_tests/wrong.yaml:2: a new customer")
    assert "\x1b" not in piped.output


def test_the_plain_line_pattern_sees_a_progress_line() -> None:
    """The pattern the terminal tests use to say "no plain progress line" matches one, under
    10 s and over."""
    assert PLAIN_LINE.search("  [   1.8 s] features ...")
    assert PLAIN_LINE.search("  [  12.0 s] allocate ...")
    assert not PLAIN_LINE.search("  features ━━━━━━ 100% 0:00:01")


def test_quiet_is_silent_on_test_init_and_audience(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    shutil.copytree(ROOT / "policy_tests", project / "policy_tests")
    source = ROOT / "examples" / "retail" / "transactions.csv"
    for args in (["test", "-p", str(project), "--quiet"],
                 ["validate", "--audience", "-p", str(project), "--quiet"],
                 ["init", str(tmp_path / "new"), "--from", str(source), "--quiet"],
                 ["init", str(tmp_path / "bare"), "--quiet"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        assert (result.stdout, result.stderr) == ("", ""), args
