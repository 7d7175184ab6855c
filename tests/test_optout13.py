"""An ``opted_out`` response stops contacts for good (README "Contact policies", the built-in
opt-out rule): from the first run whose as-of date is after it, the customer is suppressed on
every channel inside the allocation, with or without policies/contact_policies.yaml."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

from engine.activation.contact import ContactLog, suppress
from engine.errors import InputError
from engine.history import record
from engine.history.contact_explain import contact_verdicts, lines_of
from engine.history.contacts import contact_log
from engine.history.responses import import_responses
from engine.project.contact_policies import (
    NONE,
    ContactPolicies,
    ContactPolicy,
    load_contact_policies,
)
from engine.run.build import load_project
from engine.serve.state import load_state
from engine.workflow.json_output import plain, schema_path
from tests.history_runs import cvm, open_history, retail_copy, run, set_as_of, snapshot

CHANNELS = ["email", "direct_mail"]
WEEKLY = ContactPolicies((ContactPolicy("weekly", "cap", "", None, None, 1, 7, (), 2),),
                         "policies/contact_policies.yaml")


def obj(*values: object) -> np.ndarray:
    return np.array(values, dtype=object)


def test_an_opt_out_blocks_every_channel_without_any_policy() -> None:
    log = ContactLog(opted_out_customer=obj("b", "c", "b"),
                     opted_out_date=obj("2026-01-02", "2026-02-01", "2026-03-04"),
                     opted_out_campaign=obj("win_back", "x", "retain"))
    found = suppress(NONE, log, obj("a", "b", "c"), obj("x", "x", "x"), CHANNELS,
                     np.array([[True, True], [True, False], [False, False]]))
    assert found.blocked.tolist() == [[False, False], [True, True], [True, True]]
    # the first opt-out is named; a customer with no option left was not suppressed by it
    assert found.reason.tolist() == ["", "opted out on 2026-01-02 (campaign win_back)", ""]
    assert found.counts == {"opted_out": 1}


def test_the_opt_out_comes_first_and_the_policies_still_count() -> None:
    log = ContactLog(contact_customer=obj("b"), contact_days_ago=np.array([2]),
                     contact_channel=obj("email"), contact_campaign=obj("x"),
                     opted_out_customer=obj("b"), opted_out_date=obj("2026-03-04"),
                     opted_out_campaign=obj("x"))
    found = suppress(WEEKLY, log, obj("b"), obj("x"), CHANNELS, np.ones((1, 2), dtype=bool))
    assert found.reason.tolist() == [
        "opted out on 2026-03-04 (campaign x); contact policy weekly: 1 contact in the last "
        "7 days (at most 1)"]
    assert found.counts == {"opted_out": 1, "weekly": 1}
    alone = suppress(WEEKLY, log, obj("b"), obj("x"), CHANNELS, np.ones((1, 2), dtype=bool),
                     built_in=False)
    assert alone.counts == {"weekly": 1}


RESPONSES = ("customer_id,campaign,date,outcome\n"
             "C0000001,retain_high_value,2024-06-01,opted_out\n"  # long before any window
             "C0000001,retain_high_value,2025-01-20,opted_out\n"  # again: the first is named
             "C0000002,retain_high_value,2025-02-01,opted_out\n"  # on the as-of date: unknown
             "C0000003,retain_high_value,2025-01-31,converted\n")


def test_the_history_gives_every_opt_out_known_whatever_the_window(
        history_url: str, tmp_path: Path) -> None:
    store = open_history(history_url, tmp_path)
    try:
        record.record_run(store, run_id="r1", as_of=dt.date(2024, 5, 1), project="t",
                          inputs={}, snapshot=snapshot(4))
        (tmp_path / "r.csv").write_text(RESPONSES)
        import_responses(store, tmp_path / "r.csv", "r.csv")
        log = contact_log(store, as_of=dt.date(2025, 2, 1), window=7, source="test")
        later = contact_log(store, as_of=dt.date(2025, 2, 2), window=None, source="test")
    finally:
        store.close()
    assert list(zip(log.opted_out_customer, log.opted_out_date, log.opted_out_campaign,
                    strict=True)) == [("C0000001", "2024-06-01", "retain_high_value"),
                                      ("C0000001", "2025-01-20", "retain_high_value")]
    assert log.response_customer.tolist() == ["C0000003"]  # the window's: the last 7 days
    found = suppress(NONE, log, obj("C0000000", "C0000001", "C0000002"), obj("", "", ""),
                     CHANNELS, np.ones((3, 2), dtype=bool))
    assert found.reason.tolist() == [
        "", "opted out on 2024-06-01 (campaign retain_high_value)", ""]
    assert sorted(set(later.opted_out_customer)) == ["C0000001", "C0000002"]


def actions(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "actions.csv", dtype={"customer_id": str},
                       keep_default_na=False)


def test_a_run_after_an_opt_out_contacts_the_customer_on_no_channel(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    project = retail_copy(tmp_path)
    (project / "policies" / "contact_policies.yaml").unlink()  # the rule is built in
    config = set_as_of(project, "2025-12-01")
    first = actions(run(project, tmp_path / "run1"))
    sent = first[first["status"] == "allocated"].sort_values("customer_id").iloc[0]
    who, campaign = str(sent["customer_id"]), str(sent["campaign"])
    (tmp_path / "r.csv").write_text("customer_id,campaign,date,outcome\n"
                                    f"{who},{campaign},2025-12-04,opted_out\n")
    done = cvm("responses", "import", str(tmp_path / "r.csv"), "--project", str(project))
    assert done.exit_code == 0, done.stderr
    set_as_of(project, "2025-12-15", config)
    said = cvm("run", "--project", str(project), "--out", str(tmp_path / "run2"))
    assert said.exit_code == 0, said.stderr
    # "(1 opted out)" read as every opt-out known, where it counts the suppressed customers
    # (those with an action) whose opt-out stopped them (a CRM manager's trial)
    assert ", 1 suppressed by a contact policy or an opt-out (1 of them for an opt-out)\n" \
        in said.stdout
    second = actions(tmp_path / "run2")
    row = second[second["customer_id"] == who].iloc[0]
    reason = f"opted out on 2025-12-04 (campaign {campaign})"
    assert (row["status"], row["channel"], row["reason"]) == ("suppressed", "", reason)
    manifest = json.loads((tmp_path / "run2" / "manifest.json").read_text())
    assert manifest["counts"]["suppressed"] == 1
    assert manifest["contact_policies"]["customers_suppressed"] == 1
    assert manifest["contact_policies"]["customers_blocked_per_policy"] == {"opted_out": 1}
    # what `cvm explain` prints and gives as contact_policies in --json (no scoring again)
    found = contact_verdicts(load_project(project).config, NONE, customer_id=who,
                             campaign=campaign, channels=(), as_of=dt.date(2025, 12, 15))
    assert found is not None and found["opted_out"] == reason
    assert found["contacts_counted"] is None  # no policy: no contact counted
    schema = json.loads(schema_path("explain").read_text())
    jsonschema.validate(plain(found), schema["properties"]["contact_policies"],
                        cls=jsonschema.Draft202012Validator)
    assert lines_of(found)[1:] == [  # as `cvm explain` prints them
        "Contact policies: none (no policies/contact_policies.yaml)",
        f"  opted_out                built in (every contact): blocks every channel: {reason}"]
    # cvm serve: the run's status outbound, the built-in verdict on every channel inbound
    state = load_state(project, run=tmp_path / "run2")
    ready = state.ready[who]
    assert [(v.policy, v.reason) for v in ready.verdicts] == [("opted_out", reason)]
    assert json.loads(ready.nba)["decision"]["status"] == "suppressed"
    inbound = json.loads(state.nba_bytes(who, "email")[0])
    assert (inbound["decision"]["action"], inbound["decision"]["reason"]) == (
        "no_action", f"contact policy opted_out blocks email: {reason}")
    assert inbound["contact_policies"][0]["blocks_this_channel"] is True


def test_no_policy_may_take_the_built_in_rule_s_id(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "contact_policies.yaml").write_text(
        "contact_policies:\n  - {id: opted_out, kind: cap, max_contacts: 1, days: 7}\n")
    with pytest.raises(InputError) as found:
        load_contact_policies(tmp_path, None, None)
    assert [p.format() for p in found.value.problems] == [
        "policies/contact_policies.yaml:2:10: contact_policies[0].id: found 'opted_out', "
        "expected an id of your own: it names the built-in opt-out rule\n"
        "  hint: an opted_out response stops every contact without a policy; choose another "
        "id"]


def test_the_briefs_count_the_opted_out_with_the_suppressed() -> None:
    from engine.render.brief_data import _by_policy, _Coded

    reasons = pd.Series([
        "opted out on 2026-03-04 (campaign x); contact policy weekly: 1 contact in the last 7 "
        "days (at most 1)", "opted out on 2026-01-02 (campaign y)",
        "contact policy weekly: 1 contact in the last 7 days (at most 1)"])
    found = _by_policy(_Coded(reasons), np.arange(len(reasons)))
    assert [(r["name"], r["count"]) for r in found] == [("opted_out", 2), ("weekly", 2)]
