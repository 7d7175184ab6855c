"""The action list's columns, declared once: what campaign tools consume from ``cvm run``.

Versioned: a change that removes or renames a column, or changes a type, is a new major
version; adding a column is a minor version. ``engine/schemas/actions.schema.json`` is generated
from this module
(``python -m engine.activation.actions_schema > engine/schemas/actions.schema.json``) and a
test checks that the two agree.
"""

from __future__ import annotations

import json
from typing import Any

VERSION = "1.2"  # 1.1: expected_value includes the relationship factor; 1.2: status
# suppressed (a contact policy forbade every option: README "Contact policies")

# name, JSON type(s), description
COLUMNS: tuple[tuple[str, Any, str], ...] = (
    ("run_id", "string", "Id of the run (a hash of the inputs and of the history read: the "
     "same inputs and history give the same id)."),
    ("customer_id", "string", "The customer's id."),
    ("campaign", "string", "The campaign the action belongs to."),
    ("action", "string", "What to do (the winning policy's action)."),
    ("policy_id", "string", "The policy that decided the action."),
    ("priority", "integer", "That policy's priority."),
    ("channel", ["string", "null"], "The allocated channel; empty unless status is allocated."),
    ("cost", "number", "Cost of the contact (0 unless allocated)."),
    ("expected_value", "number",
     "value_at_stake x expected_response x (1 + relationship_weight x the channel's "
     "relationship_strength) - cost (0 unless allocated)."),
    ("expected_response", "number", "Expected response on the allocated channel (0 otherwise)."),
    ("value_at_stake", "number", "The customer's value the campaign protects or creates."),
    ("service_level", ["string", "null"], "The customer's service level."),
    ("offer", ["string", "null"], "The offer, if the policy names one."),
    ("value_tier", "string", "The customer's value tier."),
    ("lifecycle_stage", "string", "The customer's lifecycle stage."),
    ("holdout", "boolean", "True: in the campaign's holdout group, not contacted."),
    ("status", {"enum": ["allocated", "holdout", "not_served", "suppressed"]}, "allocated, "
     "holdout, not_served or suppressed (by a contact policy or an opt-out)."),
    ("reason", "string", "Why: the policy for allocated, the cause for holdout, not_served "
     "and suppressed."),
)

NAMES = tuple(c[0] for c in COLUMNS)


def json_schema() -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name, kind, description in COLUMNS:
        prop = dict(kind) if isinstance(kind, dict) else {"type": kind}
        prop["description"] = description
        props[name] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://cvm-engine.invalid/schemas/actions-{VERSION}.json",
        "title": f"CVM Engine action list record, version {VERSION}",
        "description": "One row of actions.csv / actions.jsonl / actions.parquet written by "
        "`cvm run`. In CSV, empty cells are null and booleans are true/false.",
        "x-version": VERSION,
        "type": "object",
        "required": list(NAMES),
        "additionalProperties": False,
        "properties": props,
    }


def dumps() -> str:
    return json.dumps(json_schema(), indent=2) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(dumps(), end="")
