"""`cvm serve` honours every opt-out the history holds, whenever it is dated and whenever it is
imported (README "Real time"): one dated after the run's as-of date, imported before the
service started, and one imported while it serves (within seconds, no reload, no new run),
for a customer of the run and for one outside it. The batch run knows an opt-out from its
first as-of date after it; a live call cannot wait for that run."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from tests.history_runs import cvm, retail_copy, run, set_as_of
from tests.serve_util import client, complaint, serving


def _import(tmp: Path, project: Path, name: str, rows: list[tuple[str, str, str]]) -> None:
    (tmp / name).write_text("customer_id,campaign,date,outcome\n" + "".join(
        f"{c},{campaign},{date},opted_out\n" for c, campaign, date in rows))
    done = cvm("responses", "import", str(tmp / name), "--project", str(project))
    assert done.exit_code == 0, done.stderr


def _soon(check: Callable[[], Any]) -> Any:
    """``check()`` once it is truthy: the service rereads the opt-outs within seconds."""
    deadline = time.monotonic() + 15
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, dict]]:
    tmp = tmp_path_factory.mktemp("late-opt-out")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CVM_HISTORY_URL", str(tmp / "h.sqlite"))
        project = retail_copy(tmp, ("triggers",))
        set_as_of(project, "2025-12-01")
        folder = run(project, tmp / "run")
        actions = pd.read_csv(folder / "actions.csv", dtype={"customer_id": str},
                              keep_default_na=False).set_index("customer_id")
        table = pd.read_parquet(folder / "customers.parquet").set_index("customer_id")
        gold = table.index[table["value_tier"].isin(["platinum", "gold"])
                           & table["consent_phone"].astype(bool)]
        mailed = [c for c in gold if c in actions.index and actions.loc[c, "status"] ==
                  "allocated" and actions.loc[c, "channel"] not in ("call_centre", "")]
        who = {"before": mailed[0], "live": mailed[1], "kept": mailed[2],
               "channel": str(actions.loc[mailed[1], "channel"]),
               "campaign": str(actions.loc[mailed[1], "campaign"]), "project": project,
               "tmp": tmp}
        # dated after the run's as-of date, imported before the service starts
        _import(tmp, project, "before.csv", [(mailed[0], "win_back", "2025-12-02")])
        with serving(project, run=folder, watch_seconds=0) as service, \
                client(service) as http:
            yield http, who


def _answer(http: httpx.Client, customer: str, channel: str | None = None) -> dict:
    body = {"channel": channel} if channel else None
    return http.post(f"/v1/customers/{customer}/next-best-action", json=body).json()


def test_an_opt_out_dated_after_the_run_is_honoured_at_load(served: tuple) -> None:
    http, who = served
    decision = _answer(http, who["before"])["decision"]
    assert (decision["action"], decision["status"], decision["reason"]) == (
        "no_action", "allocated", "contact policy opted_out blocks every channel: opted out "
        "on 2025-12-02 (campaign win_back)")
    fired = complaint(http, who["before"])["vip_complaint"]
    assert fired["withheld"] == ("contact policy opted_out blocks call_centre: opted out on "
                                 "2025-12-02 (campaign win_back)")


def test_an_opt_out_imported_while_serving_applies_within_seconds(
        served: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    http, who = served
    monkeypatch.setenv("CVM_HISTORY_URL", str(who["tmp"] / "h.sqlite"))  # the one served
    live, channel = who["live"], who["channel"]
    assert _answer(http, live)["decision"]["channel"] == channel  # contacted, as the run said
    assert _answer(http, who["kept"])["decision"]["action"] != "no_action"
    _import(who["tmp"], who["project"], "live.csv",
            [(live, who["campaign"], "2025-12-09"), ("NEW-7", "win_back", "2025-12-10")])
    said = f"opted out on 2025-12-09 (campaign {who['campaign']})"
    decision = _soon(lambda: (d := _answer(http, live)["decision"])["action"] == "no_action"
                     and d)
    assert decision["reason"] == f"contact policy opted_out blocks every channel: {said}"
    # the profile says it beside the run's decision, which predates it
    profile = http.get(f"/v1/customers/{live}").json()
    assert profile["opted_out"] == said and profile["decision"]["action"] != "no_action"
    assert http.get(f"/v1/customers/{who['kept']}").json()["opted_out"] is None
    answer = _answer(http, live, channel)
    assert answer["decision"]["reason"] == f"contact policy opted_out blocks {channel}: {said}"
    # listed on the channel, but it cannot be given there now (the trial)
    top = answer["actions"][0]
    assert (top["on_channel"], channel in top["channels"]) == (False, True)
    assert answer["contact_policies"][0] == {
        "policy": "opted_out", "kind": "built_in", "scope": "every contact",
        "description": "an opted_out response stops every contact, for good",
        "blocks": answer["contact_policies"][0]["blocks"], "blocks_this_channel": True,
        "reason": said}
    assert complaint(http, live)["vip_complaint"]["withheld"] == \
        f"contact policy opted_out blocks call_centre: {said}"
    # a customer outside the run: a second complaint's escalation is withheld
    complaint(http, "NEW-7")
    assert complaint(http, "NEW-7")["repeat_complaint"]["withheld"] == (
        "contact policy opted_out blocks account_manager: opted out on 2025-12-10 (campaign "
        "win_back)")
    # the others are answered as before
    assert _answer(http, who["kept"])["decision"]["action"] != "no_action"


class _Flaky:
    """A history store that answers, then fails, then answers again."""

    def __init__(self, real: Any) -> None:
        self.real, self.down = real, False

    def reading(self) -> Any:
        if self.down:
            raise OSError("connection refused")
        return self.real.reading()


def test_a_history_that_cannot_be_read_keeps_the_opt_outs_read(tmp_path: Path) -> None:
    from engine.history.settings import parse
    from engine.history.store import open_store
    from engine.history.tables import imports, responses
    from engine.serve.opt_outs import OptOuts

    store = open_store(parse(str(tmp_path / "h.sqlite"), tmp_path, source="test"), create=True)
    assert store is not None
    try:
        with store.engine.begin() as conn:
            conn.execute(imports.insert().values(
                id=1, file="r.csv", sha256="0" * 64, imported_at=pd.Timestamp("2026-01-01"),
                rows_read=1, imported=1, already_present=0, skipped=0))
            conn.execute(responses.insert().values(
                customer_id="C1", campaign="win_back", response_date=pd.Timestamp(
                    "2026-01-02").date(), outcome="opted_out", import_id=1, digest=1))
        flaky, said = _Flaky(store), []
        opt_outs = OptOuts(None, flaky)  # type: ignore[arg-type]
        opt_outs.refresh(said.append)
        assert opt_outs.known == {"C1": "opted out on 2026-01-02 (campaign win_back)"}
        flaky.down = True
        opt_outs.refresh(said.append)
        opt_outs.refresh(said.append)  # said once
        assert said == ["could not reread the opt-outs, still honouring the 1 read before: "
                        "OSError: connection refused"]
        assert opt_outs.get("C1") is not None
        flaky.down = False
        opt_outs.refresh(said.append)
        assert opt_outs.failure is None and len(said) == 1
    finally:
        store.close()


def test_an_opt_out_read_while_a_reload_builds_is_not_lost(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The review's race: the opt-outs swapped between the verdicts and the answers of a
    load; the customer's answers must still be made with the opt-out."""
    import engine.serve.state as st
    from engine.serve.opt_outs import OptOuts

    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    project = retail_copy(tmp_path)
    set_as_of(project, "2025-12-01")
    folder = run(project, tmp_path / "run")
    actions = pd.read_csv(folder / "actions.csv", dtype={"customer_id": str},
                          keep_default_na=False)
    who = actions[actions["status"] == "allocated"]["customer_id"].iloc[0]
    real, opt_outs = st._verdicts, OptOuts(None)

    def racing(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        opt_outs.known = {who: "opted out on 2025-12-05 (campaign x)"}  # the tick, now
        return out

    monkeypatch.setattr(st, "_verdicts", racing)
    state = st.load_state(project, run=folder, opt_outs=opt_outs)
    assert state.nba_bytes(who, None)[1]["reason"] == (
        "contact policy opted_out blocks every channel: opted out on 2025-12-05 (campaign x)")


def _history(tmp_path: Path) -> Any:
    from engine.history.settings import parse
    from engine.history.store import open_store

    store = open_store(parse(str(tmp_path / "h.sqlite"), tmp_path, source="test"), create=True)
    assert store is not None
    return store


def _opt_out(store: Any, import_id: int, customer: str) -> None:
    from engine.history.tables import imports, responses

    with store.engine.begin() as conn:
        conn.execute(imports.insert().values(
            id=import_id, file="r.csv", sha256="0" * 64, imported_at=pd.Timestamp("2026-01-01"),
            rows_read=1, imported=1, already_present=0, skipped=0))
        conn.execute(responses.insert().values(
            customer_id=customer, campaign="win_back", response_date=pd.Timestamp(
                "2026-01-02").date(), outcome="opted_out", import_id=import_id,
            digest=import_id))


def test_an_import_committed_after_a_later_one_is_read(tmp_path: Path) -> None:
    """On PostgreSQL two imports may commit out of their ids' order (the review): the
    second one to commit, with the lower id, is read too."""
    from engine.serve.opt_outs import OptOuts

    store = _history(tmp_path)
    try:
        _opt_out(store, 2, "C2")
        opt_outs = OptOuts(None, store)
        opt_outs.refresh()
        _opt_out(store, 1, "C1")
        opt_outs.refresh()
        assert sorted(opt_outs.known) == ["C1", "C2"]
    finally:
        store.close()


def test_the_reread_does_not_wait_for_the_history_s_writer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The service rereads through a read-only store of its own: a run or an import writing
    into the history meanwhile (holding its write lock) does not hold it up (the review: the
    writer's store waited up to 120 s, every second)."""
    import sqlite3
    import threading

    from engine.project.config import load_config
    from engine.serve.opt_outs import OptOuts

    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    project = retail_copy(tmp_path)
    _history(tmp_path).close()
    writer = sqlite3.connect(tmp_path / "h.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a writer at work
    try:
        opt_outs = OptOuts(load_config(project))
        reread = threading.Thread(target=opt_outs.refresh, daemon=True)
        reread.start()
        reread.join(timeout=20)
        assert not reread.is_alive() and opt_outs.stamp == (0, 0)
        opt_outs.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_the_reread_keeps_one_connection_to_postgresql(
        history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each second's reread reuses one kept server connection on PostgreSQL (a new one each
    second filled the server's log); a SQLite file is opened for each read, as before."""
    from sqlalchemy import event

    from engine.run.build import load_project
    from engine.serve.opt_outs import OptOuts
    from tests.history_runs import open_history

    monkeypatch.setenv("CVM_HISTORY_URL", history_url)
    open_history(history_url, tmp_path).close()  # an empty history
    opt_outs = OptOuts(load_project(retail_copy(tmp_path)).config)
    try:
        opt_outs.refresh()  # opens the reader's store
        connects: list[object] = []
        store = opt_outs._reader()
        assert store is not None
        event.listen(store.engine, "connect", lambda *_: connects.append(1))
        for _ in range(5):
            opt_outs.refresh()
    finally:
        opt_outs.close()
    assert len(connects) == (0 if history_url.startswith("postgresql") else 5)
