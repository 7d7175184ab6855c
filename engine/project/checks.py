"""Declarative checks for YAML files: a schema is data, one call checks it and fills defaults.

A schema is a tree of ``Kind`` objects. ``check(doc, kind)`` walks the parsed document,
collects every problem (with file, line, column and key path) and returns the value with
defaults filled in. Unknown keys are errors with a "did you mean" hint (a misspelt key ignored
would change a decision unseen). ``kind.json_schema()`` says the same shape as a JSON Schema,
for editors (``engine.project.json_schemas`` writes ``engine/schemas/*.schema.json``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.errors import InputError, Problem, clip, did_you_mean
from engine.project import hints
from engine.project.hints import bool_hint, date_hint, empty_file_hint, text_number_hint
from engine.project.iso_time import iso_date
from engine.project.yamlio import Path_, YamlDoc

MISSING: Any = object()
# No setting needs more, and beyond it numbers stop being exact in the engine's arrays and
# rules; amounts, costs and counts in the data are bounded the same way.
MAX_NUMBER = 1e15


class Invalid(Exception):
    """Raised inside a Kind; ``check`` turns it into a Problem at the current path."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def describe(value: Any) -> str:
    """How a found value is shown in messages: its text and its YAML type."""
    names = {bool: "boolean", int: "integer", float: "number", str: "text", list: "list",
             dict: "mapping", type(None): "nothing (null)"}
    kind = names.get(type(value), type(value).__name__)
    if isinstance(value, (dict, list)):
        return f"a {kind}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"{value.isoformat(sep=' ') if isinstance(value, dt.datetime) else value} " \
            f"({'date and time' if isinstance(value, dt.datetime) else 'date'})"
    return f"{clip(value) if isinstance(value, str) else repr(value)} ({kind})"


@dataclass
class Ctx:
    doc: YamlDoc
    problems: list[Problem] = field(default_factory=list)

    def add(self, path: Path_, message: str, hint: str | None = None, *, key: bool = False,
            severity: str = "error") -> None:
        self.problems.append(self.doc.problem(path, message, hint=hint, key=key,
                                              severity=severity))


class Kind:
    """Checks and converts one value. Subclasses implement ``convert``."""

    expected = "a value"

    def convert(self, value: Any, ctx: Ctx, path: Path_) -> Any:
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        """The same shape as a JSON Schema (an editor's hints; the engine checks more)."""
        return {}

    def run(self, value: Any, ctx: Ctx, path: Path_) -> Any:
        try:
            return self.convert(value, ctx, path)
        except Invalid as exc:
            ctx.add(path, exc.message, exc.hint)
            return MISSING


@dataclass
class Number(Kind):
    min: float | None = None
    max: float | None = None
    integer: bool = False
    min_exclusive: bool = False
    hint_at_min: str | None = None  # why the bound itself is refused (with min_exclusive)
    hint: str | None = None  # what a good value looks like (else the rates' or % hint)

    @property
    def expected(self) -> str:  # type: ignore[override]
        noun = "a whole number" if self.integer else "a number"
        if self.min is not None and self.max is not None:
            if self.min_exclusive:
                return f"{noun} above {self.min:g} and at most {self.max:g}"
            return f"{noun} from {self.min:g} to {self.max:g}"
        if self.min is not None:
            return f"{noun} {'above' if self.min_exclusive else 'of at least'} {self.min:g}"
        return noun

    def convert(self, value: Any, ctx: Ctx, path: Path_) -> Any:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = ok and not (self.integer and not float(value).is_integer())
        if not ok or not math.isfinite(float(value)):
            percent = isinstance(value, str) and value.strip().endswith("%") and not self.hint
            raise Invalid(f"found {describe(value)}, expected {self.expected}", (
                f"write a fraction, without %: {hints.as_fraction(value)}" if percent else
                text_number_hint(value, str(path[-1]) if path else "") or self.hint))
        too_low = self.min is not None and (value <= self.min if self.min_exclusive
                                            else value < self.min)
        outside = too_low or (self.max is not None and value > self.max)  # said alone if so
        if abs(value) >= MAX_NUMBER and not outside:  # beyond the engine's arrays and rules
            raise Invalid(f"found {value!r}, expected {self.expected}"
                          f"{' below' if self.min is None else ' and below'} 10^15 in size")
        if outside:
            raise Invalid(f"found {value!r}, expected {self.expected}",
                          self.hint_at_min if value == self.min and self.hint_at_min
                          else self._out_of_range_hint(value, too_low))
        return int(value) if self.integer else float(value)

    def _out_of_range_hint(self, value: float, too_low: bool) -> str | None:
        if not too_low and self.max == 1 and value < MAX_NUMBER:  # a rate as a percentage
            return f"rates are fractions: write {hints.as_fraction(value)}"
        if self.hint is not None:
            return self.hint
        if not too_low and self.max is not None and self.max < 1 < value <= 100:
            return f"a share is a fraction: write {value / 100:g} for {value:g}%" \
                if value / 100 <= self.max else f"a share is a fraction, at most {self.max:g}"
        return "a negative number is never one here: write it without the minus sign" \
            if too_low and value < 0 == self.min else None

    def json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "integer" if self.integer else "number"}
        if self.min is not None:
            out["exclusiveMinimum" if self.min_exclusive else "minimum"] = _json_number(self.min)
        if self.max is not None:
            out["maximum"] = _json_number(self.max)
        return out


@dataclass
class Text(Kind):
    choices: Sequence[str] | None = None
    non_empty: bool = True
    check_fn: Callable[[str], str | None] | None = None  # returns an error message or None
    hint: str | None = None  # what a good value looks like, for a value refused

    @property
    def expected(self) -> str:  # type: ignore[override]
        if self.choices:
            return "one of " + ", ".join(self.choices)
        return "text"

    def convert(self, value: Any, ctx: Ctx, path: Path_) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not self.choices:
            value = str(value)  # ids such as 1001 are fine as text
        if not isinstance(value, str):
            raise Invalid(f"found {describe(value)}, expected {self.expected}", self.hint)
        if self.non_empty and not value.strip():
            raise Invalid(f"found an empty value, expected {self.expected}", self.hint)
        if self.choices is not None and value not in self.choices:
            raise Invalid(f"found {value!r}, expected {self.expected}",
                          did_you_mean(value, self.choices) or self.hint)
        if self.check_fn is not None:
            message = self.check_fn(value)
            if message:
                raise Invalid(message, self.hint)
        return value

    def json_schema(self) -> dict[str, Any]:
        if self.choices is not None:
            return {"enum": list(self.choices)}
        # numbers are read as text (ids such as 1001)
        out: dict[str, Any] = {"type": ["string", "number"]}
        if self.non_empty:
            out["minLength"] = 1
        return out


class Bool(Kind):
    expected = "true or false"

    def convert(self, value: Any, ctx: Ctx, path: Path_) -> Any:
        if not isinstance(value, bool):
            raise Invalid(f"found {describe(value)}, expected true or false", bool_hint(value))
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


# Dates outside these years are typing mistakes (0024 for 2024, 9999 as "no date"), and far
# outside them period arithmetic stops meaning anything: refused in cvm.yaml and in the data.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)
DATE_RANGE = f"from {EARLIEST} to {LATEST}"


class Date(Kind):
    expected = "a date such as 2024-06-30"

    def convert(self, value: Any, ctx: Ctx, path: Path_) -> Any:
        if isinstance(value, dt.datetime):  # YAML's unquoted 2025-06-30 12:30 (quoted: refused)
            raise Invalid(f"found {describe(value)}, expected {self.expected}",
                          f"write the date alone: {value.date().isoformat()}")
        date = value if isinstance(value, dt.date) else None
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                date = iso_date(value)  # YYYY-MM-DD on every Python
        if date is None:
            raise Invalid(f"found {describe(value)}, expected {self.expected}", date_hint(value))
        if not EARLIEST <= date <= LATEST:
            raise Invalid(f"found {date}, expected a date {DATE_RANGE}", "check the year")
        return date

    def json_schema(self) -> dict[str, Any]:
        # YAML reads an unquoted 2024-06-30 as a date, which a JSON Schema sees as text
        return {"type": "string", "format": "date"}


@dataclass
class Optional(Kind):
    """``null`` is allowed and kept as None."""

    inner: Kind

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"{self.inner.expected} or null"

    def convert(self, value: Any, ctx: Ctx, path: Path_) -> Any:
        return None if value is None else self.inner.run(value, ctx, path)

    def json_schema(self) -> dict[str, Any]:
        inner = self.inner.json_schema()
        if "enum" in inner:
            return {**inner, "enum": [*inner["enum"], None]}
        if isinstance(inner.get("type"), (str, list)) and "$ref" not in inner:
            types = inner["type"] if isinstance(inner["type"], list) else [inner["type"]]
            return {**inner, "type": [*types, "null"]}
        return {"anyOf": [inner, {"type": "null"}]}


@dataclass
class ListOf(Kind):
    item: Kind
    min_items: int = 0
    # JSON Schema words for what the loader checks after this kind (e.g. uniqueItems)
    schema_extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"a list of {self.item.expected}"

    def convert(self, value: Any, ctx: Ctx, path: Path_) -> Any:
        if not isinstance(value, list):
            values = isinstance(self.item, (Text, Number)) and self.min_items <= 1
            raise Invalid(f"found {describe(value)}, expected {self.expected}",
                          hints.one_item_hint(value) if values else None)
        if len(value) < self.min_items:
            raise Invalid(f"found {len(value)} items, expected at least {self.min_items}")
        return [self.item.run(v, ctx, (*path, i)) for i, v in enumerate(value)]

    def json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "array", "items": self.item.json_schema()}
        if self.min_items:
            out["minItems"] = self.min_items
        return {**out, **self.schema_extra}


@dataclass
class MapOf(Kind):
    """A mapping with free keys (checked by ``key``) and values checked by ``value``."""

    key: Kind
    value: Kind
    # JSON Schema words for what the loader checks after this kind (e.g. minProperties)
    schema_extra: Mapping[str, Any] = field(default_factory=dict)

    expected = "a mapping"

    def convert(self, value: Any, ctx: Ctx, path: Path_) -> Any:
        if not isinstance(value, dict):
            raise Invalid(f"found {describe(value)}, expected a mapping")
        out = {}
        for k, v in value.items():
            sub = (*path, k)
            try:
                checked_key = self.key.convert(k, ctx, sub)
            except Invalid as exc:
                ctx.add(sub, f"key: {exc.message}", exc.hint, key=True)
                continue
            out[checked_key] = self.value.run(v, ctx, sub)
        return out

    def json_schema(self) -> dict[str, Any]:
        key = {k: v for k, v in self.key.json_schema().items() if k != "minLength"}
        return {"type": "object", **self.schema_extra, "propertyNames": key,
                "additionalProperties": self.value.json_schema()}


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    default: Any = MISSING  # MISSING: the key is required
    doc: str = ""  # the hint when the key is missing
    about: str = ""  # what the key means, for editors (the JSON Schema's description)


@dataclass
class Record(Kind):
    """A mapping with known keys; unknown keys are errors with a did-you-mean hint."""

    fields: Sequence[Field]
    what: str = "a mapping"
    # JSON Schema words for what the loader checks after this kind (e.g. anyOf required)
    schema_extra: Mapping[str, Any] = field(default_factory=dict)
    # keys users write here that belong in another file or place: key -> where they go
    elsewhere: Mapping[str, str] = field(default_factory=dict)

    @property
    def expected(self) -> str:  # type: ignore[override]
        return self.what

    def convert(self, value: Any, ctx: Ctx, path: Path_) -> Any:
        if not isinstance(value, dict):
            raise Invalid(f"found {describe(value)}, expected {self.what} with keys "
                          + ", ".join(f.name for f in self.fields))
        known = {f.name: f for f in self.fields}
        out: dict[str, Any] = {}
        for k in value:
            if k not in known:
                hint = self.elsewhere.get(str(k)) or did_you_mean(str(k), known) or \
                    "allowed keys: " + ", ".join(known)
                ctx.add((*path, k), f"unknown key {k!r}", hint, key=True)
        for f in self.fields:
            if f.name in value:
                out[f.name] = f.kind.run(value[f.name], ctx, (*path, f.name))
            elif f.default is MISSING:
                ctx.add(path, f"missing required key {f.name!r} ({f.kind.expected})",
                        f.doc or (f"add `{f.name}:` ({f.about})" if f.about else
                                  f"add `{f.name}:` with {f.kind.expected}"))
                out[f.name] = MISSING
            else:
                out[f.name] = f.default
        return out

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.default is MISSING]

    def json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "object", "additionalProperties": False}
        if self.required:
            out["required"] = self.required
        out.update(self.schema_extra)
        out["properties"] = {f.name: _field_schema(f) for f in self.fields}
        return out


def _field_schema(f: Field) -> dict[str, Any]:
    out = f.kind.json_schema()
    if f.about:
        out = {**out, "description": f.about}
    if f.default is not MISSING and f.default is not None:
        out = {**out, "default": f.default}
    return out


def _json_number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def empty_file(kind: Kind, file: str) -> Problem:  # or a file of comments only
    return Problem(f"the file is empty, expected {kind.expected}", file=file, hint=empty_file_hint(
        kind.expected, kind.required if isinstance(kind, Record) else []))


def check(doc: YamlDoc, kind: Kind, *, empty_ok: bool = False) -> Any:
    """Check a whole document against ``kind``; raise one InputError listing every problem."""
    if doc.data is None and not empty_ok:
        raise InputError(empty_file(kind, doc.file))
    value, problems = check_collect(doc, kind)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(errors)
    return value


def check_collect(doc: YamlDoc, kind: Kind) -> tuple[Any, list[Problem]]:
    """Like ``check`` but returns the problems instead of raising (for ``cvm validate``)."""
    ctx = Ctx(doc)
    value = kind.run({} if doc.data is None else doc.data, ctx, ())
    return value, ctx.problems

