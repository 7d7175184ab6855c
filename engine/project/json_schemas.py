"""The editor JSON Schemas of the project's YAML files, generated from the declarations.

The shapes are declared once, as the ``checks`` records that validate the files
(``rulebook.POLICY``, ``rulebook.LIFECYCLE``, ``segments.SEGMENTS``, ``channels.CHANNELS``,
``channels.CAMPAIGNS``, ``tiers.TIERS``, ``config.CONFIG``); the condition language's
``$defs`` come from ``conditions.OPERATORS_FOR`` and the attributes of ``schema``. Written to
``engine/schemas/`` by ``python -m engine.project.json_schemas`` (``--check``: exit 1 when a
committed file differs); ``tests/test_json_schemas.py`` keeps the committed files equal.

A schema is an editor's help: the engine checks more (ids unique, stages declared, channels
known, thresholds durable-rules can read), and ``cvm validate`` says so with the file and line.
A new YAML file kind joins by one entry in ``FILES`` (its declaration, title and description).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.project import checks as c
from engine.project.channels import CAMPAIGNS, CHANNELS
from engine.project.conditions import BOOLEAN, DATE, KEYWORDS, NUMBER, OPERATORS_FOR, TEXT
from engine.project.config import CONFIG
from engine.project.contact_policies import CONTACT_POLICIES
from engine.project.rulebook import LIFECYCLE, POLICY
from engine.project.rulebook_io import ID
from engine.project.schema import (
    CHANGE_COLUMNS,
    MODEL_COLUMNS,
    STAGE_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    VALUE_COLUMNS,
    consent_column,
)
from engine.project.segments import SEGMENTS, segment_attribute
from engine.project.tiers import TIERS
from engine.project.triggers import TRIGGERS

FOLDER = Path(__file__).resolve().parents[1] / "schemas"
BASE = "https://cvm-engine.dev/schemas/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

OPERATOR_ABOUT = {
    "eq": "equal to", "ne": "present and not equal to", "lt": "less than", "lte": "at most",
    "gt": "more than", "gte": "at least", "between": "[low, high], both ends included",
    "in": "one of these values", "not_in": "present and none of these values",
    "exists": "true: the value is present (not null, not missing, right type)",
    "missing": "true: the value is missing (absent, null, NaN or of the wrong type)",
}
TYPE_ABOUT = {
    NUMBER: "a number attribute: a value (eq) or one operator",
    TEXT: "a text attribute: a value (eq) or one operator",
    BOOLEAN: "a true/false attribute: a value (eq) or one operator",
    DATE: "a date attribute: only exists/missing (compare recency_days or tenure_days instead)",
}
KEYWORD_ABOUT = {
    "all": "every condition holds", "any": "at least one condition holds",
    "not": "the condition does not hold (true when it is false because a value is missing)",
}
JSON_TYPE = {NUMBER: "number", TEXT: "string", BOOLEAN: "boolean"}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{name}"}


def _operand(kind: str, op: str) -> dict[str, Any]:
    if op in ("exists", "missing"):
        return {"type": "boolean"}
    scalar = {"type": JSON_TYPE[kind]}
    if op == "between":
        return {"type": "array", "prefixItems": [scalar, scalar], "minItems": 2, "maxItems": 2}
    if op in ("in", "not_in"):
        return {"type": "array", "items": scalar, "minItems": 1}
    return scalar


def _test(kind: str) -> dict[str, Any]:
    operators = {"type": "object", "minProperties": 1, "maxProperties": 1,
                 "additionalProperties": False,
                 "properties": {op: {**_operand(kind, op), "description": OPERATOR_ABOUT[op]}
                                for op in OPERATORS_FOR[kind]}}
    if kind == DATE:  # a date is tested for presence only
        return {"description": TYPE_ABOUT[kind], **operators}
    return {"description": TYPE_ABOUT[kind],
            "oneOf": [{"type": JSON_TYPE[kind]}, operators]}


def condition_defs() -> dict[str, Any]:
    """The condition language (``when:``): shared by policies and rules."""
    defs: dict[str, Any] = {f"{k}_test": _test(k) for k in (NUMBER, TEXT, BOOLEAN, DATE)}
    defs["other_test"] = {
        "description": "a project-specific attribute (cvm.yaml data.attributes); "
                       "`cvm validate` checks it",
        "anyOf": [_ref(f"{k}_test") for k in (NUMBER, TEXT, BOOLEAN)]}
    keywords: dict[str, Any] = {
        k: ({**_ref("condition"), "description": KEYWORD_ABOUT[k]} if k == "not" else
            {"type": "array", "minItems": 1, "items": _ref("condition"),
             "description": KEYWORD_ABOUT[k]}) for k in KEYWORDS}
    columns = (*VALUE_COLUMNS, *STAGE_COLUMNS, *MODEL_COLUMNS, *SUBSCRIPTION_COLUMNS,
               *CHANGE_COLUMNS)
    attributes = {col.name: {**_ref(f"{col.type}_test"), "description": col.description}
                  for col in columns}
    defs["condition"] = {
        "description": "One of: all: [conditions], any: [conditions], not: condition, or one "
                       "attribute test such as recency_days: {gt: 90}. See the README section "
                       "Rules and policies.",
        "type": "object", "minProperties": 1, "maxProperties": 1,
        "propertyNames": {"pattern": ID.json_schema()["pattern"]},
        "properties": {**keywords, **attributes},
        "patternProperties": {
            "^" + consent_column("[A-Za-z0-9_]+") + "$": {
                **_ref("boolean_test"), "description": "a consent from the customers file"},
            "^" + segment_attribute(ID.json_schema()["pattern"].lstrip("^").rstrip("$"))
            + "$": {**_ref("boolean_test"), "description": "true/false: the customer is in "
                    "the segment <id> of rules/<name>.yaml (policies and other segments; not "
                    "lifecycle rules)"}},
        "additionalProperties": _ref("other_test")}
    defs["when"] = {"description": "always (every customer) or a condition",
                    "oneOf": [{"const": "always"}, _ref("condition")]}
    return defs


def _head(name: str, title: str, description: str) -> dict[str, Any]:
    return {"$schema": DRAFT, "$id": BASE + f"{name}.schema.json", "title": title,
            "description": description}


def policy() -> dict[str, Any]:
    return {**_head("policy", "CVM Engine policy (policies/<id>.yaml)",
                    "One policy: who it applies to (when) and what to do (then). The highest "
                    "priority matching policy gives the action; the service level is decided "
                    "separately, among matching policies that set one."),
            **POLICY.json_schema(), "$defs": condition_defs()}


def rules() -> dict[str, Any]:
    return {**_head("rules", "CVM Engine classification rules (rules/lifecycle.yaml, "
                    "rules/<segments>.yaml)", "rules/lifecycle.yaml: stages and first-match "
                    "rules; any other rules/*.yaml except value_tiers.yaml: segments."),
            "oneOf": [{"title": "lifecycle stages", **LIFECYCLE.json_schema()},
                      {"title": "segments", **SEGMENTS.json_schema()}],
            "$defs": condition_defs()}


def _plain(name: str, title: str, kind: c.Kind, description: str) -> Callable[[], Any]:
    return lambda: {**_head(name, title, description), **kind.json_schema()}


# file name in engine/schemas/ -> its schema
FILES: dict[str, Callable[[], dict[str, Any]]] = {
    "policy.schema.json": policy,
    "rules.schema.json": rules,
    "channels.schema.json": _plain("channels", "CVM Engine channels (policies/channels.yaml)",
                                   CHANNELS, "The channels the engine may allocate customers "
                                   "to, their costs, capacities and budgets."),
    "campaigns.schema.json": _plain("campaigns", "CVM Engine campaigns "
                                    "(policies/campaigns.yaml)", CAMPAIGNS,
                                    "Campaign settings: holdouts and budgets per campaign."),
    "value_tiers.schema.json": _plain("value_tiers", "CVM Engine value tiers "
                                      "(rules/value_tiers.yaml)", TIERS,
                                      "The value tiers, by value score."),
    "cvm.schema.json": _plain("cvm", "CVM Engine project settings (cvm.yaml)", CONFIG,
                              "The data, the value settings, the models, the output folder "
                              "and the report."),
    "contact_policies.schema.json": _plain(
        "contact_policies", "CVM Engine contact policies (policies/contact_policies.yaml)",
        CONTACT_POLICIES, "Caps, cool-downs, suppression after unanswered contacts and quiet "
        "days after an outcome, enforced inside the allocation."),
    "triggers.schema.json": lambda: {
        **_head("triggers", "CVM Engine triggers (triggers/*.yaml)", "Event types and the "
                "triggers that events fire: single events, N events within a window, or an "
                "event with no follow-up within a window."),
        **TRIGGERS.json_schema(), "$defs": condition_defs()},
}


def text(name: str) -> str:
    """The file's text, as committed."""
    return json.dumps(FILES[name](), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write every schema (or, with ``--check``, say which committed file differs)."""
    check = "--check" in (sys.argv[1:] if argv is None else argv)
    stale = []
    for name in FILES:
        path = FOLDER / name
        if path.is_file() and path.read_text(encoding="utf-8") == text(name):
            continue
        stale.append(name)
        if not check:
            path.write_text(text(name), encoding="utf-8")
    verb = "differ from the declarations" if check else "written"
    print(f"{len(stale)} schema(s) {verb}" + (": " + ", ".join(stale) if stale else ""))
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
