"""`cvm validate` says a file's problems in the file's order, each with a hint (a new user's
trial: campaigns.yaml's line 7 said before its line 6, and `attribution_days: 0` and a contact
policy's `max_contacts: 0` without a hint, where the README promises one for every problem)."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project


def _validate(project: Path) -> str:
    result = CliRunner().invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 1
    return result.stderr


def test_a_file_s_problems_come_in_its_order_each_with_a_hint(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    campaigns = project / "policies" / "campaigns.yaml"
    campaigns.write_text(campaigns.read_text().replace(
        'salt: "2026"', 'salt: "2026"\nlearning:\n  prior_customers: -5\nattribution_days: 0'))
    assert _validate(project) == (
        "error: policies/campaigns.yaml:6:20: learning.prior_customers: found -5, expected a "
        "whole number of at least 0\n"
        "  hint: a negative number is never one here: write it without the minus sign\n"
        "error: policies/campaigns.yaml:7:19: attribution_days: found 0, expected a whole "
        "number from 1 to 365\n"
        "  hint: the days after a run in which a purchase or a response counts for its "
        "campaign, 30 for a month (README \"Channels and campaigns\")\n"
        "2 error(s), 0 warning(s) in 1 file(s)\n"
        "not checked until policies/campaigns.yaml reads: the channels the contact policies "
        "name\n")


def test_a_contact_policy_of_no_contact_gets_a_hint(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    contacts = project / "policies" / "contact_policies.yaml"
    contacts.write_text(contacts.read_text().replace("    max_contacts: 1\n",
                                                     "    max_contacts: 0\n"))
    assert _validate(project) == (
        "error: policies/contact_policies.yaml:8:19: contact_policies[0].max_contacts: found 0, "
        "expected a whole number of at least 1\n"
        "  hint: the contacts in the window a customer may have had: 1 or more (a channel no "
        "one may be contacted on is left out of the policies' channels)\n"
        "1 error(s), 0 warning(s) in 1 file(s)\n")


def _two_files_problems(tmp_path: Path) -> Path:
    """The example with cvm.yaml's problems found before and after another file's: an
    unrequired consent (found with the policies), an output folder that is a file (found
    last), and policies/notes.yml's warning between them."""
    project = copy_example_project(tmp_path)
    config = project / "cvm.yaml"
    text = config.read_text().replace("output: output\n", "")
    config.write_text(text.replace("name: Retail example\n",
                                   "name: Retail example\noutput: cvm.yaml\n").replace(
        "    push: PushOptIn\n", "    push: PushOptIn\n    fax: MailOptIn\n"))
    (project / "policies" / "notes.yml").write_text("a: 1\n")
    return project


def test_a_file_s_problems_stay_together_when_another_file_s_come_between(
        tmp_path: Path) -> None:
    """The review: cvm.yaml's unrequired consent (found with the policies), another file's
    warning, then cvm.yaml's output folder (found after them) came out in that order."""
    project = _two_files_problems(tmp_path)
    said = [x.split(": ")[1] for x in _validate(project).splitlines()
            if x.startswith(("error:", "warning:"))]
    assert said == ["cvm.yaml:4:9", "cvm.yaml:31:10", "policies/notes.yml"], said


def test_a_channel_no_declared_one_resembles_gets_a_hint(tmp_path: Path) -> None:
    """A new user's trial: a trigger's `channel: fax` and a contact policy's said without a
    hint (no declared channel is near enough to suggest)."""
    project = copy_example_project(tmp_path)
    shutil.copytree(ROOT / "triggers", project / "triggers")
    trigger = project / "triggers" / "service_recovery.yaml"
    trigger.write_text(trigger.read_text().replace("channel: call_centre", "channel: fax", 1))
    contacts = project / "policies" / "contact_policies.yaml"
    contacts.write_text(contacts.read_text().replace("channel: email", "channel: fax", 1))
    hints = [x for x in _validate(project).splitlines() if x.startswith("  hint:")]
    assert hints == ["  hint: declare it in policies/channels.yaml, or name one declared "
                     "there"] * 2


def test_json_lists_the_problems_in_the_terminal_s_order(tmp_path: Path) -> None:
    """`cvm validate --json` listed them in the order the checks found them (session 37's
    closing note): a script and a person reading one project should see one order."""
    import json

    project = _two_files_problems(tmp_path)
    result = CliRunner().invoke(app, ["validate", "--project", str(project), "--json"])
    assert result.exit_code == 1
    found = json.loads(result.stdout)["problems"]
    assert [(p["file"], p["line"]) for p in found] == [
        ("cvm.yaml", 4), ("cvm.yaml", 31), ("policies/notes.yml", None)], found
