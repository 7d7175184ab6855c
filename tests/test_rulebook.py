"""rules/ and policies/: loading, every kind of broken file (exact messages), warnings, schemas."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from engine.errors import InputError
from engine.policy.validation import validate_rulebook
from engine.project.rulebook import load_rulebook
from engine.project.schema import (
    CHANGE_COLUMNS,
    MODEL_COLUMNS,
    STAGE_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    VALUE_COLUMNS,
    attribute_types,
)

ROOT = Path(__file__).resolve().parents[1]
TYPES = attribute_types(consents=["email"])
GOOD = """\
id: x
description: d
priority: 5
when:
  value_tier: gold
then:
  action: retain
  channels: [email]
"""
LIFECYCLE_ABC = """\
stages: {a: first, b: second, c: third}
rules:
  - id: r1
    stage: a
    when: {tenure_days: {lt: 50}}
  - id: r2
    stage: b
    when: {tenure_days: {lt: 10}}
  - id: r3
    stage: b
"""


def project(tmp_path: Path, files: dict[str, str | None] | None = None, *,
            starter_policies: bool = True) -> Path:
    """A project with the shipped rules/ (and policies/), then ``files`` written (None: removed)."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    if starter_policies:  # without the channel stage's files: those have their own tests
        shutil.copytree(ROOT / "policies", tmp_path / "policies",
                        ignore=shutil.ignore_patterns("channels.yaml", "campaigns.yaml",
                                                       "contact_policies.yaml"))
    for name, content in (files or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.unlink()
        else:
            path.write_text(content)
    return tmp_path


def problems(folder: Path) -> list[str]:
    return [f"[{p.severity}] {p.format()}" for p in validate_rulebook(folder, TYPES)]


def test_the_starter_rules_and_policies_load_without_any_problem(tmp_path: Path) -> None:
    folder = project(tmp_path)
    assert problems(folder) == []
    book = load_rulebook(folder, TYPES)
    assert book.stage_names == ("acquisition", "growth", "maturity", "decline", "exit")
    assert [p.id for p in book.policies][:5] == ["one_time_big_buyer", "retain_tier_drop",
                                                 "retain_high_value", "win_back_advocates",
                                                 "win_back"]
    assert [p.priority for p in book.policies] == sorted(
        (p.priority for p in book.policies), reverse=True)
    retain = next(p for p in book.policies if p.id == "retain_high_value")
    assert retain.channels == ("account_manager", "call_centre", "email")
    assert retain.campaign == "retain_high_value" and retain.file == "policies/" \
        "retain_high_value.yaml"
    assert book.stage_rules[-1].id == "established"


BROKEN: list[tuple[str, dict[str, str | None], list[str]]] = [
    ("yaml syntax", {"policies/x.yaml": "id: x\ndescription: d\nwhen: {value_tier: gold\n"
                     "priority: 5\n"},
     ["[error] policies/x.yaml:4:9: YAML syntax error: while parsing a flow mapping, did not "
      "find expected ',' or '}'\n"
      "  hint: the lines around it:\n       2 | description: d\n       3 | when: {value_tier: "
      "gold\n       4 | priority: 5"]),
    ("unknown key", {"policies/x.yaml": GOOD.replace("priority: 5", "priorty: 5")},
     ["[error] policies/x.yaml:3:1: priorty: unknown key 'priorty'\n"
      "  hint: did you mean 'priority'?",
      "[error] policies/x.yaml:1:1: missing required key 'priority' (a whole number)\n"
      "  hint: add `priority:` (higher wins; ties: policy id in alphabetical order)"]),
    ("wrong type", {"policies/x.yaml": GOOD.replace("priority: 5", "priority: high")},
     ["[error] policies/x.yaml:3:11: priority: found 'high' (text), expected a whole number\n"
      "  hint: the higher number wins: e.g. 90 comes before 70"]),
    ("unknown attribute", {"policies/x.yaml": GOOD.replace(
        "value_tier: gold", "all:\n    - churn_rsk: {gte: 0.5}")},
     ["[error] policies/x.yaml:6:7: when.all[0].churn_rsk: unknown attribute 'churn_rsk'\n"
      "  hint: did you mean 'churn_risk'?"]),
    ("duplicate key", {"policies/x.yaml": GOOD.replace("priority: 5", "priority: 5\n"
                                                      "priority: 6")},
     ["[error] policies/x.yaml:4:1: priority: duplicate key 'priority' (first defined on line "
      "3)\n  hint: YAML keeps only one of them; remove or rename one"]),
    ("duplicate policy id", {"policies/x.yaml": GOOD.replace("id: x", "id: win_back")},
     ["[error] policies/x.yaml:1:5: id: duplicate policy id 'win_back' (also in "
      "policies/win_back.yaml:2:5)\n  hint: each policy needs its own id"]),
    ("unknown stage", {"policies/x.yaml": GOOD.replace(
        "value_tier: gold", "lifecycle_stage: {in: [declin]}")},
     ["[error] policies/x.yaml:5:26: when.lifecycle_stage.in[0]: unknown stage 'declin', "
      "expected one of acquisition, growth, maturity, decline, exit\n"
      "  hint: did you mean 'decline'?"]),
    # a trial: a misspelt rule id passed validate and win_back matched no one
    ("unknown stage rule", {"policies/x.yaml": GOOD.replace(
        "value_tier: gold", "stage_rule: long_overdu")},
     ["[error] policies/x.yaml:5:15: when.stage_rule: unknown stage_rule 'long_overdu', "
      "expected one of new_customer, one_time_lapsed, one_time_fading, one_time_recent, "
      "long_overdue, overdue_or_falling, young_or_rising, established\n"
      "  hint: did you mean 'long_overdue'?"]),
    ("empty condition", {"policies/x.yaml": GOOD.replace("value_tier: gold", "all: []")},
     ["[error] policies/x.yaml:5:8: when.all: found an empty list, expected a list of at least "
      "one condition\n  hint: an empty condition would match everyone or no one: remove it, or "
      "write `when: always` to match every customer"]),
    ("unknown tier", {"policies/x.yaml": GOOD.replace("value_tier: gold", "value_tier: gld")},
     ["[error] policies/x.yaml:5:15: when.value_tier: unknown value_tier 'gld', expected one of "
      "platinum, gold, silver, bronze\n  hint: did you mean 'gold'?"]),
    ("nothing to do", {"policies/x.yaml": GOOD.replace(
        "  action: retain\n  channels: [email]\n", "  offer: x\n")},
     ["[error] policies/x.yaml:7:3: then: found neither action nor service_level, expected at "
      "least one\n  hint: e.g. `action: retain` with `channels: [email]`, or `service_level: "
      "premium`",
      "[error] policies/x.yaml:7:10: then.offer: found offer but there is no action\n"
      "  hint: remove `offer` or add an action"]),
    ("no channels", {"policies/x.yaml": GOOD.replace("  channels: [email]\n", "")},
     ["[error] policies/x.yaml:7:3: then: action 'retain' has no channels, expected a list of "
      "at least one channel\n  hint: e.g. `channels: [email, sms]` (in order of preference)"]),
    ("bad channels", {"policies/x.yaml": GOOD.replace("[email]", "[e_mail, email, email]")},
     ["[error] policies/x.yaml:8:14: then.channels[0]: unknown channel 'e_mail', expected one "
      "of account_manager, call_centre, email, sms, direct_mail, app_push\n"
      "  hint: did you mean 'email'?",
      "[error] policies/x.yaml:8:29: then.channels[2]: channel 'email' is listed twice"]),
    ("no_action with channels", {"policies/x.yaml": GOOD.replace("action: retain",
                                                                 "action: no_action")},
     ["[error] policies/x.yaml:8:13: then.channels: found channels but no_action contacts no "
      "one\n  hint: remove `channels`"]),
    ("service level typo", {"policies/x.yaml": GOOD.replace(
        "  action: retain\n  channels: [email]\n", "  service_level: premum\n")},
     ["[error] policies/x.yaml:7:18: then.service_level: found 'premum', expected one of "
      "premium, priority, standard, basic\n  hint: did you mean 'premium'?"]),
    ("id read as a boolean", {"policies/x.yaml": GOOD.replace("id: x", "id: off")},
     ["[error] policies/x.yaml:1:5: id: found False (boolean), expected text\n"
      "  hint: YAML reads yes, no, on, off, true and false as true or false: put it in "
      "quotes"]),
    ("empty file", {"policies/x.yaml": "# nothing yet\n"},
     ["[error] policies/x.yaml: the file is empty, expected a policy\n  hint: a policy needs "
      "the keys id, description, priority, when and then"]),
    ("stage not declared", {"rules/lifecycle.yaml": LIFECYCLE_ABC.replace(
        "stage: a", "stage: d")}, []),  # expectations filled in below (needs no policies)
    ("missing lifecycle", {"rules/lifecycle.yaml": None},
     ["[error] rules/lifecycle.yaml: file not found, expected the lifecycle stages and rules\n"
      "  hint: every customer needs a stage: copy rules/lifecycle.yaml from the engine's "
      "starter project"]),
    ("duplicate segment", {"rules/segs.yaml": "segments:\n  - id: s\n    when: {value_tier: "
                           "gold}\n  - id: s\n    when: {value_tier: silver}\n"},
     ["[error] rules/segs.yaml:4:9: segments[1].id: duplicate segment id 's' (also in "
      "rules/segs.yaml:2:9)\n  hint: each segment needs its own id"]),
]


@pytest.mark.parametrize(("files", "expected"), [(f, e) for _, f, e in BROKEN if e],
                         ids=[name for name, _, e in BROKEN if e])
def test_broken_files_are_reported_exactly(tmp_path: Path, files: dict[str, str | None],
                                           expected: list[str]) -> None:
    folder = project(tmp_path, files)
    assert problems(folder) == expected
    with pytest.raises(InputError) as err:
        load_rulebook(folder, TYPES)
    assert str(err.value) == "\n".join(e.removeprefix("[error] ") for e in expected)


def test_lifecycle_rules_must_name_declared_stages_and_end_unconditionally(
        tmp_path: Path) -> None:
    text = LIFECYCLE_ABC.replace("stage: a", "stage: d").replace(
        "  - id: r3\n    stage: b\n", "  - id: r3\n    stage: b\n    when: {tenure_days: "
        "{gt: 5}}\n").replace("  - id: r1\n", "  - id: r0\n    stage: c\n  - id: r1\n")
    folder = project(tmp_path, {"rules/lifecycle.yaml": text}, starter_policies=False)
    assert problems(folder) == [
        "[error] rules/lifecycle.yaml:3:9: rules[0].id: rule 'r0' matches every customer, so "
        "the rules after it can never match\n  hint: only the last rule may be unconditional",
        "[error] rules/lifecycle.yaml:6:12: rules[1].stage: unknown stage 'd', expected one of "
        "a, b, c\n  hint: declare it under `stages:`",
        "[error] rules/lifecycle.yaml:13:11: rules[3].when: the last rule must have no "
        "`when`, so that every customer gets a stage (a condition, even one every customer "
        "meets today, is not checked to hold for all)\n  hint: add a last rule without "
        "`when`, e.g. `- {id: everyone_else, stage: maturity}`",
    ]


def test_warnings_for_rules_that_never_give_a_stage(tmp_path: Path) -> None:
    folder = project(tmp_path, {"rules/lifecycle.yaml": LIFECYCLE_ABC},
                     starter_policies=False)
    assert problems(folder) == [
        "[warning] rules/lifecycle.yaml:6:5: rules[1]: rule 'r2' can never give a stage: every "
        "customer it matches is matched first by 'r1'\n"
        "  hint: move it up, or narrow the rules above it",
        "[warning] rules/lifecycle.yaml:1:31: stages.c: stage 'c' is declared but no rule "
        "gives it\n"
        "  hint: add a rule for it or remove the stage",
        "[warning] policies: no enabled policies: every customer gets no_action\n"
        "  hint: add one YAML file per policy to policies/ (see README: Rules and policies)",
    ]
    assert load_rulebook(folder, TYPES).stage_rules[1].id == "r2"  # warnings don't stop it


@pytest.mark.parametrize(("policy", "expected"), [
    (GOOD.replace("value_tier: gold", "all:\n    - recency_days: {gt: 10}\n"
                  "    - recency_days: {lt: 5}"),
     "[warning] policies/x.yaml:5:3: when: policy 'x' can never match: its conditions "
     "contradict each other\n  hint: check the thresholds, e.g. gt 10 together with lt 5 on "
     "the same attribute"),
    (GOOD.replace("value_tier: gold", "all:\n    - recency_ratio: {missing: true}\n"
                  "    - not: {recency_ratio: {missing: true}}"),
     "[warning] policies/x.yaml:5:3: when: policy 'x' can never match: its conditions "
     "contradict each other\n  hint: check the thresholds, e.g. gt 10 together with lt 5 on "
     "the same attribute"),
    (GOOD.replace("value_tier: gold", "all:\n    - value_tier: platinum\n"
                  "    - lifecycle_stage: decline").replace("priority: 5", "priority: 85"),
     "[warning] policies/x.yaml:5:3: when: policy 'x' never decides the action: every "
     "customer it matches is matched first by 'retain_tier_drop' (priority 95), "
     "'retain_high_value' (priority 90)\n"
     "  hint: raise its priority, or narrow the higher-priority policy"),
    (GOOD.replace("priority: 5", "priority: 50").replace("value_tier: gold",
                                                         "lifecycle_stage: maturity"),
     "[warning] policies/x.yaml:3:11: priority: policies 'cross_sell_maturity' and 'x' have "
     "the same priority 50 and can match the same customers; 'cross_sell_maturity' wins (ids "
     "in alphabetical order)\n  hint: give them different priorities to make the choice "
     "explicit"),
    ("id: x\ndescription: d\npriority: 1\nwhen: {value_tier: silver}\nthen: {service_level: "
     "basic}\n",
     "[warning] policies/x.yaml:4:7: when: policy 'x' never decides the service level: every "
     "customer it matches is matched first by 'service_silver' (priority 30)\n"
     "  hint: raise its priority, or narrow the higher-priority policy"),
])
def test_warnings_for_policies_that_never_match_or_never_win(tmp_path: Path, policy: str,
                                                             expected: str) -> None:
    assert problems(project(tmp_path, {"policies/x.yaml": policy})) == [expected]


def test_shadowing_by_several_higher_policies_together(tmp_path: Path) -> None:
    files = {
        "policies/a.yaml": GOOD.replace("id: x", "id: a").replace("priority: 5", "priority: 9")
        .replace("value_tier: gold", "recency_days: {lte: 30}"),
        "policies/b.yaml": GOOD.replace("id: x", "id: b").replace("priority: 5", "priority: 8")
        .replace("value_tier: gold", "recency_days: {gt: 30}"),
        "policies/c.yaml": GOOD.replace("id: x", "id: c")
        .replace("value_tier: gold", "recency_days: {between: [10, 60]}"),
    }
    folder = project(tmp_path, files, starter_policies=False)
    assert problems(folder) == [
        "[warning] policies/c.yaml:5:3: when: policy 'c' never decides the action: every "
        "customer it matches is matched first by 'a' (priority 9), 'b' (priority 8)\n"
        "  hint: raise its priority, or narrow the higher-priority policy"]
    # a customer with no recency_days is matched by neither a nor b; c needs one: still shadowed
    files["policies/c.yaml"] = files["policies/c.yaml"].replace(
        "recency_days: {between: [10, 60]}", "not: {recency_days: {gt: 100}}")
    assert problems(project(tmp_path / "2", files, starter_policies=False)) == []


def test_channels_are_checked_against_the_declared_channels(tmp_path: Path) -> None:
    folder = project(tmp_path, {"policies/x.yaml": GOOD.replace("[email]", "[emial]")})
    shutil.copy(ROOT / "policies" / "channels.yaml", folder / "policies" / "channels.yaml")
    types = attribute_types(consents=["email", "sms", "phone", "mail", "push"])
    found = [p.format() for p in validate_rulebook(folder, types)]
    assert len(found) == 1 and "then.channels[0]: unknown channel 'emial'" in found[0]
    assert found[0].endswith("hint: did you mean 'email'?")
    allowed = ["emial", "email", "app_push", "sms", "direct_mail", "account_manager", "call_centre"]
    assert load_rulebook(folder, types, channels=allowed).policies  # given: used as is


def test_a_project_without_policies_is_valid_with_a_warning(tmp_path: Path) -> None:
    folder = project(tmp_path, starter_policies=False)
    assert problems(folder) == [
        "[warning] policies: no enabled policies: every customer gets no_action\n"
        "  hint: add one YAML file per policy to policies/ (see README: Rules and policies)"]
    assert load_rulebook(folder, TYPES).policies == ()


def test_a_disabled_policy_is_loaded_but_not_active(tmp_path: Path) -> None:
    folder = project(tmp_path, {"policies/x.yaml": GOOD + "enabled: false\n"})
    book = load_rulebook(folder, TYPES)
    assert "x" in [p.id for p in book.policies]
    assert "x" not in [p.id for p in book.active_policies()]


def _schema(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((ROOT / "engine" / "schemas" / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_every_shipped_file_validates_against_the_published_json_schemas() -> None:
    policy, rules = _schema("policy"), _schema("rules")
    for path in sorted((ROOT / "policies").glob("*.yaml")):
        if path.name not in ("channels.yaml", "campaigns.yaml", "contact_policies.yaml"):
            assert not list(policy.iter_errors(yaml.safe_load(path.read_text()))), path
    for path in sorted((ROOT / "rules").glob("*.yaml")):
        if path.name != "value_tiers.yaml":
            assert not list(rules.iter_errors(yaml.safe_load(path.read_text()))), path


def test_the_json_schemas_reject_what_the_engine_rejects() -> None:
    policy = _schema("policy")
    good = yaml.safe_load(GOOD)
    assert not list(policy.iter_errors(good))
    for when in ({"all": []}, {"value_tier": {"gt": 3}}, {"recency_days": {"gt": "x"}},
                 {"value_tier": "gold", "recency_days": 3}, {"first_purchase": "2024-01-01"}):
        assert list(policy.iter_errors({**good, "when": when})), when
    assert list(policy.iter_errors({**good, "priorty": 3}))
    assert list(policy.iter_errors({**good, "then": {"offer": "x"}}))


def test_the_json_schemas_know_every_attribute_with_its_type() -> None:
    """A column added to engine/project/schema.py reaches both JSON Schemas (generated)."""
    for name in ("policy", "rules"):
        schema = json.loads((ROOT / "engine" / "schemas" / f"{name}.schema.json").read_text())
        props = schema["$defs"]["condition"]["properties"]
        declared = {k: v["$ref"].split("/")[-1].removesuffix("_test") for k, v in props.items()
                    if k not in ("all", "any", "not")}
        expected = {c.name: c.type for c in (*VALUE_COLUMNS, *STAGE_COLUMNS, *MODEL_COLUMNS,
                                             *SUBSCRIPTION_COLUMNS, *CHANGE_COLUMNS)}
        assert declared == expected, name
    policy = json.loads((ROOT / "engine" / "schemas" / "policy.schema.json").read_text())
    rules = json.loads((ROOT / "engine" / "schemas" / "rules.schema.json").read_text())
    assert policy["$defs"] == rules["$defs"]


def test_the_documented_examples_validate_and_load(tmp_path: Path) -> None:
    """README.md: the example with every condition form, the policy and segment."""
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    every_form = next(b for b in blocks if b.startswith("when:") and "between" in b)
    full_policy = next(b for b in blocks if b.startswith("id: retain_high_value"))
    segments = next(b for b in blocks if b.startswith("segments:"))
    files = {"policies/every_form.yaml": GOOD.replace("id: x", "id: every_form").replace(
        "when:\n  value_tier: gold\n", every_form), "policies/documented.yaml":
        full_policy.replace("id: retain_high_value", "id: documented"),
        "rules/documented.yaml": segments}
    folder = project(tmp_path, files)
    book = load_rulebook(folder, attribute_types(consents=["email"]))
    assert {"every_form", "documented"} <= {p.id for p in book.policies}
    assert [s.id for s in book.segments] == ["vip", "vip_at_risk"]
    assert not [p for p in validate_rulebook(folder, TYPES) if p.severity == "error"]


def test_run_lists_a_policy_s_errors_as_validate_does(tmp_path: Path) -> None:
    """A marketer's trial: a no_action policy with an offer and channels; validate listed the
    offer's error first (file order), run the channels' (the order they were checked in)."""
    from typer.testing import CliRunner

    from engine.cli import app
    from tests.conftest import copy_example_project

    project = copy_example_project(tmp_path)
    (project / "policies" / "zz.yaml").write_text(
        "id: zz_none\ndescription: nothing\npriority: 3\nwhen:\n  value_tier: gold\nthen:\n"
        "  action: no_action\n  offer: ten_off\n  channels: [email]\n")
    said = [CliRunner().invoke(app, [*command, "-p", str(project)]).stderr.splitlines()[:4]
            for command in (["validate"], ["run", "--no-history", "-o", str(tmp_path / "o")])]
    assert said[0] == said[1] == [
        "error: policies/zz.yaml:8:10: then.offer: found offer but no_action contacts no one",
        "  hint: remove `offer`",
        "error: policies/zz.yaml:9:13: then.channels: found channels but no_action contacts no "
        "one", "  hint: remove `channels`"]


def test_plan_lists_a_side_s_errors_as_validate_does(tmp_path: Path) -> None:
    """The re-trial: cvm plan listed the proposal's errors of one file in reverse (channels,
    offer, then campaign), validate and run in file order."""
    from typer.testing import CliRunner

    from engine.cli import app
    from tests.conftest import copy_example_project
    from tests.test_plan import full_copy

    project = copy_example_project(tmp_path)
    proposed = full_copy(project, tmp_path / "proposed")
    (proposed / "policies" / "zz.yaml").write_text(
        "id: zz_none\ndescription: nothing\npriority: 3\nwhen:\n  value_tier: gold\nthen:\n"
        "  action: no_action\n  offer: ten_off\n  channels: [email]\n")
    said = CliRunner().invoke(app, ["plan", "-p", str(project), "--proposed", str(proposed)])
    assert said.exit_code == 1
    lines = [line.strip() for line in said.stderr.splitlines()]
    assert lines.index(next(x for x in lines if "then.offer" in x)) < \
        lines.index(next(x for x in lines if "then.channels" in x)), said.stderr


def test_a_summary_without_a_line_stays_after_the_problems_it_sums_up() -> None:
    """The review: in_file_order put an events file's "and 5 more problem(s)" (no line) before
    the problems it follows."""
    from engine.errors import Problem, in_file_order

    found = [Problem("b", file="f", line=3), Problem("a", file="f", line=2),
             Problem("and 5 more problem(s)", file="f"), Problem("whole", file="g"),
             Problem("c", file="g", line=1)]
    assert [p.message for p in in_file_order(found)] == [
        "a", "b", "and 5 more problem(s)", "whole", "c"]
