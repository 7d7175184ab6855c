"""A trigger's action is a contact like any other: `cvm serve` gives it only to a customer who
may be contacted on its channel, as the next best action on a channel is (README "Real time"):
not to a customer who opted out, nor without the channel's consent, nor where a contact policy
blocks the channel. The trigger still fires, and says why its action is withheld; an action
on no channel (an alert to the staff) is no contact and is given."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pandas as pd
import pytest

from tests.history_runs import cvm, retail_copy, run, set_as_of
from tests.serve_util import client, complaint, serving

VIP = {"platinum", "gold"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, dict]]:
    """Two runs two weeks apart, an opt-out imported between them; the second run served."""
    tmp = tmp_path_factory.mktemp("trigger-consent")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CVM_HISTORY_URL", str(tmp / "h.sqlite"))
        project = retail_copy(tmp, ("triggers",))
        config = set_as_of(project, "2025-12-01")
        first = tmp / "run1"
        run(project, first)
        actions = pd.read_csv(first / "actions.csv", dtype={"customer_id": str},
                              keep_default_na=False).set_index("customer_id")
        listed = actions.index[actions["channel"] != "call_centre"][:40]
        (tmp / "r.csv").write_text("customer_id,campaign,date,outcome\n" + "".join(
            f"{c},{actions.loc[c, 'campaign']},2025-12-04,opted_out\n" for c in listed)
            + "NEW-9,win_back,2025-12-04,opted_out\n")  # not a customer of the runs
        done = cvm("responses", "import", str(tmp / "r.csv"), "--project", str(project))
        assert done.exit_code == 0, done.stderr
        set_as_of(project, "2025-12-15", config)
        second = run(project, tmp / "run2")
        table = pd.read_parquet(second / "customers.parquet").set_index("customer_id")
        vip = table[table["value_tier"].isin(VIP)]
        phone = vip.index[vip["consent_phone"].astype(bool)]
        gone = [c for c in phone if c in listed]
        called = [c for c in phone if c in actions.index
                  and actions.loc[c, "channel"] == "call_centre"]
        free = [c for c in phone if c not in listed and c not in called]
        who = {"opted_out": gone[0], "called": called[0], "free": free[0],
               "no_consent": next(c for c in vip.index[~vip["consent_phone"].astype(bool)]
                                  if c not in listed),
               "campaign": str(actions.loc[gone[0], "campaign"])}
        with serving(project, run=second, watch_seconds=0) as service, \
                client(service) as http:
            yield http, who


def test_an_opted_out_customer_gets_no_call_from_a_trigger(served: tuple) -> None:
    http, who = served
    fired = complaint(http, who["opted_out"])["vip_complaint"]
    assert (fired["action"], fired["trigger_action"], fired["channel"]) == (
        "no_action", "service_recovery_call", "call_centre")
    assert fired["withheld"] == ("contact policy opted_out blocks call_centre: opted out on "
                                 f"2025-12-04 (campaign {who['campaign']})")
    # what the history records: no call was asked of anyone
    shown = http.get(f"/v1/customers/{who['opted_out']}").json()["history"]["interactions"]
    mine = next(i for i in shown if i["interaction_id"] == fired["interaction_id"])
    assert mine["action"] == "no_action"


def test_no_consent_on_the_trigger_s_channel(served: tuple) -> None:
    http, who = served
    fired = complaint(http, who["no_consent"])["vip_complaint"]
    assert (fired["action"], fired["withheld"]) == (
        "no_action", "no consent on call_centre: consent_phone is False")


def test_a_contact_policy_blocks_the_trigger_s_channel(served: tuple) -> None:
    http, who = served
    fired = complaint(http, who["called"])["vip_complaint"]
    assert fired["action"] == "no_action"
    assert fired["withheld"].startswith("contact policy call_rest blocks call_centre: ")


def test_a_customer_who_may_be_called_is_called(served: tuple) -> None:
    http, who = served
    fired = complaint(http, who["free"])["vip_complaint"]
    assert (fired["action"], fired["trigger_action"], fired["withheld"]) == (
        "service_recovery_call", "service_recovery_call", None)


def test_a_customer_not_in_the_run_has_no_consent_known(served: tuple) -> None:
    """A second complaint in a week escalates to the account manager, whose channel needs
    consent_phone: unknown for a customer the run does not know, so withheld and said."""
    http, _ = served
    complaint(http, "NEW-1")
    fired = complaint(http, "NEW-1")["repeat_complaint"]
    assert (fired["action"], fired["trigger_action"], fired["withheld"]) == (
        "no_action", "escalate_to_account_manager",
        "no consent on account_manager: consent_phone is missing")


def test_an_alert_on_no_channel_is_no_contact() -> None:
    """The overdue-callback alert (no channel) goes to the staff: no one is contacted, so an
    opt-out does not withhold it; on a channel the opt-out comes before the consent."""
    from engine.serve.answers import ContactVerdict, trigger_refusal

    out = ContactVerdict("opted_out", "built_in", "every contact", None, "stops every contact",
                         ("call_centre", "email"), "opted out on 2025-12-04",
                         ("call_centre", "email"), "opted out on 2025-12-04")
    assert trigger_refusal((out,), None, None, "no consent on sms") is None
    assert trigger_refusal((out,), "call_centre", "c", "no consent on call_centre") == (
        "contact policy opted_out blocks call_centre: opted out on 2025-12-04")


def test_a_policy_about_a_campaign_is_read_for_that_campaign() -> None:
    """A contact policy about one campaign blocks that campaign's contacts, whatever the run
    decided: for a trigger's action, and for an eligible action on a channel that is not the
    decision (the verdict on the decided campaign blocks nothing)."""
    from engine.project.rulebook import Policy
    from engine.serve.answers import ContactVerdict, settle, trigger_refusal

    rest = ContactVerdict("recovery_rest", "cool_down", "campaign recovery", "recovery", "",
                          (), "", ("email",), "contacted on 2025-12-01, within 14 days")
    assert trigger_refusal((rest,), "email", "recovery", None) == (
        "contact policy recovery_rest blocks email: contacted on 2025-12-01, within 14 days")
    assert trigger_refusal((rest,), "email", "other", None) is None

    def policy(pid: str, priority: int, channel: str) -> Policy:
        return Policy(pid, pid, priority, None, pid, None, (channel,), None,  # type: ignore
                      pid, True, "policies/p.yaml", 1)

    # the run decided recovery (on sms): the verdict on it blocks nothing of develop's
    develop_rest = ContactVerdict("develop_rest", "cool_down", "campaign develop", "develop",
                                  "", (), "", ("email",), "contacted on 2025-12-01")
    eligible = [policy("recovery", 90, "sms"), policy("develop", 50, "email"),
                policy("welcome", 10, "email")]
    pick = {"action": "recovery", "policy_id": "recovery", "campaign": "recovery"}
    got = settle(pick, eligible, "email", (develop_rest,), None)
    assert (got["action"], got["reason"]) == (
        "welcome", "welcome (priority 10): welcome; recovery is not given on email (policy "
        "recovery: sms); develop: contact policy develop_rest blocks email (contacted on "
        "2025-12-01)")


def test_an_opt_out_of_a_customer_not_in_the_run_is_kept(served: tuple) -> None:
    """The history's opt-out holds for a customer the run does not know (the review's case):
    said before their unknown consent."""
    http, _ = served
    complaint(http, "NEW-9")
    fired = complaint(http, "NEW-9")["repeat_complaint"]
    assert (fired["action"], fired["withheld"]) == (
        "no_action", "contact policy opted_out blocks account_manager: opted out on "
        "2025-12-04 (campaign win_back)")
