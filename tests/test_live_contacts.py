"""A contact `cvm serve` gives (a trigger's action on a channel) counts as a contact (README
"Contact policies"): the same service's contact policies count it at once, its next loads
read it back from the history, and the next runs count it as they count the runs' contacts
(the policies, days_since_last_contact, contacts_last_30_days) and cover it in their run id."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pandas as pd
import pytest
from sqlalchemy import func, select

from engine.history.live import live_row
from engine.history.stamp import history_stamp
from engine.history.tables import interactions, live_contacts
from engine.serve.journal import Journal
from tests.history_runs import cvm, open_history, retail_copy, run, set_as_of
from tests.serve_util import client, complaint, serving

WAIT = 30.0
CALLED = "C000106"  # allocated a call_centre contact by the bundled retail run of 2025-12-01
REST = ("contact policy call_rest blocks call_centre: contact policy call_rest: last contact 0 "
        "days ago (cool-down 21 days)")  # a call given since the run's as-of date


def _give(url: str, folder: Path, customer: str, at: dt.datetime, channel: str = "call_centre",
          *, iid: str = "i" * 32) -> None:
    """A contact as `cvm serve` records it, given at ``at``."""
    store = open_history(url, folder)
    journal = Journal(store)
    journal.add(live_contacts, live_row(
        customer_id=customer, at=at, channel=channel, campaign="service_recovery",
        action="service_recovery_call", trigger_id="vip_complaint", interaction_id=iid,
        run_id="r" * 16))
    assert journal.flush(WAIT)
    journal.close()  # closes the store too


def _on_call(http: httpx.Client, customer: str) -> dict:
    """The next best action while the customer is on the phone."""
    return http.post(f"/v1/customers/{customer}/next-best-action",
                     json={"channel": "call_centre"}).json()


def _ran(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: tuple[str, ...] = ()
         ) -> tuple[Path, Path]:
    """The retail project (with ``extra`` folders) run as of 2025-12-01 into its own history:
    the project and the run folder."""
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    project = retail_copy(tmp_path, extra)
    set_as_of(project, "2025-12-01")
    return project, run(project, tmp_path / "run")


def _mailed(actions: pd.DataFrame) -> str:
    """A customer the run allocated an email."""
    return str(next(c for c in actions.index if actions.loc[c, "channel"] == "email"
                    and actions.loc[c, "status"] == "allocated"))


def _actions(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "actions.csv", dtype=str,
                       keep_default_na=False).set_index("customer_id")


def test_a_run_counts_the_contacts_the_service_gave(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    project = retail_copy(tmp_path)
    set_as_of(project, "2025-12-01")
    alone = run(project, tmp_path / "alone", "--no-history")
    assert _actions(alone).loc[CALLED, "channel"] == "call_centre"
    url = str(tmp_path / "h.sqlite")
    monkeypatch.setenv("CVM_HISTORY_URL", url)
    # given six days before the as-of date; one given on it is the run's own day: not counted
    _give(url, tmp_path, CALLED, dt.datetime(2025, 11, 25, 15, 30, tzinfo=dt.timezone.utc))
    _give(url, tmp_path, "C000118", dt.datetime(2025, 12, 1, 9, tzinfo=dt.timezone.utc),
          iid="j" * 32)
    folder = run(project, tmp_path / "run")
    assert _actions(folder).loc[CALLED, ["channel", "status"]].tolist() == ["email",
                                                                            "allocated"]
    assert _actions(folder).loc["C000118", "channel"] == "call_centre"
    counted = json.loads((folder / "manifest.json").read_text())["contact_policies"]
    assert (counted["runs_counted"], counted["contacts_counted"],
            counted["live_contacts_counted"]) == (0, 1, 1)
    table = pd.read_parquet(folder / "customers.parquet").set_index("customer_id")
    assert (table.loc[CALLED, "days_since_last_contact"],
            table.loc[CALLED, "contacts_last_30_days"]) == (6, 1)
    assert pd.isna(table.loc["C000118", "days_since_last_contact"])
    shown = cvm("explain", CALLED, "--project", str(project), "--json")
    assert shown.exit_code == 0, shown.stderr
    policies = json.loads(shown.stdout)["contact_policies"]
    rest = next(v for v in policies["verdicts"] if v["id"] == "call_rest")
    assert (policies["contacts_counted"], rest["blocks"], rest["reason"]) == (
        1, ["call_centre"], "contact policy call_rest: last contact 6 days ago (cool-down 21 "
        "days)")
    # the run id covers the contact: the same history gives the same id, none another
    again = run(project, tmp_path / "again")
    ids = [json.loads((f / "manifest.json").read_text())["run_id"]
           for f in (folder, again)]
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "empty.sqlite"))
    other = run(project, tmp_path / "other")
    assert ids[0] == ids[1] != json.loads((other / "manifest.json").read_text())["run_id"]


def test_a_contact_recorded_while_a_run_reads_waits_for_the_next(history_url: str,
                                                                 tmp_path: Path) -> None:
    """The stamp keeps the live contacts' highest id its first reading saw: one recorded
    later does not move it (the run reads up to that id), one committed late below it does."""
    at = dt.datetime(2025, 11, 25, tzinfo=dt.timezone.utc)
    _give(history_url, tmp_path, CALLED, at)
    store = open_history(history_url, tmp_path)
    try:
        with store.snapshot() as conn:
            first = history_stamp(conn)
        _give(history_url, tmp_path, "C000118", at, iid="j" * 32)
        with store.snapshot() as conn:
            kept, now = history_stamp(conn, first[4]), history_stamp(conn)
            late = conn.execute(select(func.max(live_contacts.c.id))).scalar_one()
    finally:
        store.close()
    assert first[4:6] == (1, 1)
    assert kept == first
    assert now[4:6] == (late, 2)


def test_the_service_counts_a_contact_it_gave_at_once_and_after_a_reload(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = str(tmp_path / "h.sqlite")
    project, folder = _ran(tmp_path, monkeypatch, ("triggers",))
    actions = _actions(folder)
    table = pd.read_parquet(folder / "customers.parquet").set_index("customer_id")
    who = next(c for c in table.index[table["value_tier"].isin(["platinum", "gold"])
                                      & table["consent_phone"].astype(bool)]
               if c in actions.index and actions.loc[c, "status"] == "allocated"
               and actions.loc[c, "channel"] == "email")
    with serving(project, run=folder, watch_seconds=0) as service, client(service) as http:
        first = complaint(http, who)["vip_complaint"]
        assert (first["action"], first["withheld"]) == ("service_recovery_call", None)
        second = complaint(http, who)["vip_complaint"]
        assert (second["action"], second["withheld"]) == ("no_action", REST)
        verdicts = {v["policy"]: v for v in _on_call(http, who)["contact_policies"]}
        assert verdicts["call_rest"]["blocks_this_channel"] is True
        assert service.journal is not None and service.journal.flush(WAIT)
        assert http.post("/v1/admin/reload").status_code == 200
        third = complaint(http, who)["vip_complaint"]
        assert third["withheld"] == second["withheld"]
        # the profile lists them among the contacts, newest first, beside the run's
        contacts = http.get(f"/v1/customers/{who}").json()["history"]["contacts"]
        given = contacts[0]["date"]  # the UTC day the service gave them
        assert given > "2025-12-01"
        assert [(c["date"], c["channel"], c["source"]) for c in contacts] == [
            (given, "account_manager", "serve"), (given, "call_centre", "serve"),
            ("2025-12-01", "email", "run")]
    store = open_history(url, tmp_path)
    try:
        with store.reading() as conn:
            given = conn.execute(select(live_contacts.c.customer_id, live_contacts.c.channel,
                                        live_contacts.c.interaction_id)).all()
            why = dict(conn.execute(select(interactions.c.id, interactions.c.withheld)
                                    .where(interactions.c.source == "trigger")).all())
    finally:
        store.close()
    # the first call, and the account manager's escalation of the second complaint
    assert sorted((c, ch) for c, ch, _ in given) == [(who, "account_manager"),
                                                      (who, "call_centre")]
    assert first["interaction_id"] in {i for _, _, i in given}
    # why the second call was withheld is kept, and `cvm history` says it
    assert (why[first["interaction_id"]], why[second["interaction_id"]]) == (
        None, second["withheld"])
    shown = cvm("history", who, "--project", str(project))
    # a trigger that fired but whose action was withheld is said so at its event
    assert [ln.split("  ")[-1] for ln in shown.stdout.splitlines() if "  event  " in ln] == [
        "complaint, fired 1", "complaint, fired 2 (1 withheld)", "complaint, fired 1 (1 withheld)"]
    assert f"vip_complaint: no_action (withheld: {second['withheld']})" in shown.stdout
    # a new service (a restart) reads them back from the history
    with serving(project, run=folder, watch_seconds=0) as service, client(service) as http:
        assert complaint(http, who)["vip_complaint"]["withheld"] == second["withheld"]


def test_a_contact_given_while_a_reload_builds_is_carried_to_the_new_load() -> None:
    """The review's race: a contact given through the old load while the new one is built
    (its snapshot of the old taken) comes with the new load at the swap."""
    from engine.serve.given import Given

    day = dt.date(2025, 12, 2)
    old = Given(dt.date(2025, 12, 1))
    old.add("a" * 32, "C1", day, "call_centre", "service_recovery")
    new = old.since(dt.date(2025, 12, 1), {})
    old.add("b" * 32, "C2", day, "account_manager", None)  # while the new load is built
    assert new.of("C2") == ()
    new.absorb()
    assert (new.of("C1"), new.of("C2")) == ((("call_centre", "service_recovery"),),
                                            (("account_manager", None),))


def test_a_reload_carries_the_contacts_given_while_it_built(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same race through ``Holder.reload``: a contact the old load gives while the new one
    is built is counted by the new one once it is served."""
    from engine.serve import state as serve_state

    project, folder = _ran(tmp_path, monkeypatch)
    holder = serve_state.Holder(serve_state.load_state(project, run=folder))
    old, built = holder.state, serve_state.load_state

    def building(*args: object, **kwargs: object) -> serve_state.ServeState:
        new = built(*args, **kwargs)  # type: ignore[arg-type]
        old.given.add("c" * 32, "C000005", dt.date(2025, 12, 2), "call_centre", None)
        return new

    monkeypatch.setattr(serve_state, "load_state", building)
    served = holder.reload(project, run=folder)
    assert holder.state is served
    assert served.given.of("C000005") == (("call_centre", None),)


def test_the_run_s_contact_is_withheld_without_a_channel_once_a_given_contact_blocks_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The trial's case: after the service gave a contact that blocks the run's channel, the
    answer without a channel no longer says to contact the customer there; every policy
    that blocks it is named, as the batch names them."""
    from engine.serve.state import load_state

    project, folder = _ran(tmp_path, monkeypatch)
    actions = _actions(folder)
    mailed = _mailed(actions)
    state = load_state(project, run=folder)
    before = json.loads(state.nba_bytes(mailed, None)[0])["decision"]
    assert (before["action"] != "no_action", before["channel"]) == (True, "email")
    for k in range(4):  # four contacts given today: email_weekly and monthly_total
        state.given.add(f"{k:032d}", mailed, dt.date(2025, 12, 1), "email", "service_recovery")
    after = json.loads(state.nba_bytes(mailed, None)[0])["decision"]
    assert (after["action"], after["status"], after["channel"], after["reason"]) == (
        "no_action", "allocated", "email",
        "contact policy email_weekly blocks email: contact policy email_weekly: 4 contacts in "
        "the last 7 days (at most 1); contact policy monthly_total blocks email: contact "
        "policy monthly_total: 4 contacts in the last 30 days (at most 4)")


def test_a_contact_recorded_while_a_run_reads_is_counted_by_none_of_its_look_backs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Recorded after the run's first stamp: neither the contact policies nor the
    value-change attributes count it, so decisions and run id agree; the next run does."""
    import engine.history.changes as changes

    url = str(tmp_path / "h.sqlite")
    monkeypatch.setenv("CVM_HISTORY_URL", url)
    project = retail_copy(tmp_path)
    set_as_of(project, "2025-12-01")
    at = dt.datetime(2025, 11, 25, 12, tzinfo=dt.timezone.utc)
    _give(url, tmp_path, "C000999", at, iid="x" * 32)  # the history exists before the run
    real = changes.add_changes

    def meanwhile(*args: object, **kwargs: object) -> object:
        if not (tmp_path / "given").exists():  # the service records one as the run reads
            (tmp_path / "given").touch()
            _give(url, tmp_path, CALLED, at)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(changes, "add_changes", meanwhile)
    during = run(project, tmp_path / "during")
    monkeypatch.setattr(changes, "add_changes", real)
    after = run(project, tmp_path / "after")
    seen = []
    for folder in (during, after):
        manifest = json.loads((folder / "manifest.json").read_text())
        table = pd.read_parquet(folder / "customers.parquet").set_index("customer_id")
        seen.append((manifest["contact_policies"]["live_contacts_counted"],
                     table.loc[CALLED, "days_since_last_contact"],
                     _actions(folder).loc[CALLED, "channel"], manifest["run_id"]))
    assert (seen[0][0], pd.isna(seen[0][1]), seen[0][2]) == (1, True, "call_centre")
    assert seen[1][:3] == (2, 6, "email")
    assert seen[0][3] != seen[1][3]


def test_a_trigger_counts_the_run_s_own_contact(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A trigger's action is a contact beside the run's: a customer the run allocated a
    call on its as-of date gets no second call from a trigger under call_rest, while the
    run's call stays the answer on its channel."""
    project, folder = _ran(tmp_path, monkeypatch, ("triggers",))
    assert _actions(folder).loc[CALLED, ["channel", "status"]].tolist() == ["call_centre",
                                                                           "allocated"]
    with serving(project, run=folder, watch_seconds=0) as service, client(service) as http:
        fired = complaint(http, CALLED)["vip_complaint"]
        assert (fired["action"], fired["withheld"]) == ("no_action", REST)
        decision = _on_call(http, CALLED)["decision"]
        assert (decision["action"], decision["channel"]) == ("retain", "call_centre")


def test_the_run_s_contact_stands_at_load_when_the_history_moved_since_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The review's case: a complaint imported after the run makes the service's verdicts
    block the run's channel at load; no contact was given since, so the answer without a
    channel is still the run's contact, as the README's status table says."""
    from engine.serve.state import load_state

    project, folder = _ran(tmp_path, monkeypatch)
    actions = _actions(folder)
    mailed = _mailed(actions)
    (tmp_path / "r.csv").write_text("customer_id,campaign,date,outcome\n"
                                    f"{mailed},{actions.loc[mailed, 'campaign']},2025-11-28,"
                                    "complained\n")
    done = cvm("responses", "import", str(tmp_path / "r.csv"), "--project", str(project))
    assert done.exit_code == 0, done.stderr
    state = load_state(project, run=folder)
    assert any("email" in v.blocked for v in state.ready[mailed].verdicts)  # quiet_after
    decision = json.loads(state.nba_bytes(mailed, None)[0])["decision"]
    assert (decision["action"] == actions.loc[mailed, "action"], decision["channel"]) == (
        True, "email")
