"""Triggers (issue 14): triggers/*.yaml checked with file:line, decided by durable-rules."""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import InputError
from engine.policy.triggers import Event, TriggerEngine
from engine.project.conditions import evaluate
from engine.project.triggers import load_triggers

from .conftest import ROOT, copy_example_project

TYPES = {"value_tier": "text", "recency_days": "number"}
T0 = dt.datetime(2025, 1, 6, 9, 0)


def project(tmp_path: Path, text: str) -> Path:
    (tmp_path / "triggers").mkdir(exist_ok=True)
    (tmp_path / "triggers" / "t.yaml").write_text(text)
    return tmp_path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(InputError) as exc:
        load_triggers(project(tmp_path, text), TYPES, {"value_tier": ["platinum", "gold"]},
                      ["call_centre"])
    return [p.format() for p in exc.value.problems]


def test_validation_messages_exact(tmp_path: Path) -> None:
    text = """triggers:
  - id: a
    description: x
    event: {type: complant, when: {severity: high}}
    customer: {value_teir: gold}
    count: 2
    then: {action: call, channel: call_center}
  - id: a
    description: y
    event: {type: complaint, when: {severty: high}}
    within: 7d
    then: {action: call}
"""
    assert problems(tmp_path, text) == [
        "triggers/t.yaml:4:19: triggers[0].event.type: unknown event type 'complant', "
        "expected one of complaint, purchase, visit, call, callback\n"
        "  hint: did you mean 'complaint'?",
        "triggers/t.yaml:6:12: triggers[0].count: count needs within: the window the events "
        "must fall in\n  hint: e.g. count: 2, within: 7d",
        "triggers/t.yaml:7:35: triggers[0].then.channel: found 'call_center', expected a "
        "channel declared in policies/channels.yaml (call_centre)\n"
        "  hint: did you mean 'call_centre'?",
        "triggers/t.yaml:5:16: triggers[0].customer.value_teir: unknown attribute "
        "'value_teir'\n  hint: did you mean 'value_tier'?",
        "triggers/t.yaml:8:9: triggers[1].id: duplicate trigger id 'a' (also in "
        "triggers/t.yaml:2:9)\n  hint: each trigger needs its own id",
        "triggers/t.yaml:11:13: triggers[1].within: within needs count: how many events must "
        "fall in the window\n  hint: e.g. count: 2, within: 7d; for an absence write unless: "
        "{type: callback, within: 48h}",
        "triggers/t.yaml:10:37: triggers[1].event.when.severty: unknown field 'severty' of "
        "complaint events\n  hint: did you mean 'severity'?",
    ]


def test_cvm_validate_reports_trigger_problems(tmp_path: Path) -> None:
    folder = copy_example_project(tmp_path)
    shutil.copytree(ROOT / "triggers", folder / "triggers")
    path = folder / "triggers" / "service_recovery.yaml"
    path.write_text(path.read_text().replace("within: 48h", "within: 2 days"))
    result = CliRunner().invoke(app, ["validate", "--project", str(folder)])
    assert result.exit_code == 1
    assert "triggers/service_recovery.yaml:29:38: triggers[2].unless.within: found '2 days'" \
        in result.output


def test_a_trigger_file_with_a_missing_key_has_its_triggers_checked_all_the_same(
        tmp_path: Path) -> None:
    """A new user's file: every trigger without its description (an error of its keys), and
    a mistyped event type, attribute and channel, count without within, an id twice. validate
    said only the missing descriptions; the rest took two more rounds."""
    folder = copy_example_project(tmp_path)
    (folder / "triggers").mkdir()
    (folder / "triggers" / "t.yaml").write_text(
        "triggers:\n"
        "  - id: vip\n"
        "    event: {type: complain}\n"
        "    customer: {value_teir: {in: [gold]}}\n"
        "    then: {action: call, channel: call_center}\n"
        "  - id: vip\n"
        "    event: {type: complaint}\n"
        "    count: 2\n"
        "    then: {action: escalate}\n")
    result = CliRunner().invoke(app, ["validate", "--project", str(folder)])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error")]
    assert errors == [  # in the file's order
        "error: triggers/t.yaml:2:5: triggers[0]: missing required key 'description' (text)",
        "error: triggers/t.yaml:3:19: triggers[0].event.type: unknown event type 'complain', "
        "expected one of complaint, purchase, visit, call, callback",
        "error: triggers/t.yaml:4:16: triggers[0].customer.value_teir: unknown attribute "
        "'value_teir'",
        "error: triggers/t.yaml:5:35: triggers[0].then.channel: found 'call_center', expected a "
        "channel declared in policies/channels.yaml (account_manager, app_push, call_centre, "
        "direct_mail, email, sms)",
        "error: triggers/t.yaml:6:5: triggers[1]: missing required key 'description' (text)",
        "error: triggers/t.yaml:6:9: triggers[1].id: duplicate trigger id 'vip' (also in "
        "triggers/t.yaml:2:9)",
        "error: triggers/t.yaml:8:12: triggers[1].count: count needs within: the window the "
        "events must fall in"]


SERVICE = """triggers:
  - id: vip
    description: vip complaint
    event: {type: complaint}
    customer: {value_tier: {in: [platinum, gold]}}
    then: {action: recovery_call, priority: 90}
  - id: twice
    description: two complaints in 7 days
    event: {type: complaint}
    count: 2
    within: 7d
    then: {action: escalate, priority: 95}
  - id: overdue
    description: no callback in 48h
    event: {type: complaint}
    unless: {type: callback, within: 48h}
    then: {action: overdue_alert}
"""


@pytest.fixture
def engine(tmp_path: Path) -> TriggerEngine:
    return TriggerEngine(load_triggers(project(tmp_path, SERVICE), TYPES))


def post(engine: TriggerEngine, eid: str, kind: str, hours: float, tier: str = "silver",
         who: str = "A", only: str | None = None) -> list[tuple[str, tuple[str, ...]]]:
    fired = engine.post(Event(eid, who, kind, T0 + dt.timedelta(hours=hours)),
                        {"value_tier": tier})
    return [(f.trigger_id, f.event_ids) for f in fired if only in (None, f.trigger_id)]


def test_single_event_on_customer_attributes(engine: TriggerEngine) -> None:
    assert post(engine, "e1", "complaint", 0, "platinum") == [("vip", ("e1",))]
    assert post(engine, "e2", "complaint", 0, "silver", who="B") == []
    assert post(engine, "e3", "purchase", 1, "gold") == []


def test_second_complaint_within_window_escalates_edges(engine: TriggerEngine) -> None:
    def twice(eid: str, hours: float) -> list[tuple[str, tuple[str, ...]]]:
        return post(engine, eid, "complaint", hours, only="twice")

    assert twice("e1", 0) == []
    assert twice("e2", 7 * 24 + 0.01) == []  # just outside 7 days
    assert twice("e3", 14 * 24 + 0.01) == [("twice", ("e2", "e3"))]
    # the events that fired it are consumed: a third needs a new partner
    assert twice("e4", 14 * 24 + 1) == []
    assert twice("e5", 14 * 24 + 2) == [("twice", ("e4", "e5"))]


def test_out_of_order_events_pair_by_their_own_times(engine: TriggerEngine) -> None:
    assert post(engine, "late", "complaint", 48 + 10, only="twice") == []
    assert post(engine, "early", "complaint", 47, only="twice") == [
        ("twice", ("early", "late"))]


def test_absence_is_decided_when_time_advances(engine: TriggerEngine) -> None:
    post(engine, "c1", "complaint", 0)
    assert post(engine, "cb", "callback", 48, who="B") == []  # another customer's callback
    assert engine.advance(T0 + dt.timedelta(hours=48)) == []  # the 48th hour still counts
    post(engine, "c2", "complaint", 48, who="B")
    fired = engine.advance(T0 + dt.timedelta(hours=48, seconds=1))
    assert [(f.trigger_id, f.customer_id, f.event_ids, f.at) for f in fired] == [
        ("overdue", "A", ("c1",), T0 + dt.timedelta(hours=48))]
    assert fired[0].reason == "no callback within 48h of complaint c1"
    post(engine, "c3", "complaint", 300, who="B")
    assert post(engine, "cb3", "callback", 300 + 48, who="B") == []  # at the edge: in time
    assert [(f.trigger_id, f.event_ids) for f in engine.advance(T0 + dt.timedelta(days=30))] \
        == []  # c2 was called back at its own time, c3 at the end of its window
    assert engine.pending() == 0


def test_old_events_are_forgotten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.policy.trigger_sessions as module

    monkeypatch.setattr(module, "REBUILD", 0)
    engine = TriggerEngine(load_triggers(project(tmp_path, SERVICE), TYPES))
    for day in range(0, 40, 8):  # never two within 7 days
        assert post(engine, f"e{day}", "complaint", day * 24) == []
        engine.advance(T0 + dt.timedelta(days=day, hours=49))
    assert engine.rebuilds > 0
    assert sum(len(events) for r in engine._rules for events in r.live.values()) <= 1
    assert post(engine, "x", "complaint", 32 * 24 + 60) == [("twice", ("e32", "x"))]


def test_customer_conditions_are_decided_as_policies_decide(tmp_path: Path) -> None:
    """durable-rules (through the trigger engine) agrees with the condition semantics."""
    text = """triggers:
  - id: t
    description: d
    event: {type: visit}
    customer:
      any:
        - all: [{value_tier: gold}, {recency_days: {gt: 30}}]
        - not: {recency_days: {between: [10, 20]}}
    then: {action: a}
"""
    triggers = load_triggers(project(tmp_path, text), TYPES)
    engine = TriggerEngine(triggers)
    rng = random.Random(14)
    for i in range(200):
        record = {"value_tier": rng.choice(["gold", "silver", None, 3]),
                  "recency_days": rng.choice([None, 5, 10, 15, 20, 30, 30.5, float("nan"), "x"])}
        fired = engine.post(Event(f"e{i}", f"c{i}", "visit", T0), record)
        assert bool(fired) == evaluate(triggers.triggers[0].customer, record), record


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = copy_example_project(tmp_path_factory.mktemp("events"))
    shutil.copytree(ROOT / "triggers", folder / "triggers")
    result = CliRunner().invoke(app, ["run", "--project", str(folder), "--no-history",
                                      "--quiet"])
    assert result.exit_code == 0, result.output
    return folder


def test_cvm_events_example_json(ran: Path) -> None:
    events = str(ROOT / "examples" / "retail" / "events.csv")
    result = CliRunner().invoke(app, ["events", events, "--project", str(ran), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    schema = json.loads((ROOT / "engine/schemas/output-events.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert [(f["at"], f["customer_id"], f["trigger"], f["event_ids"]) for f in doc["fired"]] == [
        ("2025-01-06T09:00:00", "C000020", "vip_complaint", ["E1"]),
        ("2025-01-09T10:00:00", "C000003", "callback_overdue", ["E3"]),
        ("2025-01-10T11:00:00", "C000020", "vip_complaint", ["E4"]),
        ("2025-01-10T11:00:00", "C000020", "repeat_complaint", ["E1", "E4"]),
        ("2025-01-11T08:00:00", "C000005", "vip_complaint", ["E5"]),
        ("2025-01-12T11:00:00", "C000020", "callback_overdue", ["E4"]),
    ]
    assert (doc["events"], doc["unknown_customers"], doc["unknown_customer_ids"]) == \
        (8, 1, ["C009999"])


def test_cvm_events_bad_file(ran: Path, tmp_path: Path) -> None:
    bad = tmp_path / "ev.csv"
    bad.write_text("customer_id,type,at,amount\nC000020,complain,2025-01-06,\n"
                   "C000020,purchase,2025-13-01,12\nC000020,purchase,2025-01-06,lots\n")
    result = CliRunner().invoke(app, ["events", str(bad), "--project", str(ran)])
    assert result.exit_code == 1
    assert result.output.splitlines()[:6] == [
        "error: ev.csv:2: row 1, field 'type': found 'complain', expected an event type: "
        "complaint, purchase, visit, call, callback",
        "  hint: did you mean 'complaint'?",
        "error: ev.csv:3: row 2, field 'at': found '2025-13-01', expected a date or time such "
        "as 2024-06-30T14:05:00",
        "  hint: ISO 8601; a time zone offset is converted to UTC, none means UTC",
        "error: ev.csv:4: row 3, field 'amount': found 'lots', expected a number (amount is a "
        "number field)",
        ]


def test_cvm_events_dated_after_today_are_said(ran: Path, tmp_path: Path) -> None:
    """A new user's events file with the year mistyped (2031) replayed without a word, where
    `cvm serve` and `cvm responses import` refuse a date after today; and '1 customers'."""
    future = tmp_path / "ev.csv"
    future.write_text("customer_id,type,at,topic,severity,channel\n"
                      "C000020,complaint,2031-01-06T09:00:00,late,high,phone\n"
                      "C000020,complaint,2031-01-07T09:00:00,late,high,phone\n")
    result = CliRunner().invoke(app, ["events", str(future), "--project", str(ran)])
    assert result.exit_code == 0, result.output
    today = dt.date.today()
    assert result.stderr.splitlines() == [
        f"warning: ev.csv: 2 events dated after today ({today}), the first 2031-01-06T09:00:00 "
        "(customer C000020): replayed as dated; is a year mistyped?"]
    assert result.stdout.splitlines()[-1].startswith("2 events of 1 customer: ")


README = (ROOT / "README.md").read_text()
SECTION = README.split("## Triggers: events that set off an action")[1].split("\n## ")[0]


def test_readme_trigger_examples_load(tmp_path: Path) -> None:
    blocks = SECTION.split("```yaml\n")[1:]
    triggers_text, types_text = (b.split("```")[0] for b in blocks[:2])
    found = load_triggers(project(tmp_path, types_text + triggers_text), TYPES,
                          channels=["call_centre", "account_manager"])
    assert [t.id for t in found.triggers] == ["vip_complaint", "repeat_complaint",
                                              "callback_overdue"]
    assert found.event_types["return"] == {"amount": "number", "reason": "text"}


def test_readme_events_output(ran: Path) -> None:
    shown = SECTION.split("cvm events FILE [--project")[1].split("```\n")[2]
    events = str(ROOT / "examples" / "retail" / "events.csv")
    result = CliRunner().invoke(app, ["events", events, "--project", str(ran)])
    assert result.exit_code == 0
    assert result.output == shown
    error = SECTION.split("exit 1 (the first 20 problems are shown):")[1].split("```\n")[1]
    bad = ran.parent / "ev.csv"
    bad.write_text("customer_id,type,at\nC000020,complain,2025-01-06\n")
    result = CliRunner().invoke(app, ["events", str(bad), "--project", str(ran)])
    assert result.exit_code == 1 and result.output == error


def test_example_validates_against_its_editor_schema() -> None:
    from engine.project.yamlio import load_file

    schema = json.loads((ROOT / "engine/schemas/triggers.schema.json").read_text())
    data = load_file(ROOT / "triggers" / "service_recovery.yaml").data
    jsonschema.validate(data, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "trigers": []}, schema)


def test_event_field_conditions_and_declared_types(tmp_path: Path) -> None:
    text = """event_types:
  return: {fields: {amount: number, reason: text}}
triggers:
  - id: big_return
    description: a large return
    event: {type: return, when: {all: [{amount: {gte: 100}}, {reason: {ne: gift}}]}}
    then: {action: review}
"""
    engine = TriggerEngine(load_triggers(project(tmp_path, text), TYPES))
    at = T0
    assert [f.event_ids for f in engine.post(Event("r1", "A", "return", at,
                                                   {"amount": 150.0, "reason": "size"}))] \
        == [("r1",)]
    assert engine.post(Event("r2", "A", "return", at, {"amount": 99.0})) == []
    assert engine.post(Event("r3", "A", "return", at, {"amount": 500.0, "reason": "gift"})) == []
    assert engine.post(Event("r4", "A", "return", at, {"amount": "500"})) == []  # wrong type


def test_late_events_are_counted_not_evaluated(engine: TriggerEngine) -> None:
    post(engine, "now", "complaint", 30 * 24)
    # late for the 7-day and 48-hour windows; a single trigger has none: it fires
    assert post(engine, "old", "complaint", 30 * 24 - 7 * 24 - 1, "gold") == [
        ("vip", ("old",))]
    assert engine.late == 1
    assert post(engine, "recent", "complaint", 30 * 24 - 1, "gold", only="vip") == [
        ("vip", ("recent",))]


def test_events_file_jsonl(tmp_path: Path) -> None:
    from engine.project.triggers import BUILT_IN
    from engine.workflow.events_file import read_events

    path = tmp_path / "ev.jsonl"
    path.write_text(
        '{"customer_id": "A", "type": "purchase", "at": "2025-01-02T10:00:00+02:00", '
        '"fields": {"amount": 12.5}}\n\n'
        '{"customer_id": "B", "type": "visit", "at": "2025-01-01", "event_id": "v1"}\n')
    events = read_events(path, BUILT_IN)
    assert [(e.id, e.customer_id, e.at, dict(e.fields)) for e in events] == [
        ("v1", "B", dt.datetime(2025, 1, 1), {}),
        ("row1", "A", dt.datetime(2025, 1, 2, 8), {"amount": 12.5})]
    path.write_text('{"customer_id": "A", "type": "purchase", "at": "2025-01-02", '
                    '"fields": {"amount": true}, "extra": 1}\n')
    with pytest.raises(InputError) as exc:
        read_events(path, BUILT_IN)
    assert [p.format() for p in exc.value.problems] == [
        "ev.jsonl:1: row 1, field 'extra': found 1, expected customer_id, type, at, event_id "
        "or fields\n  hint: put the event's fields under fields",
        "ev.jsonl:1: row 1, field 'amount': found True, expected a number (amount is a number "
        "field)"]


def test_a_trigger_s_stage_rule_is_one_of_the_lifecycle_rules() -> None:
    """The review: a trigger's `customer: {stage_rule: long_overdu}` matched no one without a
    word, where a policy's is now an error."""
    from engine import api
    from engine.project.trigger_attributes import trigger_values

    rulebook = api.load_project(ROOT).rulebook
    values = trigger_values(rulebook, None)
    assert values["stage_rule"] == [r.id for r in rulebook.stage_rules]
    assert "long_overdue" in values["stage_rule"]
