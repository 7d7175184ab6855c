"""A contact policy counting over `days: 1` never blocks a run's contact: a run counts the
contacts 1 to `days` - 1 days back (README "Contact policies"), so one day covers none; only
`cvm serve`'s contacts of the day itself fall in it. A marketer's `cap` of one contact in one
day passed validate and blocked no one (a new user's trial): validate warns at its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

POLICY = """  - id: daily_email
    kind: cap
    channel: email
    max_contacts: 1
    days: {days}
"""
WARNING = (
    "warning: policies/contact_policies.yaml:{line}:11: contact_policies[5].days: found 1: a "
    "run counts the contacts of the days before its as-of date (1 day back and more), so a "
    "window of one day holds none of them and daily_email never blocks a run's contact; only "
    "cvm serve's contacts of the same day fall in it\n"
    "  hint: days: 2 counts the day before too, days: 7 the week before (README \"Contact "
    "policies\")\n"
    "0 error(s), 1 warning(s) in 1 file(s)\n")


@pytest.mark.parametrize("days", [1, 2])
def test_a_one_day_window_is_warned_about(tmp_path: Path, days: int) -> None:
    project = copy_example_project(tmp_path)
    path = project / "policies" / "contact_policies.yaml"
    text = path.read_text()
    path.write_text(text + POLICY.format(days=days))
    line = len(text.splitlines()) + 5
    result = CliRunner().invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 0, result.output
    if days == 1:
        assert result.stderr == WARNING.format(line=line)
    else:
        assert result.stderr == ""
