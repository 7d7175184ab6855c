"""A budget below the cost of one contact (a new user's channel budget of 10 at 35 a contact):
`cvm validate` warns at the budget's line, and the run's reason does not call it spent."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.test_validate_data_files import _project
from tests.test_validate_first_rows import _edit


def test_validate_warns_and_the_run_says_why(tmp_path: Path) -> None:
    project = _project(tmp_path)
    channels = project / "policies" / "channels.yaml"
    _edit(channels, "    budget: 1500\n", "    budget: 10\n")
    _edit(channels, "    budget: 200\n", "    budget: 0.01\n")
    _edit(project / "policies" / "campaigns.yaml", "    budget: 500\n", "    budget: 0.01\n")
    result = CliRunner().invoke(app, ["validate", "-p", str(project)])
    assert (result.exit_code, result.output) == (0, (
        "warning: policies/channels.yaml:15:13: channels[0].budget: budget 10 is below the cost "
        "of one contact (35): channel 'account_manager' can take no contact\n"
        "  hint: raise the budget to at least 35, or set capacity: 0 to close the channel\n"
        "warning: policies/channels.yaml:45:13: channels[3].budget: budget 0.01 is below the "
        "cost of one contact (0.02): channel 'email' can take no contact\n"
        "  hint: raise the budget to at least 0.02, or set capacity: 0 to close the channel\n"
        "warning: policies/campaigns.yaml:34:13: campaigns.win_back.budget: budget 0.01 is "
        "below the cost of one contact on every channel of campaign 'win_back' (the cheapest: "
        "email, 0.02)\n"
        "  hint: raise the budget to at least 0.02, or give its policies a cheaper channel\n"
        "0 error(s), 3 warning(s) in 2 file(s)\n"))
    result = CliRunner().invoke(app, ["run", "-p", str(project), "--no-history", "-q",
                                      "--out", str(project / "out")])
    assert result.exit_code == 0, result.output
    rows = (project / "out" / "actions.csv").read_text().splitlines()
    reasons = {line.rsplit('","', 1)[1].rstrip('"') for line in rows[1:]
               if '"not_served"' in line}
    assert "budget: the channel's budget is below the cost of one contact" in reasons
    assert "budget: the campaign budget is below the cost of one contact" in reasons
    assert not {"budget: the allowed channels' budgets are spent",
                "budget: the campaign budget is spent"} & reasons


def test_a_channel_no_one_is_expected_to_answer_is_warned_of(tmp_path: Path) -> None:
    """A channel with response_rate 0 was taken silently, and no run ever gave it a contact:
    a contact's expected value is then at most 0 (the walk takes only those above), and
    learning, which measures the contacts made, cannot lift a channel that has none (the
    review: one with contacts in the history can be lifted, and the warning says so)."""
    project = _project(tmp_path)
    channels = project / "policies" / "channels.yaml"
    text = channels.read_text()
    at = text.index("  - id: sms")
    rate = text.index("response_rate:", at)
    end = text.index("\n", rate)
    channels.write_text(text[:rate] + "response_rate: 0" + text[end:])
    line = text[:rate].count("\n") + 1
    result = CliRunner().invoke(app, ["validate", "-p", str(project)])
    assert (result.exit_code, result.output) == (0, (
        f"warning: policies/channels.yaml:{line}:20: channels[4].response_rate: response_rate "
        "0: no contact on channel 'sms' is expected to answer, so cvm run gives it no contact "
        "(unless learning measures answers to its contacts in the history)\n"
        "  hint: a contact's expected value is value_at_stake x response_rate x (1 + "
        "relationship_weight x relationship_strength) less its cost, and only a value above 0 "
        "is taken; learning measures the contacts made, so a channel with none stays at 0: "
        "set the rate you expect, or capacity: 0 to close the channel\n"
        "0 error(s), 1 warning(s) in 1 file(s)\n"))
    result = CliRunner().invoke(app, ["run", "-p", str(project), "--no-history", "-q",
                                      "--out", str(project / "out")])
    assert result.exit_code == 0, result.output
    assert ",sms," not in (project / "out" / "actions.csv").read_text()
