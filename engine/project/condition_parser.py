"""Parsing the condition language of rules/ and policies/ (see ``engine.project.conditions``).

``Parser`` turns the YAML of one ``when`` into the typed tree of ``engine.project.conditions``,
checked against the customer table's attribute types, and collects every problem with its position:
unknown attributes and operators (with a "did you mean"), operands of the wrong type, numbers
durable-rules cannot read, empty groups, unknown stage names.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.errors import Problem, did_you_mean
from engine.project.checks import describe as describe_found
from engine.project.conditions import (
    ALWAYS,
    BOOLEAN,
    DATE,
    KEYWORDS,
    LARGEST,
    NUMBER,
    OPERATORS,
    OPERATORS_FOR,
    SMALLEST,
    AllOf,
    AnyOf,
    Compare,
    Condition,
    Not,
)
from engine.project.hints import number_hint
from engine.project.schema import contracts_only_hint
from engine.project.yamlio import Path_, YamlDoc, format_path


@dataclass
class Parser:
    """Parses conditions of one YAML document, collecting every problem with its position.

    ``values`` names the allowed values of closed text attributes (``lifecycle_stage``: the
    stages of rules/lifecycle.yaml), so a misspelt stage is an error, not a silent no-match;
    ``unavailable`` the attributes that exist but cannot be used here, with the reason.
    """

    doc: YamlDoc
    types: Mapping[str, str]
    values: Mapping[str, Collection[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    unavailable: Mapping[str, str] = field(default_factory=dict)

    def error(self, path: Path_, message: str, hint: str | None = None, *,
              key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, hint=hint, key=key))

    def when(self, raw: Any, path: Path_) -> Condition | None:
        """A whole ``when``: ``always`` or a condition; None after reporting a problem."""
        if raw == "always":
            return ALWAYS
        return self.condition(raw, path)

    def condition(self, raw: Any, path: Path_) -> Condition | None:
        where = format_path(path)
        if not isinstance(raw, dict):
            hint = ("`always` can only be the whole `when`" if raw == "always" else
                    "did you mean `always`? (the whole `when`, to match every customer)"
                    if len(path) == 1 and isinstance(raw, str) and did_you_mean(raw, ["always"])
                    else "write a mapping such as `recency_days: {gt: 90}`, or all/any/not")
            self.error(path, f"found {describe_found(raw)}, expected a condition", hint)
            return None
        if len(raw) != 1:
            found = f"{len(raw)} keys ({', '.join(map(str, raw))})" if raw else "an empty mapping"
            self.error(path, f"found {found}, expected exactly one: all, any, not or an "
                       "attribute", "put each condition in its own list item under `all:`"
                       if raw else "to match every customer write `when: always`")
            return None
        key, value = next(iter(raw.items()))
        sub = (*path, key)
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                found = "an empty list" if value == [] else describe_found(value)
                self.error(sub, f"found {found}, expected a list of at least one condition",
                           "an empty condition would match everyone or no one: remove it, or "
                           "write `when: always` to match every customer")
                return None
            items = [self.condition(item, (*sub, i)) for i, item in enumerate(value)]
            if any(item is None for item in items):
                return None
            kept = tuple(item for item in items if item is not None)
            return AllOf(kept, where) if key == "all" else AnyOf(kept, where)
        if key == "not":
            inner = self.condition(value, sub)
            return None if inner is None else Not(inner, where)
        if not isinstance(key, str):
            self.error(sub, f"found {describe_found(key)}, expected an attribute name", key=True)
            return None
        if key in OPERATORS:
            self.error(sub, f"operator {key!r} needs an attribute", "write it under the "
                       f"attribute it tests, e.g. `recency_days: {{{key}: ...}}`", key=True)
            return None
        kind = self.types.get(key)
        if kind is None and key in self.unavailable:
            self.error(sub, f"attribute {key!r} cannot be used here: {self.unavailable[key]}",
                       key=True)
            return None
        if kind is None and key.startswith("segment_"):
            known = [name.removeprefix("segment_") for name, k in self.types.items()
                     if name.startswith("segment_") and k == BOOLEAN]
            self.error(sub, f"unknown segment {key.removeprefix('segment_')!r}",
                       did_you_mean(key.removeprefix("segment_"), known) or
                       "segments are declared in rules/<name>.yaml (README: Segments)",
                       key=True)
            return None
        if kind is None and key in ("segments", "segment"):  # the run's column of ids
            names = value if isinstance(value, list) else [value]
            first = names[0] if names else None
            declared = [n.removeprefix("segment_") for n in [*self.types, *self.unavailable]
                        if n.startswith("segment_")]
            shown = first if isinstance(first, str) and first in declared else "ID"
            hint = ("lifecycle rules cannot test segments (they are decided after the stage)"
                    if f"segment_{shown}" in self.unavailable or (
                        shown == "ID" and any(n.startswith("segment_")
                                              for n in self.unavailable))
                    else "a condition tests one segment at a time, as true or false: "
                    f"segment_{shown}: true (customers.csv's segments column lists them for "
                    "reading, not for conditions)")
            self.error(sub, f"unknown attribute {key!r}", hint, key=True)
            return None
        if kind is None:
            hint = contracts_only_hint(key) or did_you_mean(key, [*self.types, *KEYWORDS]) or (
                "attributes are the customer table's columns, e.g. recency_days, value_tier, "
                "lifecycle_stage; see the README section Rules and policies")
            self.error(sub, f"unknown attribute {key!r}", hint, key=True)
            return None
        return self.test(key, kind, value, sub)

    def test(self, attribute: str, kind: str, raw: Any, path: Path_) -> Compare | None:
        where = format_path(path)
        if isinstance(raw, dict):
            if len(raw) != 1:
                found = (f"{len(raw)} operators ({', '.join(map(str, raw))})" if raw
                         else "an empty mapping")
                keys = list(raw)
                split = len(raw) == 2 and raw[keys[1]] is None and str(keys[1]).isdigit() \
                    and isinstance(raw[keys[0]], (int, float))  # {gte: 200,00}; 4,09: "09"
                self.error(path, f"found {found}, expected exactly one",
                           "a comma inside { } separates entries, so a comma splits the number "
                           "in two: write it without the comma if it separates thousands (1000 "
                           "for 1,000), with a decimal point if it is a decimal comma (4.09 for "
                           "4,09)" if split else
                           "to combine tests on one attribute use `between: [low, high]` or "
                           "list them under `all:`")
                return None
            op, operand = next(iter(raw.items()))
            allowed = OPERATORS_FOR[kind]
            if op not in OPERATORS:
                self.error((*path, op), f"unknown operator {op!r}",
                           did_you_mean(str(op), allowed) or "operators for a " + kind +
                           " attribute: " + ", ".join(allowed), key=True)
                return None
            if op not in allowed:
                hint = ("compare recency_days or tenure_days instead" if kind == DATE
                        else f"use one of {', '.join(allowed)} for a {kind} attribute")
                # the kinds it is for (in: text or number, not "a number" alone)
                kinds = [k for k, ops in OPERATORS_FOR.items() if op in ops]
                needs = ", ".join(kinds[:-1]) + " or " + kinds[-1] if len(kinds) > 1 \
                    else kinds[0]
                self.error((*path, op), f"operator {op!r} needs a {needs} attribute, but "
                           f"{attribute} is {kind}", hint, key=True)
                return None
            parsed = self.operand(attribute, kind, op, operand, (*path, op))
            if parsed is _BAD:
                return None
            if op in ("exists", "missing") and operand is False:  # exists: false = missing
                op = "missing" if op == "exists" else "exists"
            return Compare(attribute, op, parsed, kind, where,
                           self.doc.where(path, key=True))
        if isinstance(raw, list):
            self.error(path, "found a list, expected a value or an operator",
                       f"to test for one of several values write `{attribute}: {{in: [...]}}`")
            return None
        if raw is None:
            self.error(path, "found nothing (null), expected a value or an operator such as "
                       "{gt: 90}", "to test for a missing value write `{missing: true}`")
            return None
        if kind == DATE:
            self.error(path, f"found {describe_found(raw)}, expected {{exists: true}} or "
                       "{missing: true}", "compare recency_days or tenure_days instead")
            return None
        value = self.scalar(attribute, kind, raw, path)
        return None if value is _BAD else Compare(attribute, "eq", value, kind, where,
                                                  self.doc.where(path, key=True))

    def operand(self, attribute: str, kind: str, op: str, raw: Any, path: Path_) -> Any:
        if op in ("exists", "missing"):
            if not isinstance(raw, bool):
                self.error(path, f"found {describe_found(raw)}, expected true or false")
                return _BAD
            return None
        if op == "between":
            ok = isinstance(raw, list) and len(raw) == 2
            if not ok:
                self.error(path, f"found {describe_found(raw)}, expected a list of two numbers "
                           "[low, high]", "both ends are included: `between: [1, 5]`")
                return _BAD
            low, high = (self.scalar(attribute, kind, v, (*path, i)) for i, v in enumerate(raw))
            if low is _BAD or high is _BAD:
                return _BAD
            if low > high:
                self.error(path, f"found [{raw[0]}, {raw[1]}], the low end is above the high "
                           "end", f"write [{raw[1]}, {raw[0]}]")
                return _BAD
            return (low, high)
        if op in ("in", "not_in"):
            if not isinstance(raw, list) or not raw:
                found = "an empty list" if raw == [] else describe_found(raw)
                self.error(path, f"found {found}, expected a list of at least one value",
                           f"{{{op}: []}} holds for {'no' if op == 'in' else 'every'} "
                           "customer: list the values, or remove the test" if raw == [] else
                           f"write the values as a list, even one: {{{op}: [{raw}]}}"
                           if isinstance(raw, (str, int, float)) else None)
                return _BAD
            values = [self.scalar(attribute, kind, v, (*path, i)) for i, v in enumerate(raw)]
            if any(v is _BAD for v in values):
                return _BAD
            return tuple(dict.fromkeys(values))  # drop repeats, keep the written order
        return self.scalar(attribute, kind, raw, path)

    def scalar(self, attribute: str, kind: str, raw: Any, path: Path_) -> Any:
        if kind == NUMBER:
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                self.error(path, f"found {describe_found(raw)}, expected a number "
                           f"({attribute} is a number)", number_hint(raw, attribute))
                return _BAD
            number = float(raw)
            if not math.isfinite(number) or (number != 0 and not
                                             SMALLEST <= abs(number) < LARGEST):
                self.error(path, f"found {raw!r}, expected 0 or a number from 0.0001 to "
                           "10^15 in size", "the rule engine cannot read numbers beyond these")
                return _BAD
            return number
        if kind == BOOLEAN:
            if not isinstance(raw, bool):
                self.error(path, f"found {describe_found(raw)}, expected true or false "
                           f"({attribute} is true/false)")
                return _BAD
            return raw
        if not isinstance(raw, str):
            hint = f"quote it: '{raw}'" if isinstance(raw, (bool, int, float)) else None
            if isinstance(raw, bool):
                hint = "YAML reads yes/no/true/false/on/off as true or false; quote the text"
            self.error(path, f"found {describe_found(raw)}, expected text ({attribute} is "
                       "text)", hint)
            return _BAD
        allowed = self.values.get(attribute)
        if allowed is not None and raw not in allowed:
            what = "stage" if attribute == "lifecycle_stage" else attribute
            hint = did_you_mean(raw, allowed) or (
                "stages are defined in rules/lifecycle.yaml" if attribute == "lifecycle_stage"
                else "the rules' ids are in rules/lifecycle.yaml" if attribute == "stage_rule"
                else None)
            self.error(path, f"unknown {what} {raw!r}, expected one of {', '.join(allowed)}",
                       hint)
            return _BAD
        return raw


_BAD: Any = object()




