"""A consent read from the customers file that no channel requires and no rule tests: validate
warns at its line (a new user mapped Email OK / SMS OK / Post OK; validate and run were silent
and the run emailed 106 customers who had said no)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

runner = CliRunner()


def _validate(project: Path) -> str:
    result = runner.invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_consent_no_channel_requires_is_warned_of_at_its_line(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    channels = project / "policies" / "channels.yaml"
    channels.write_text(channels.read_text().replace("    consent: consent_email\n", ""))
    out = _validate(project)
    line = next(i for i, x in enumerate((project / "cvm.yaml").read_text().splitlines(), 1)
                if x.startswith("    email: EmailOptIn"))
    assert (f"warning: cvm.yaml:{line}:12: data.consents.email: consent_email is read from the "
            "customers file, but no channel requires it and no rule, segment, policy or trigger "
            "tests it: customers are contacted whatever it says\n"
            "  hint: add `consent: consent_email` to the channel it is for in "
            "policies/channels.yaml\n") in out
    assert len(re.findall("no channel requires it", out)) == 1


def test_a_consent_a_policy_tests_is_used(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    channels = project / "policies" / "channels.yaml"
    channels.write_text(channels.read_text().replace("    consent: consent_email\n", ""))
    policy = project / "policies" / "win_back.yaml"
    text = policy.read_text()
    assert "when:\n  all:\n" in text
    policy.write_text(text.replace("when:\n  all:\n", "when:\n  all:\n    - consent_email: true\n",
                                   1))
    assert "no channel requires it" not in _validate(project)
