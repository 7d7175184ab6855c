"""Contact policies: declared in policies/contact_policies.yaml, checked at file and line,
enforced inside the allocation from the contacts the history recorded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.activation.contact import ContactLog, suppress
from engine.errors import InputError
from engine.project.contact_policies import ContactPolicies, load_contact_policies
from tests.history_runs import cvm, retail_copy, run, set_as_of, two_runs

CHANNELS = ["email", "sms"]


def policies(tmp_path: Path, text: str, campaigns: tuple[str, ...] = ("win_back",)
             ) -> ContactPolicies:
    (tmp_path / "policies").mkdir(exist_ok=True)
    (tmp_path / "policies" / "contact_policies.yaml").write_text(text)
    return load_contact_policies(tmp_path, CHANNELS, set(campaigns))


def obj(*values: object) -> np.ndarray:
    return np.array(values, dtype=object)


LOG = ContactLog(
    contact_customer=obj("a", "a", "b", "c", "c", "c", "z"),
    contact_days_ago=np.array([3, 20, 40, 5, 12, 30, 1]),
    contact_channel=obj("email", "email", "email", "sms", "sms", "email", "email"),
    contact_campaign=obj("win_back", "win_back", "win_back", "x", "x", "win_back", "x"),
    response_customer=obj("b", "d", "c"),
    response_days_ago=np.array([10, 2, 40]),
    response_outcome=obj("converted", "complained", "responded"),
    response_campaign=obj("win_back", "x", "x"))
IDS = obj("a", "b", "c", "d", "e")


def run_policies(tmp_path: Path, text: str) -> tuple[np.ndarray, np.ndarray]:
    found = suppress(policies(tmp_path, text), LOG, IDS, obj(*["win_back"] * 5),
                     CHANNELS, np.ones((5, 2), dtype=bool))
    return found.blocked, found.reason


def test_a_cap_per_channel_blocks_that_channel_only(tmp_path: Path) -> None:
    blocked, reason = run_policies(tmp_path, "contact_policies:\n"
                                   "  - {id: email_weekly, kind: cap, channel: email, "
                                   "max_contacts: 1, days: 7}\n")
    assert blocked.tolist() == [[True, False], [False] * 2, [False] * 2, [False] * 2,
                                [False] * 2]
    assert reason[0] == "contact policy email_weekly: 1 contact in the last 7 days (at most 1)"
    assert reason[1:].tolist() == [""] * 4


def test_a_total_cap_counts_every_channel_and_campaign(tmp_path: Path) -> None:
    blocked, reason = run_policies(tmp_path, "contact_policies:\n"
                                   "  - {id: monthly, kind: cap, max_contacts: 2, days: 30}\n")
    assert blocked.all(axis=1).tolist() == [True, False, True, False, False]
    assert reason[2] == "contact policy monthly: 2 contacts in the last 30 days (at most 2)"


def test_cool_down_no_response_and_quiet_days(tmp_path: Path) -> None:
    blocked, reason = run_policies(tmp_path, """\
contact_policies:
  - {id: rest, kind: cool_down, days: 4, channel: sms}
  - {id: deaf, kind: no_response, max_contacts: 2}
  - {id: calm, kind: quiet_after, days: 14}
""")
    # a: 2 contacts, no response ever -> deaf; b: converted 10 days ago -> calm, and its one
    # contact was before the response; c: responded 40 days ago, 3 contacts since -> deaf;
    # d: complained 2 days ago -> calm; e: nothing
    assert reason.tolist() == [
        "contact policy deaf: 2 contacts without a response (at most 2)",
        "contact policy calm: converted 10 days ago (quiet for 14 days)",
        "contact policy deaf: 3 contacts without a response (at most 2)",
        "contact policy calm: complained 2 days ago (quiet for 14 days)", ""]
    assert blocked.all(axis=1).tolist() == [True, True, True, True, False]


def test_a_campaign_policy_applies_to_that_campaign_only(tmp_path: Path) -> None:
    pols = policies(tmp_path, "contact_policies:\n  - {id: wb, kind: cap, campaign: win_back, "
                    "max_contacts: 1, days: 25}\n")
    found = suppress(pols, LOG, IDS, obj("win_back", "other", "win_back", "win_back",
                                         "win_back"), CHANNELS, np.ones((5, 2), dtype=bool))
    assert found.blocked.all(axis=1).tolist() == [True, False, False, False, False]


@pytest.mark.parametrize(("text", "message"), [
    ("contact_policies:\n  - {id: a, kind: cap, days: 7}\n",
     "policies/contact_policies.yaml:2:5: contact_policies[0]: a cap contact policy needs "
     "'max_contacts'"),
    ("contact_policies:\n  - id: a\n    kind: cap\n    channel: emial\n    max_contacts: 1\n"
     "    days: 7\n",
     "policies/contact_policies.yaml:4:14: contact_policies[0].channel: found 'emial', "
     "expected a channel declared in policies/channels.yaml (email, sms)"),
    ("contact_policies:\n  - {id: a, kind: quiet_after, days: 7, outcomes: [won]}\n",
     "policies/contact_policies.yaml:2:52: contact_policies[0].outcomes[0]: found 'won', "
     "expected one of converted, responded, no_response, complained, opted_out"),
    ("contact_policies:\n  - {id: a, kind: cool_down, days: 7, max_contacts: 2}\n",
     "policies/contact_policies.yaml:2:53: contact_policies[0].max_contacts: 'max_contacts' "
     "has no meaning for a cool_down contact policy"),
])
def test_mistakes_are_reported_at_their_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        policies(tmp_path, text)
    assert message in caught.value.problems[0].format()


@pytest.fixture
def retail(tmp_path: Path) -> Path:
    return retail_copy(tmp_path)


def actions(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "actions.csv", dtype={"customer_id": str},
                       keep_default_na=False)


def test_a_second_run_honours_the_contact_policies(
        retail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    (retail / "policies" / "contact_policies.yaml").write_text(
        "contact_policies:\n"
        "  - {id: monthly, kind: cap, max_contacts: 1, days: 30}\n")
    assert cvm("validate", "--project", str(retail)).exit_code == 0
    # the same as-of twice (run1, run1b): the second replaces the first
    config = set_as_of(retail, "2025-12-01")
    run(retail, tmp_path / "run1")
    set_as_of(retail, None, config)
    runs = two_runs(retail, tmp_path, "2025-12-01", "2025-12-15", names=("run1b", "run2"))
    one = actions(runs.first)
    assert "suppressed" not in set(one["status"])
    two = actions(runs.second)
    before = set(one.loc[one["status"] == "allocated", "customer_id"])
    again = two[two["customer_id"].isin(before)]
    assert len(again) > 100
    assert "allocated" not in set(again["status"])
    gone = again[again["status"] == "suppressed"]
    assert len(gone) > 100
    assert set(gone["reason"]) == {
        "contact policy monthly: 1 contact in the last 30 days (at most 1)"}
    assert (gone["channel"] == "").all()
    # the capacity of the scarce channels went to someone else
    scarce = two[two["channel"].isin(["account_manager", "call_centre"])]
    assert len(scarce) > 0 and not scarce["customer_id"].isin(before).any()
    manifest = json.loads((tmp_path / "run2" / "manifest.json").read_text())
    summary = manifest["contact_policies"]
    assert summary["runs_counted"] == 1
    assert summary["customers_suppressed"] == len(gone)
    assert manifest["counts"]["suppressed"] == len(gone)
    who = gone["customer_id"].iloc[0]
    said = cvm("explain", who, "--project", str(retail))
    assert said.exit_code == 0, said.stderr
    assert "Contact policies (policies/contact_policies.yaml; contacts from the history: 1 " \
        "counted for this customer)" in said.stdout
    assert "  monthly                  cap (every contact): blocks " in said.stdout
    contact, allocation = said.stdout.split("\nAllocation, as cvm run allocates now")
    assert contact.rstrip().endswith(
        ": contact policy monthly: 1 contact in the last 30 days (at most 1)")
    assert "\n  status         suppressed: contact policy monthly: 1 contact in the last 30 " \
        "days (at most 1)\n" in allocation  # the action list's status and reason


def test_without_history_the_policies_have_nothing_to_count(
        retail: Path, tmp_path: Path) -> None:
    (retail / "policies" / "contact_policies.yaml").write_text(
        "contact_policies:\n  - {id: monthly, kind: cap, max_contacts: 1, days: 30}\n")
    done = cvm("run", "--project", str(retail), "--out", str(tmp_path / "r"), "-q",
               "--no-history")
    assert done.exit_code == 0, done.stderr
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["contact_policies"]["contacts_from"] == "none: --no-history"
    assert manifest["counts"]["suppressed"] == 0


def test_validate_reports_a_contact_policy_mistake(retail: Path) -> None:
    (retail / "policies" / "contact_policies.yaml").write_text(
        "contact_policies:\n  - {id: a, kind: cap, channel: fax, max_contacts: 1, days: 7}\n")
    done = cvm("validate", "--project", str(retail))
    assert done.exit_code == 1
    assert "policies/contact_policies.yaml:2:33: contact_policies[0].channel: found 'fax'" \
        in done.stderr


def _proposal(retail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              contact_policies: str) -> Path:
    """The retail project without contact policies, run once two weeks ago (its contacts in
    the history), and a proposal of it with these contact policies."""
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    (retail / "policies" / "contact_policies.yaml").unlink()
    config = set_as_of(retail, "2025-12-01")
    run(retail, tmp_path / "run1")
    set_as_of(retail, "2025-12-15", config)
    proposed = tmp_path / "proposed"
    shutil.copytree(retail, proposed)
    (proposed / "policies" / "contact_policies.yaml").write_text(contact_policies)
    return proposed


def test_plan_shows_what_a_contact_policy_suppresses(
        retail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proposed = _proposal(retail, tmp_path, monkeypatch, "contact_policies:\n  - {id: monthly, "
                         "kind: cap, max_contacts: 1, days: 30}\n")
    res = cvm("plan", "-p", str(retail), "--proposed", str(proposed), "--report",
              str(tmp_path / "plan.md"))
    assert res.exit_code == 0, res.output
    md = (tmp_path / "plan.md").read_text()
    assert "| contact policy monthly |" in md, md[:3000]
    assert "suppressed by a contact policy or an opt-out" in md
    assert "suppressed: contact policy monthly: 1 contact in the last 30 days (at most 1)" in md
    # the other way round, the policy taken away: the customers it suppressed say so (issue
    # 13 trial: 'same action; the channel allocation changed (capacity, budget or ...)')
    res = cvm("plan", "-p", str(proposed), "--proposed", str(retail), "--changes",
              str(tmp_path / "back.csv"))
    assert res.exit_code == 0, res.output
    back = pd.read_csv(tmp_path / "back.csv", dtype=str, keep_default_na=False)
    freed = back[(back["status_before"] == "suppressed") & (back["status_after"] == "allocated")]
    assert len(freed) > 0
    assert set(freed["reason"]) == {"no longer suppressed (before: contact policy monthly: 1 "
                                 "contact in the last 30 days (at most 1))"}


def test_plan_says_a_channel_moved_because_a_contact_policy_now_blocks_it(
        retail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a new user's trial: it said 'the channel allocation changed (capacity, budget or
    # competition)' for customers whose email a new contact policy now blocked
    proposed = _proposal(retail, tmp_path, monkeypatch, "contact_policies:\n  - {id: "
                         "email_monthly, kind: cap, channel: email, max_contacts: 1, days: "
                         "30}\n  - {id: sms_rest, kind: cool_down, channel: sms, days: 30}\n")
    said = "contact policy email_monthly: 1 contact in the last 30 days (at most 1)"
    for base, prop, name, reason in (
            (retail, proposed, "there.csv", f"same action; email is now blocked: {said}"),
            (proposed, retail, "back.csv", f"same action; email is no longer blocked "
                                           f"(before: {said})")):
        res = cvm("plan", "-p", str(base), "--proposed", str(prop), "--changes",
                  str(tmp_path / name))
        assert res.exit_code == 0, res.output
        rows = pd.read_csv(tmp_path / name, dtype=str, keep_default_na=False)
        both = rows[(rows["status_before"] == "allocated") & (rows["status_after"] == "allocated")
                    & (rows["action_before"] == rows["action_after"])]
        email = "channel_before" if base == retail else "channel_after"
        moved = both[both[email] == "email"]
        assert len(moved) > 0
        assert set(moved["reason"]) == {reason}, moved[["customer_id", "reason"]].head()


def test_validate_reports_every_contact_policy_mistake_at_once(retail: Path) -> None:
    # a misspelt kind hid the other policies' mistakes until it was fixed (a second pass)
    (retail / "policies" / "contact_policies.yaml").write_text(
        "contact_policies:\n  - {id: a, kind: cap, channel: fax, max_contacts: 1, days: 7}\n"
        "  - {id: b, kind: cap, max_contacts: 1}\n"
        "  - {id: c, kind: capp, max_contacts: 1, days: 0}\n"
        "  - {id: a, kind: cool_down, days: x}\n")
    done = cvm("validate", "--project", str(retail))
    assert done.exit_code == 1
    assert done.stderr == (
        "error: policies/contact_policies.yaml:2:33: contact_policies[0].channel: found 'fax', "
        "expected a channel declared in policies/channels.yaml (account_manager, app_push, "
        "call_centre, direct_mail, email, sms)\n"
        "  hint: declare it in policies/channels.yaml, or name one declared there\n"
        "error: policies/contact_policies.yaml:3:5: contact_policies[1]: a cap contact policy "
        "needs 'days'\n"
        "  hint: e.g. kind: cap, max_contacts: 1, days: 7 (at most 1 contact in 7 days)\n"
        "error: policies/contact_policies.yaml:4:19: contact_policies[2].kind: found 'capp', "
        "expected one of cap, cool_down, no_response, quiet_after\n"
        "  hint: did you mean 'cap'?\n"
        "error: policies/contact_policies.yaml:4:48: contact_policies[2].days: found 0, "
        "expected a whole number from 1 to 3650\n"
        "  hint: the window in days, ending on the run's as-of date: 7 for a week, 30 for a "
        "month\n"
        "error: policies/contact_policies.yaml:5:36: contact_policies[3].days: found 'x' "
        "(text), expected a whole number from 1 to 3650\n"
        "  hint: the window in days, ending on the run's as-of date: 7 for a week, 30 for a "
        "month\n"
        "5 error(s), 0 warning(s) in 1 file(s)\n")


def test_a_file_without_policies_counts_no_contacts_and_says_so() -> None:
    """A contact policy file that holds no policy: explain read only the opt-outs, and said
    "contacts from the history: None counted for this customer" (a review)."""
    from engine.history.contact_explain import lines_of

    found = {"file": "policies/contact_policies.yaml", "contacts_from": "the history",
             "contacts_counted": None, "channels": ["email"],
             "opted_out": "opted out on 2026-03-04 (campaign win_back)", "verdicts": []}
    assert lines_of(found)[1] == ("Contact policies (policies/contact_policies.yaml; no contacts "
                                  "counted: the file holds no policy, only the opt-outs are read)")
