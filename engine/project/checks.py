"""Declarative checks for YAML files: a schema is data, one call checks it and fills defaults.

A schema is a tree of ``Kind`` objects. ``check(doc, kind)`` walks the parsed document,
collects every problem (with file, line, column and key path) and returns the value with
defaults filled in. Unknown keys are errors with a "did you mean" hint: a misspelt key that
were silently ignored would change a decision without anyone noticing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.errors import InputError, Problem, clip, did_you_mean
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

    @property
    def expected(self) -> str:  # type: ignore[override]
        noun = "a whole number" if self.integer else "a number"
        if self.min is not None and self.max is not None:
            return f"{noun} from {self.min:g} to {self.max:g}"
        if self.min is not None:
            return f"{noun} {'above' if self.min_exclusive else 'of at least'} {self.min:g}"
        return noun

    def convert(self, value: Any, ctx: Ctx, path: Path_) -> Any:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and self.integer and not float(value).is_integer():
            ok = False
        if not ok or not math.isfinite(float(value)):
            raise Invalid(f"found {describe(value)}, expected {self.expected}")
        if abs(value) >= MAX_NUMBER:  # beyond what the engine's arrays and rules can hold
            raise Invalid(f"found {value!r}, expected {self.expected} below 10^15 in size")
        too_low = self.min is not None and (
            value <= self.min if self.min_exclusive else value < self.min
        )
        if too_low or (self.max is not None and value > self.max):
            raise Invalid(f"found {value!r}, expected {self.expected}",
                          "rates are fractions: write 0.1 for 10%" if self.max == 1 else None)
        return int(value) if self.integer else float(value)


@dataclass
class Text(Kind):
    choices: Sequence[str] | None = None
    non_empty: bool = True
    check_fn: Callable[[str], str | None] | None = None  # returns an error message or None

    @property
    def expected(self) -> str:  # type: ignore[override]
        if self.choices:
            return "one of " + ", ".join(self.choices)
        return "text"

    def convert(self, value: Any, ctx: Ctx, path: Path_) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not self.choices:
            value = str(value)  # ids such as 1001 are fine as text
        if not isinstance(value, str):
            raise Invalid(f"found {describe(value)}, expected {self.expected}")
        if self.non_empty and not value.strip():
            raise Invalid(f"found an empty value, expected {self.expected}")
        if self.choices is not None and value not in self.choices:
            raise Invalid(f"found {value!r}, expected {self.expected}",
                          did_you_mean(value, self.choices))
        if self.check_fn is not None:
            message = self.check_fn(value)
            if message:
                raise Invalid(message)
        return value


class Bool(Kind):
    expected = "true or false"

    def convert(self, value: Any, ctx: Ctx, path: Path_) -> Any:
        if not isinstance(value, bool):
            raise Invalid(f"found {describe(value)}, expected true or false")
        return value


# Dates outside these years are typing mistakes (0024 for 2024, 9999 as "no date"), and far
# outside them period arithmetic stops meaning anything: refused in cvm.yaml and in the data.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)
DATE_RANGE = f"from {EARLIEST} to {LATEST}"


class Date(Kind):
    expected = "a date such as 2024-06-30"

    def convert(self, value: Any, ctx: Ctx, path: Path_) -> Any:
        date = None
        if isinstance(value, dt.datetime):
            date = value.date()
        elif isinstance(value, dt.date):
            date = value
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                date = dt.date.fromisoformat(value)
        if date is None:
            raise Invalid(f"found {describe(value)}, expected {self.expected}")
        if not EARLIEST <= date <= LATEST:
            raise Invalid(f"found {date}, expected a date {DATE_RANGE}", "check the year")
        return date


@dataclass
class Optional(Kind):
    """``null`` is allowed and kept as None."""

    inner: Kind

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"{self.inner.expected} or null"

    def convert(self, value: Any, ctx: Ctx, path: Path_) -> Any:
        return None if value is None else self.inner.run(value, ctx, path)


@dataclass
class ListOf(Kind):
    item: Kind
    min_items: int = 0

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"a list of {self.item.expected}"

    def convert(self, value: Any, ctx: Ctx, path: Path_) -> Any:
        if not isinstance(value, list):
            raise Invalid(f"found {describe(value)}, expected {self.expected}")
        if len(value) < self.min_items:
            raise Invalid(f"found {len(value)} items, expected at least {self.min_items}")
        return [self.item.run(v, ctx, (*path, i)) for i, v in enumerate(value)]


@dataclass
class MapOf(Kind):
    """A mapping with free keys (checked by ``key``) and values checked by ``value``."""

    key: Kind
    value: Kind

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


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    default: Any = MISSING  # MISSING: the key is required
    doc: str = ""


@dataclass
class Record(Kind):
    """A mapping with known keys; unknown keys are errors with a did-you-mean hint."""

    fields: Sequence[Field]
    what: str = "a mapping"

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
                hint = did_you_mean(str(k), known) or "allowed keys: " + ", ".join(known)
                ctx.add((*path, k), f"unknown key {k!r}", hint, key=True)
        for f in self.fields:
            if f.name in value:
                out[f.name] = f.kind.run(value[f.name], ctx, (*path, f.name))
            elif f.default is MISSING:
                ctx.add(path, f"missing required key {f.name!r} ({f.kind.expected})",
                        f.doc or None)
                out[f.name] = MISSING
            else:
                out[f.name] = f.default
        return out


def check(doc: YamlDoc, kind: Kind, *, empty_ok: bool = False) -> Any:
    """Check a whole document against ``kind``; raise one InputError listing every problem."""
    if doc.data is None and not empty_ok:
        raise InputError(Problem(f"the file is empty, expected {kind.expected}", file=doc.file))
    ctx = Ctx(doc)
    value = kind.run({} if doc.data is None else doc.data, ctx, ())
    errors = [p for p in ctx.problems if p.severity == "error"]
    if errors:
        raise InputError(errors)
    return value


def check_collect(doc: YamlDoc, kind: Kind) -> tuple[Any, list[Problem]]:
    """Like ``check`` but returns the problems instead of raising (for ``cvm validate``)."""
    ctx = Ctx(doc)
    value = kind.run({} if doc.data is None else doc.data, ctx, ())
    return value, ctx.problems

