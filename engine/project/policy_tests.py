"""Policy tests (``cvm test``): customers described by the attributes that matter, and what
the engine must decide for them.

A test file (``policy_tests/*.yaml`` in the project) is read and checked here; the customers go
through the same decision path as ``cvm run`` (``engine.policy.lifecycle.assign_stages``,
``engine.policy.decisions.decide`` and, for a channel, the allocation of
``engine.run.pipeline``), so a test can never pass on an evaluator of its own. Every attribute a
test does not give is missing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InputError, Problem, clip, did_you_mean
from engine.project.channels import SERVICE_LEVELS
from engine.project.hints import bool_hint, text_number_hint
from engine.project.rulebook import NO_ACTION, Rulebook
from engine.project.schema import BOOLEAN, DATE, NUMBER, TEXT, contracts_only_hint
from engine.project.yamlio import YamlDoc, load_file

TESTS_FOLDER = "policy_tests"
# what a test may expect, and what each means (the README lists the same)
EXPECT_KEYS = ("stage", "stage_rule", "action", "policy", "service_level", "service_policy",
               "offer", "channel", "no_action", "suppressed_by")
TEST_KEYS = ("name", "customer", "holdout", "expect")
FILE_KEYS = ("defaults", "tests")
STAGE_GIVEN = "(given by the test)"
TYPE_WORDS = {NUMBER: "a number", TEXT: "text", BOOLEAN: "true or false",
              DATE: "a date (YYYY-MM-DD)"}


@dataclass(frozen=True)
class PolicyTest:
    file: str
    line: int | None
    name: str
    customer: Mapping[str, Any]  # attribute -> value; every other attribute is missing
    expect: Mapping[str, Any]
    expect_lines: Mapping[str, int | None]
    # in a campaign's holdout: True or False as the test says; None: the lottery of
    # cvm run, for a test that gives customer_id. A test's outcome never depends on its line.
    holdout: bool | None = False


@dataclass(frozen=True)
class Known:
    """What a test may name: attributes with their types, and the project's names."""

    types: Mapping[str, str]
    stages: Collection[str] = ()
    stage_rules: Collection[str] = ()
    policies: Collection[str] = ()
    suppressing: Collection[str] = ()  # policies whose action is no_action
    service_only: Mapping[str, str] = dataclasses.field(default_factory=dict)  # id -> level
    action_only: Collection[str] = ()  # policies that set no service level
    actions: Collection[str] = ()
    offers: Collection[str] = ()
    channels: Collection[str] = ()
    tiers: Collection[str] = ()

    @classmethod
    def of(cls, types: Mapping[str, str], rulebook: Rulebook | None,
           channels: Collection[str] = (), tiers: Collection[str] = ()) -> Known:
        if rulebook is None:
            return cls(types, channels=channels, tiers=tiers)
        pols = rulebook.policies
        return cls(types, [s.name for s in rulebook.stages],
                   [r.id for r in rulebook.stage_rules], [p.id for p in pols],
                   [p.id for p in pols if p.action == NO_ACTION],
                   {p.id: p.service_level for p in pols if p.service_level and not p.action},
                   [p.id for p in pols if p.action and not p.service_level],
                   sorted({p.action for p in pols if p.action} | {NO_ACTION}),
                   sorted({p.offer for p in pols if p.offer}), channels, tiers)


def unread_test_folders(project: Path) -> list[Problem]:
    """A warning per sub-folder of policy_tests/ (not read), as for rules/ and policies/."""
    folder = project / TESTS_FOLDER
    if not folder.is_dir():
        return []
    return [Problem(f"the folder {TESTS_FOLDER}/{p.name}/ is not read: only the .yaml files "
                    f"directly in {TESTS_FOLDER}/ are", file=f"{TESTS_FOLDER}/{p.name}/",
                    severity="warning", hint=f"move its .yaml files up into {TESTS_FOLDER}/ "
                    "if they should count")
            for p in sorted(folder.iterdir()) if p.is_dir() and not p.name.startswith(".")]


def test_files(project: Path) -> list[Path]:
    folder = project / TESTS_FOLDER
    if not folder.is_dir():
        return []
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def load_tests(project: Path, known: Known,
               files: list[Path] | None = None) -> tuple[list[PolicyTest], list[Problem]]:
    """Every test of the project's test files (or of ``files``), and every problem in them."""
    tests: list[PolicyTest] = []
    problems: list[Problem] = []
    for path in test_files(project) if files is None else files:
        try:  # the link's own name, not its target's
            display = str(path.absolute().relative_to(project.absolute()))
        except ValueError:
            try:
                display = str(path.resolve().relative_to(project.resolve()))
            except ValueError:
                display = str(path)
        try:
            doc = load_file(path, display=display, inside=project if files is None else None)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        found, bad = _read(doc, known)
        tests += found
        problems += bad
    return tests, problems


def _read(doc: YamlDoc, known: Known) -> tuple[list[PolicyTest], list[Problem]]:
    problems: list[Problem] = []
    data = doc.data
    if not isinstance(data, dict) or "tests" not in data:
        return [], [doc.problem((), "found no `tests:` list, expected a mapping with `tests:` "
                                "(and optionally `defaults:`)",
                                hint="see README \"Policy tests: cvm test\"")]
    for key in data:
        if key not in FILE_KEYS:
            problems.append(doc.problem((key,), f"unknown key {key!r}, expected one of "
                                        + ", ".join(FILE_KEYS), key=True,
                                        hint=did_you_mean(str(key), FILE_KEYS)))
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        problems.append(doc.problem(("defaults",), "expected a mapping of attribute: value"))
        defaults = {}
    problems += _check_customer(doc, ("defaults",), defaults, known)
    items = data["tests"]
    if not isinstance(items, list) or not items:
        problems.append(doc.problem(("tests",), "expected a list of at least one test"))
        return [], problems
    tests = []
    named: dict[str, int] = {}  # a test's name -> the first test of it
    for i, item in enumerate(items):
        path: tuple[str | int, ...] = ("tests", i)
        if not isinstance(item, dict):
            problems.append(doc.problem(path, "expected a test: a mapping with name, customer "
                                        "and expect"))
            continue
        before = len(problems)
        for key in item:
            if key not in TEST_KEYS:
                # a key the test has is no suggestion: `customer_id:` beside `customer:`
                missing = [k for k in TEST_KEYS if k not in item]
                problems.append(doc.problem((*path, key), f"unknown key {key!r}, expected one "
                                            "of " + ", ".join(TEST_KEYS), key=True,
                                            hint=did_you_mean(str(key), missing) or (
                                                f"{key} is an attribute of the customer: put "
                                                "it under `customer:`" if key in known.types
                                                else None)))
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(doc.problem((*path, "name") if "name" in item else path,
                                        "expected a name: what the test is about (text)"))
        customer = item.get("customer") or {}
        if not isinstance(customer, dict):
            problems.append(doc.problem((*path, "customer"),
                                        "expected a mapping of attribute: value"))
            customer = {}
        problems += _check_customer(doc, (*path, "customer"), customer, known)
        expect = item.get("expect")
        if not isinstance(expect, dict) or not expect:
            problems.append(doc.problem((*path, "expect") if "expect" in item else path,
                                        "expected `expect:` with at least one of "
                                        + ", ".join(EXPECT_KEYS)))
            expect = {}
        problems += _check_expect(doc, (*path, "expect"), expect, known)
        holdout = item.get("holdout")
        if holdout is not None and not isinstance(holdout, bool):
            problems.append(doc.problem((*path, "holdout"), f"found {clip(holdout)}, expected "
                                        "true or false", hint=bool_hint(holdout)))
        if len(problems) == before:
            given = {**defaults, **customer}
            tests.append(PolicyTest(
                doc.file, doc.where(path)[0], str(name), given, expect,
                {k: doc.where((*path, "expect", k))[0] for k in expect},
                holdout if holdout is not None else (
                    None if given.get("customer_id") is not None else False)))
        if isinstance(name, str) and name.strip() in named:
            problems.append(doc.problem(
                (*path, "name"), f"the name {name!r} is the name of tests[{named[name.strip()]}] "
                "too", severity="warning", hint="give each test its own name: a failure is "
                "said by it"))
        elif isinstance(name, str):
            named[name.strip()] = i
    return tests, problems


def _check_customer(doc: YamlDoc, path: tuple[str | int, ...], customer: Mapping[Any, Any],
                    known: Known) -> list[Problem]:
    problems = []
    for attr, value in customer.items():
        where = (*path, attr)
        kind = known.types.get(str(attr))
        if str(attr).startswith("segment_") and kind is None:
            problems.append(doc.problem(where, f"{attr!r} cannot be given: segments are "
                                        "decided from the other attributes", key=True,
                                        hint="give the attributes the segment tests"))
            continue
        if attr == "stage_rule":
            problems.append(doc.problem(where, "'stage_rule' cannot be given: the lifecycle "
                                        "rules give it", key=True,
                                        hint="give lifecycle_stage to skip the rules, or the "
                                        "attributes the rules test"))
            continue
        if kind is None:
            problems.append(doc.problem(where, f"unknown attribute {attr!r}", key=True,
                                        hint=contracts_only_hint(str(attr))
                                        or did_you_mean(str(attr), known.types)
                                        or "attributes are the columns of the customer value "
                                        "table (README \"Attributes\")"))
            continue
        if value is None:
            continue  # missing, on purpose
        if not _of_type(value, kind):  # with YAML's reading where it is the cause
            problems.append(doc.problem(where, f"found {clip(value)}, expected "
                                        f"{TYPE_WORDS[kind]} for {attr}", hint=(
                                            text_number_hint(value) if kind == NUMBER else
                                            bool_hint(value) if kind == BOOLEAN else None)))
        elif attr == "lifecycle_stage" and known.stages and value not in known.stages:
            problems.append(doc.problem(where, f"unknown stage {value!r}, expected one of "
                                        + ", ".join(known.stages),
                                        hint=did_you_mean(value, known.stages)))
        elif attr == "value_tier" and known.tiers and value not in known.tiers:
            problems.append(doc.problem(where, f"unknown value tier {value!r}, expected one "
                                        "of " + ", ".join(known.tiers),
                                        hint=did_you_mean(value, known.tiers)))
    return problems


def _of_type(value: Any, kind: str) -> bool:
    if kind == NUMBER:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == TEXT:
        return isinstance(value, str)
    if kind == BOOLEAN:
        return isinstance(value, bool)
    return isinstance(value, dt.date)


def _check_expect(doc: YamlDoc, path: tuple[str | int, ...], expect: Mapping[Any, Any],
                  known: Known) -> list[Problem]:
    problems = []
    allowed: dict[str, Collection[str]] = {
        "stage": known.stages, "stage_rule": known.stage_rules, "action": known.actions,
        "policy": known.policies, "service_policy": known.policies,
        "service_level": SERVICE_LEVELS, "offer": known.offers, "channel": known.channels,
        "suppressed_by": known.suppressing}
    for key, value in expect.items():
        where = (*path, key)
        if key not in EXPECT_KEYS:
            problems.append(doc.problem(where, f"unknown expectation {key!r}, expected one of "
                                        + ", ".join(EXPECT_KEYS), key=True,
                                        hint=did_you_mean(str(key), EXPECT_KEYS)))
            continue
        if key == "no_action":
            if value is not True:
                problems.append(doc.problem(where, f"found {clip(value)}, expected true",
                                            hint="`no_action: true`: no policy gives an "
                                            "action; for a policy that withholds one, "
                                            "use `suppressed_by: <policy id>`"))
            continue
        if not isinstance(value, str):
            problems.append(doc.problem(where, f"found {clip(value)}, expected text"))
            continue
        names = allowed[key]
        if names and value not in names:
            what = {"suppressed_by": "a policy whose action is no_action"}.get(
                key, key.replace("_", " "))
            # the policies of the other kind are refused below: not offered here
            other = {"policy": known.service_only, "service_policy": known.action_only}.get(
                key, ())
            shown = [n for n in names if n not in other]
            problems.append(doc.problem(where, f"found {value!r}, expected {what}: "
                                        + (", ".join(sorted(shown)) or "(none)"),
                                        hint=did_you_mean(value, shown)))
        elif key == "policy" and value in known.service_only:
            problems.append(doc.problem(where, f"found {value!r}, expected a policy that gives "
                                        f"an action: {value} sets only a service level",
                                        hint=f"use `service_level: "
                                        f"{known.service_only[value]}` or `service_policy: "
                                        f"{value}`"))
        elif key == "service_policy" and value in known.action_only:
            problems.append(doc.problem(where, f"found {value!r}, expected a policy that sets "
                                        f"a service level: {value} sets only an action",
                                        hint=f"use `policy: {value}`"))
    clash = [k for k in ("no_action", "suppressed_by") if k in expect]
    if (clash and any(k in expect for k in ("policy", "offer", "channel"))) or len(clash) == 2:
        problems.append(doc.problem(path, "`no_action` and `suppressed_by` exclude each other "
                                    "and `policy`, `offer` and `channel`"))
    return problems


@dataclass(frozen=True)
class PolicyTests:
    """The project's policy tests as read with the project (``cvm test`` runs them), and the
    problems of their files (``cvm validate`` and ``cvm test`` report them; a run does not
    need the tests, so they never stop one)."""

    tests: tuple[PolicyTest, ...] = ()
    problems: tuple[Problem, ...] = ()


NO_TESTS = PolicyTests()


def read_policy_tests(project: Path, types: Mapping[str, str], rulebook: Rulebook | None,
                      channels: Collection[str], tiers: Collection[str],
                      files: list[Path] | None = None) -> PolicyTests:
    """The tests of ``policy_tests/*.yaml`` (or of ``files``). Without a rulebook (its files
    have errors, reported with them), the names the tests use are not checked."""
    if files is None and not test_files(project):
        return NO_TESTS
    tests, problems = load_tests(project, Known.of(types, rulebook, channels, tiers), files)
    return PolicyTests(tuple(tests), tuple(problems))
