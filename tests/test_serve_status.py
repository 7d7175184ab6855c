"""The service serves the run, as the run allocated it (issue 14, review findings 1, 2, 8): the
answer carries the action list's status; a holdout customer, or one the run did not contact,
gets no action; on a channel, only an action that may be given there; a run folder whose files
or policies changed since the run is refused, and an unreadable one never stops the reload."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.errors import InputError
from engine.serve.state import load_state
from tests.ci_jobs import main_job_only, oldest_job_only
from tests.serve_util import ROOT, client, example_copy, serving

FIELDS = ("action", "policy_id", "campaign", "offer", "service_level", "reason")


def _actions(project: Path) -> pd.DataFrame:
    return pd.read_csv(project / "output" / "actions.csv", dtype=str,
                       keep_default_na=False).set_index("customer_id")


# every customer over HTTP, a minute of a job: the retail example in the main job, the
# subscription one in the oldest (the service's other tests run in both); for each, the
# policies' pick (`policy_decision`) and what to do now (`decision`), the run's both
@pytest.mark.parametrize("example", [
    pytest.param(None, marks=main_job_only("every customer of the retail example over HTTP")),
    pytest.param("subscription", marks=oldest_job_only(
        "every customer of the subscription example over HTTP"))])
def test_every_customer_gets_the_run_s_status(tmp_path: Path, example: str | None) -> None:
    project = example_copy(tmp_path, example)
    decisions = pd.read_csv(project / "output" / "decisions.csv", dtype=str,
                            keep_default_na=False)
    actions = _actions(project)
    policies = {p.id: p for p in api.load_project(project).rulebook.policies}
    levels = {c.id: c.service_levels for c in api.load_project(project).channels.channels}
    differ = []
    with serving(project, history=False) as service, client(service) as http:
        declared = http.get("/ready").json()["channels"]
        # where the customer is on the line (the subscription example has no call centre)
        channels = [c for c in declared if c == "call_centre"] or declared[:1]
        for row in decisions.to_dict("records"):
            cid = row["customer_id"]
            body = http.post(f"/v1/customers/{cid}/next-best-action").json()
            # one source of truth: the policies' pick is the run's decision, the ranked
            # actions start with it, the stage is the run's (README "Real time")
            picked = {k: row[k] or None for k in FIELDS}
            if row["action"] == "no_action":
                picked["campaign"] = None  # the batch leaves the campaign empty there too
            ranked = body["actions"]
            if {k: body["policy_decision"][k] for k in FIELDS} != picked \
                    or body["lifecycle_stage"] != row["lifecycle_stage"] \
                    or ((row["action"] != "no_action" or row["policy_id"])
                        and not (ranked and ranked[0]["policy_id"] == row["policy_id"])):
                differ.append((cid, picked, body["policy_decision"]))
            got, batch = body["decision"], actions.loc[cid] if cid in actions.index else None
            want = {k: row[k] or None for k in FIELDS}
            if batch is None:
                want.update(status=None, channel=None)
            elif batch["status"] == "allocated":
                want.update(status="allocated", channel=batch["channel"])
            else:  # holdout, not_served, suppressed: the run does not treat them
                want.update(action="no_action", policy_id=None, offer=None,
                            status=batch["status"], channel=None)
                want["reason"] = (
                    f"holdout of campaign {row['campaign']}: measured, not treated"
                    if batch["status"] == "holdout" else
                    f"not contacted by the run ({batch['status']}): {batch['reason']}")
            if {k: got[k] for k in want} != want:
                differ.append((cid, want, got))
            if batch is None:
                continue
            # on every channel: never the held-out campaign, never an action whose policy
            # may not be given there
            for channel in channels:
                on = http.post(f"/v1/customers/{cid}/next-best-action",
                               json={"channel": channel}).json()["decision"]
                if on["action"] == "no_action":
                    continue
                ok = channel in policies[on["policy_id"]].channels and on["channel"] == channel \
                    and on["service_level"] in levels[channel]  # as the run allocates
                if batch["status"] == "holdout" and on["campaign"] == batch["campaign"]:
                    ok = False
                if not ok:
                    differ.append((cid, channel, on))
    assert len(decisions) >= 2000
    assert differ == []


def test_holdout_on_the_line_gets_no_action(tmp_path: Path) -> None:
    project = example_copy(tmp_path)
    actions = _actions(project)
    held = actions.index[actions["status"] == "holdout"][0]
    with serving(project, history=False) as service, client(service) as http:
        for channel in (None, "call_centre", "email"):
            body = http.post(f"/v1/customers/{held}/next-best-action",
                             json={"channel": channel}).json()
            campaign = actions.loc[held, "campaign"]
            assert body["decision"]["action"] == "no_action"
            assert body["decision"]["status"] == "holdout"
            assert body["decision"]["reason"] == (f"holdout of campaign {campaign}: measured, "
                                                  "not treated")
            assert body["batch"]["status"] == "holdout"
            assert body["policy_decision"]["action"] == actions.loc[held, "action"]
            # a new user: actions[] listed the held-out campaign with on_channel true, which
            # an agent's screen could offer all the same
            held_out = [a for a in body["actions"] + body["not_eligible"]
                        if a["campaign"] == campaign]
            assert held_out and all(a["on_channel"] is (None if channel is None else False)
                                    for a in held_out), held_out


def test_an_action_not_given_on_the_channel_is_not_offered_there(tmp_path: Path) -> None:
    project = example_copy(tmp_path)
    table = pd.read_parquet(project / "output" / "customers.parquet").set_index("customer_id")
    actions = _actions(project)
    # win_back allocated, and the customer may be phoned: win_back's policy allows
    # direct_mail, email and sms only
    who = next(c for c in actions.index[(actions["status"] == "allocated")
                                        & (actions["action"] == "win_back")]
               if table.loc[c, "consent_phone"])
    where = actions.loc[who, "channel"]
    with serving(project, history=False) as service, client(service) as http:
        body = http.post(f"/v1/customers/{who}/next-best-action",
                         json={"channel": "call_centre"}).json()
        assert body["decision"]["action"] == "no_action"
        assert body["decision"]["reason"] == (
            "no eligible action may be given on call_centre: win_back is not given on "
            "call_centre (policy win_back: direct_mail, email, sms)")
        assert body["policy_decision"]["action"] == "win_back"
        there = http.post(f"/v1/customers/{who}/next-best-action",
                          json={"channel": where}).json()["decision"]
        assert (there["action"], there["status"], there["channel"]) == (
            "win_back", "allocated", where)


def test_a_channel_no_eligible_policy_lists_is_said_before_its_consent(tmp_path: Path) -> None:
    """An integrator's find: on a channel win_back is never given, a customer without the
    phone's consent got 'no consent on call_centre', and an agent would ask for a consent
    that changes nothing."""
    project = example_copy(tmp_path)
    table = pd.read_parquet(project / "output" / "customers.parquet").set_index("customer_id")
    actions = _actions(project)
    who = next(c for c in actions.index[(actions["status"] == "allocated")
                                        & (actions["action"] == "win_back")]
               if not table.loc[c, "consent_phone"])
    with serving(project, history=False) as service, client(service) as http:
        got = http.post(f"/v1/customers/{who}/next-best-action",
                        json={"channel": "call_centre"}).json()["decision"]
    assert (got["action"], got["reason"]) == (
        "no_action", "no eligible action may be given on call_centre: win_back is not given "
        "on call_centre (policy win_back: direct_mail, email, sms)")


def test_no_consent_on_the_channel(tmp_path: Path) -> None:
    project = example_copy(tmp_path)
    table = pd.read_parquet(project / "output" / "customers.parquet")
    actions = _actions(project)
    who = next(c for c in actions.index[actions["status"] == "not_served"]
               if not table.set_index("customer_id").loc[c, "consent_email"])
    with serving(project, history=False) as service, client(service) as http:
        got = http.post(f"/v1/customers/{who}/next-best-action",
                        json={"channel": "email"}).json()["decision"]
    assert got["action"] == "no_action"
    assert got["reason"] == "no consent on email: consent_email is False"


def _readme_block(start: str) -> str:
    text = (ROOT / "README.md").read_text()
    begin = text.index(start)
    return text[begin:text.index("```", begin)].strip()


def _score_into_the_run(project: Path) -> None:
    """`cvm score` into the run folder (its default output, named: else refused)."""
    result = CliRunner().invoke(app, ["score", "--project", str(project), "--out",
                                      str(project / "output"), "--quiet"])
    assert result.exit_code == 0, result.output


def test_a_run_folder_changed_after_the_run_is_refused(tmp_path: Path) -> None:
    project = example_copy(tmp_path)
    load_state(project)  # as written: served
    policy = project / "policies" / "win_back.yaml"
    kept = policy.read_text()
    policy.write_text(kept.replace("clv_discounted: {gte: 25}", "clv_discounted: {gte: 10}"))
    with pytest.raises(InputError) as found:
        load_state(project)
    assert "changed since run" in found.value.format()
    assert "policies/win_back.yaml" in found.value.format()
    # as README "Real time" shows it, from the CLI (exit 1, before the key is even used)
    run_id = json.loads((project / "output" / "manifest.json").read_text())["run_id"]
    result = CliRunner().invoke(app, ["serve", str(project), "--port", "1"],
                                env={"CVM_SERVE_KEY": "k" * 20})
    assert result.exit_code == 1
    shown = _readme_block("error: policies/win_back.yaml: changed since run").replace(
        "86d9d5d712e66867", run_id)
    assert result.output.strip() == shown
    # two files changed: the first named, the other with it
    (project / "rules" / "lifecycle.yaml").write_text(
        (project / "rules" / "lifecycle.yaml").read_text() + "# a comment\n")
    with pytest.raises(InputError) as found:
        load_state(project)
    assert found.value.format().splitlines()[0].endswith(
        f"policies/win_back.yaml: changed since run {run_id} was made (with "
        "rules/lifecycle.yaml): the service decides with the rules and policies the run had")
    policy.write_text(kept)
    (project / "rules" / "lifecycle.yaml").write_text(
        (project / "rules" / "lifecycle.yaml").read_text().removesuffix("# a comment\n"))
    load_state(project)
    _score_into_the_run(project)
    with pytest.raises(InputError) as found:
        load_state(project)
    said = found.value.format().splitlines()
    assert said[0].endswith(f"output: changed since run {run_id} was made: customers.parquet")
    assert said[1] == ("  hint: run `cvm run` again (a `cvm score` into the run folder, or a "
                       "file edited by hand)")


def test_a_run_made_with_another_configuration_names_it(tmp_path: Path) -> None:
    """A run made with --config jan.yaml into the folder a service on cvm.yaml serves: the
    refusal said 'cvm.yaml: changed since run ...', which it had not (an integrator's find)."""
    project = example_copy(tmp_path)
    (project / "jan.yaml").write_text((project / "cvm.yaml").read_text())
    made = CliRunner().invoke(app, ["run", "--config", str(project / "jan.yaml"),
                                    "--no-history", "--quiet"])
    assert made.exit_code == 0, made.output
    run_id = json.loads((project / "output" / "manifest.json").read_text())["run_id"]
    with pytest.raises(InputError) as found:
        load_state(project)
    assert found.value.format() == (
        f"output: run {run_id} was made with jan.yaml, the service reads cvm.yaml\n"
        "  hint: start the service on the configuration the run was made with: cvm serve "
        f"--project {project} --config {project / 'jan.yaml'} (or make the run with "
        "cvm.yaml)")
    load_state(project, config_file=project / "jan.yaml")  # served as made
    # a configuration in a folder of the project: the hint names the project, which
    # --config alone would take to be the configuration's folder (the reviewer's find)
    (project / "conf").mkdir()
    (project / "jan.yaml").rename(project / "conf" / "jan.yaml")
    made = CliRunner().invoke(app, ["run", "--project", str(project), "--config",
                                    str(project / "conf" / "jan.yaml"), "--no-history",
                                    "--quiet"])
    assert made.exit_code == 0, made.output
    with pytest.raises(InputError) as found:
        load_state(project)
    assert f"cvm serve --project {project} --config {project / 'conf' / 'jan.yaml'}" in \
        found.value.format()
    load_state(project, config_file=project / "conf" / "jan.yaml")


def test_a_changed_policy_is_refused_at_reload_and_said(tmp_path: Path) -> None:
    project = example_copy(tmp_path)
    with serving(project, history=False, watch_seconds=0) as service, \
            client(service) as http:
        before = http.get("/ready").json()
        _score_into_the_run(project)
        answer = http.post("/v1/admin/reload")
        assert answer.status_code == 409
        assert "customers.parquet" in answer.json()["detail"]
        ready = http.get("/ready").json()
        assert ready["run_id"] == before["run_id"]
        assert "customers.parquet" in ready["reload_error"]


def test_an_unreadable_run_never_stops_the_watcher(tmp_path: Path) -> None:
    project = example_copy(tmp_path)
    out = project / "output"
    with serving(project, history=False, watch_seconds=0.1) as service, \
            client(service) as http:
        first = http.get("/ready").json()["run_id"]
        data = (out / "customers.parquet").read_bytes()
        (out / "customers.parquet").write_bytes(data[: len(data) // 2])
        manifest = json.loads((out / "manifest.json").read_text())
        # the hash of the broken file: the check passes, reading it fails
        manifest["outputs"]["customers.parquet"] = hashlib.sha256(
            data[: len(data) // 2]).hexdigest()
        (out / "manifest.json").write_text(json.dumps(manifest))  # a new stamp
        deadline = time.monotonic() + 30
        while http.get("/ready").json()["reload_error"] is None:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert "customers.parquet" in http.get("/ready").json()["reload_error"]
        answer = http.post("/v1/admin/reload")
        assert answer.status_code == 409
        assert "customers.parquet" in answer.json()["detail"]
        (project / "policies" / "win_back.yaml").write_text(
            (project / "policies" / "win_back.yaml").read_text().replace(
                "clv_discounted: {gte: 25}", "clv_discounted: {gte: 10}"))
        new = api.run(project, out=out).run_id
        assert new != first
        while http.get("/ready").json()["run_id"] != new:  # the watcher is alive
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert http.get("/ready").json()["reload_error"] is None


def test_a_reload_is_said_on_the_log(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """The watcher's reloads wrote no log line: an operator could not tell when the service
    began serving a new run. Each reload that succeeds is said, with what asked for it."""
    project = example_copy(tmp_path)
    with serving(project, history=False, watch_seconds=0.1, access_log=True) as service, \
            client(service) as http:
        first = http.get("/ready").json()["run_id"]
        capfd.readouterr()
        (project / "policies" / "win_back.yaml").write_text(
            (project / "policies" / "win_back.yaml").read_text().replace(
                "clv_discounted: {gte: 25}", "clv_discounted: {gte: 10}"))
        new = api.run(project, out=project / "output").run_id
        deadline = time.monotonic() + 30
        while http.get("/ready").json()["run_id"] != new:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert http.post("/v1/admin/reload").status_code == 200
    said = [line for line in capfd.readouterr().err.splitlines() if "reloaded" in line]
    assert said == [
        f"Serving run {new}, was {first} (2,000 customers as of 2026-01-01): reloaded, the run "
        "folder's manifest.json changed",
        f"Serving run {new} again (2,000 customers as of 2026-01-01): reloaded, asked by POST "
        "/v1/admin/reload"]


def test_quiet_says_no_reload(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    project = example_copy(tmp_path)
    with serving(project, history=False, watch_seconds=0) as service, client(service) as http:
        assert http.post("/v1/admin/reload").status_code == 200
    assert "reloaded" not in capfd.readouterr().err


def _new_run(project: Path) -> str:
    """A new run of the project (win_back's threshold lowered): its id."""
    policy = project / "policies" / "win_back.yaml"
    policy.write_text(policy.read_text().replace("clv_discounted: {gte: 25}",
                                                 "clv_discounted: {gte: 10}"))
    return api.run(project, out=project / "output").run_id


def _held_reload(service: Any) -> tuple[Any, Any]:
    """The service's next reload held inside its load until ``go`` is set (``entered`` once
    it is there): entered, go."""
    import threading

    load, entered, go = service.holder.reload, threading.Event(), threading.Event()

    def slow(*args: object, **kwargs: object) -> object:
        if not entered.is_set():  # the first reload waits inside its load
            entered.set()
            go.wait(30)
        return load(*args, **kwargs)

    service.holder.reload = slow
    return entered, go


def _new_run_and_a_held_reload(project: Path, service: Any) -> tuple[str, str, Any, Any]:
    """A new run, and the service's first reload from then on held: the served run, the new
    run's id, entered, go."""
    first = service.holder.state.run_id
    new = _new_run(project)
    return (first, new, *_held_reload(service))


def test_two_reloads_at_once_say_what_each_replaced(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """The watcher and POST /v1/admin/reload at the same moment: the second reload starts
    from what the first served, so one says "was A" and the other "again" (both read the
    run served before either had loaded, and both said "was A")."""
    import threading

    project = example_copy(tmp_path)
    with serving(project, history=False, watch_seconds=0, access_log=True) as service:
        first, new, entered, go = _new_run_and_a_held_reload(project, service)
        capfd.readouterr()
        one = threading.Thread(target=service.reload, args=("one",))
        one.start()
        assert entered.wait(30)
        two = threading.Thread(target=service.reload, args=("two",))
        two.start()
        time.sleep(0.5)  # the second is under way (or waits for the first)
        go.set()
        one.join(30)
        two.join(30)
    said = [line for line in capfd.readouterr().err.splitlines() if "reloaded" in line]
    assert [line.split(" (")[0] for line in said] == [
        f"Serving run {new}, was {first}", f"Serving run {new} again"]


def test_a_reload_asked_during_another_answers_what_it_replaced(tmp_path: Path) -> None:
    """POST /v1/admin/reload while the watcher's reload loads: the answer's previous_run_id is
    the run served when this reload began (it was read before waiting: the run the watcher's
    reload had replaced)."""
    import threading

    project = example_copy(tmp_path)
    with serving(project, history=False, watch_seconds=0) as service, \
            client(service) as http:
        first, new, entered, go = _new_run_and_a_held_reload(project, service)
        watcher = threading.Thread(target=service.reload, args=("watcher",))
        watcher.start()
        assert entered.wait(30)
        threading.Timer(0.5, go.set).start()  # the POST is waiting for it meanwhile
        answer = http.post("/v1/admin/reload").json()
        watcher.join(30)
    assert first != new
    assert (answer["run_id"], answer["previous_run_id"]) == (new, new)


def test_the_watcher_does_not_load_again_what_a_reload_it_waited_for_loaded(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """The watcher saw the new manifest while POST /v1/admin/reload was loading it, waited for
    that reload, then loaded the same run a second time (a full load, "again" on the log): it
    now compares the manifest with the run served once it holds the reload lock."""
    import threading

    project = example_copy(tmp_path)
    with serving(project, history=False, watch_seconds=0.1, access_log=True) as service:
        first = service.holder.state.run_id
        entered, go = _held_reload(service)
        capfd.readouterr()
        asked = threading.Thread(target=service.reload, args=("asked",))
        asked.start()
        assert entered.wait(30)
        new = _new_run(project)  # the watcher sees it, waits
        time.sleep(1.0)
        go.set()
        asked.join(30)
        time.sleep(1.0)  # the watcher's turn, then a few more looks at the manifest
    said = [line for line in capfd.readouterr().err.splitlines() if "reloaded" in line]
    assert [line.split(" (")[0] for line in said] == [f"Serving run {new}, was {first}"]


def test_an_opt_out_is_said_first_on_a_channel_no_eligible_policy_lists() -> None:
    """The reviewer's find: 'no eligible action may be given on call_centre' came before the
    opt-out, and the agent was not told the customer had opted out of every contact."""
    from engine.run.build import load_project
    from engine.serve.answers import settle
    from engine.serve.state import _opted_out_verdict

    book = load_project(ROOT).rulebook
    win_back = next(p for p in book.policies if p.id == "win_back")
    pick = {"action": "win_back", "policy_id": "win_back", "campaign": win_back.campaign}
    channels = ("call_centre", "direct_mail", "email", "sms")
    gone = _opted_out_verdict(channels, "opted out on 2026-01-03 (campaign win_back)")
    said = settle(pick, [win_back], "call_centre", [gone], None)
    assert said["reason"] == ("contact policy opted_out blocks call_centre: opted out on "
                              "2026-01-03 (campaign win_back)")
    said = settle(pick, [win_back], "call_centre", [], None)
    assert said["reason"].startswith("no eligible action may be given on call_centre: ")


def test_a_channel_that_does_not_serve_the_customer_s_service_level_gives_nothing(
        tmp_path: Path) -> None:
    """A call-centre trial: C000118 (service level priority) was offered retain on
    account_manager, which serves premium only; the run never allocates it there, and cvm
    explain says 'account_manager does not serve service level priority'."""
    project = example_copy(tmp_path)
    decisions = pd.read_csv(project / "output" / "decisions.csv", dtype=str,
                            keep_default_na=False).set_index("customer_id")
    assert decisions.loc["C000118", "service_level"] == "priority"
    with serving(project, history=False) as service, client(service) as http:
        got = http.post("/v1/customers/C000118/next-best-action",
                        json={"channel": "account_manager"}).json()
        on_call_centre = http.post("/v1/customers/C000118/next-best-action",
                                   json={"channel": "call_centre"}).json()["decision"]
    assert got["decision"]["action"] == "no_action"
    assert got["decision"]["reason"] == ("account_manager does not serve service level "
                                         "priority (it serves premium)")
    assert not any(a["on_channel"] for a in got["actions"])
    assert on_call_centre["action"] == "retain"  # call_centre serves priority
