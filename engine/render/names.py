"""The names a template's context offers, for a misspelt one's "did you mean" (a brief's or
the report's template: ``budgt``, ``k.nme``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engine.errors import did_you_mean

README_HINT = "see the README for the variables a template gets"
_UNDEFINED = re.compile(r"^'([^']+)' is undefined$")
_NO_ELEMENT = re.compile(r"^list object has no element (-?\d+)$")
_EMPTY = re.compile(r"^No (first|last) item, sequence was empty\.$")  # |first, |last
_NO_ATTRIBUTE = re.compile(r"^'([^']+)' has no attribute '([^']+)'$")
_DEPTH, _ITEMS = 4, 20  # how far the context is looked into: its fields, not its data


def undefined_hint(message: str, context: Mapping[str, Any], line: str = "") -> str:
    """The hint of a name the context does not have: the closest of its names (top-level
    for a variable; for an attribute, the fields of the object the template ``line`` names,
    ``budget.usd``, else any field's: a loop variable's), then where they are documented."""
    if found := _NO_ELEMENT.match(message):  # an index past a list's end: the data's length
        if (expr := _indexed(line, found.group(1))) is None:  # two lists, or an index in a
            return ("a list can be shorter, or empty, for some campaign: loop over it or "  # name
                    "test its length first")
        return (f"{expr} can be shorter, or empty, for some campaign: loop over it ({{% for "
                f"item in {expr} %}}) or test its length first ({{% if {expr}|length > "
                f"{found.group(1)} %}})")
    if _EMPTY.match(message):
        return "a list can be empty for some campaign: test it first ({% if ... %})"
    if found := _UNDEFINED.match(message):
        close = did_you_mean(found.group(1), [str(k) for k in context])
    elif (found := _NO_ATTRIBUTE.match(message)) and found.group(1) == "dict object":
        name = found.group(2)  # a text, list or number has no fields to suggest
        owner = _owner(context, line, name)
        close = did_you_mean(name, sorted(str(k) for k in owner) if owner is not None
                             else sorted(_fields(context, _DEPTH)))
    else:
        close = None
    return README_HINT if close is None else f"{close} ({README_HINT})"


def _owner(context: Mapping[str, Any], line: str, name: str) -> Mapping[str, Any] | None:
    """The mapping ``a.b`` names in ``a.b.name`` on the template's line that lacks ``name``
    (the one that failed: ``run.currency`` beside ``budget.currency``), if the context has it
    (None: not found, or a loop's variable)."""
    for found in re.finditer(r"([A-Za-z_][\w.]*)\." + re.escape(name) + r"\b", line):
        value: Any = context
        for part in found.group(1).split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, Mapping) and name not in value:
            return value
    return None


def source_line(loader: Any, env: Any, file: str | None, line: int | None) -> str:
    """Line ``line`` of the template ``file`` as the loader reads it ("" if it cannot)."""
    if file is None or line is None:
        return ""
    try:
        lines = str(loader.get_source(env, file)[0]).splitlines()
    except Exception:  # the hint is a courtesy: the error is said without it
        return ""
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _fields(value: Any, depth: int) -> set[str]:
    """The keys of the mappings within ``value`` (in lists too), ``depth`` levels down."""
    if depth == 0:
        return set()
    if isinstance(value, Mapping):
        out = {str(k) for k in value}
        for item in list(value.values())[:_ITEMS * 5]:
            out |= _fields(item, depth - 1)
        return out
    if isinstance(value, list | tuple):
        out = set()
        for item in value[:_ITEMS]:
            out |= _fields(item, depth - 1)
        return out
    return set()


_KINDS = {"dict": "", "str": "a text", "list": "a list", "int": "a number", "float": "a number",
          "bool": "a flag", "None": "missing (None) here"}
_PYTHON_WORDS = re.compile(r"^'(dict|str|list|int|float|bool) object' has no attribute '([^']+)'$"
                           r"|^'(None)' has no attribute '([^']+)'$")


def plain_message(message: str, line: str = "") -> str:
    """Jinja2's Python words for a missing field (``'dict object' has no attribute 'nmae'``)
    in the template's: the expression on the template's ``line`` that asked for it and what
    it is (``campaign.nmae: campaign has no field 'nmae'``; ``k.nme: k is a text, with no field
    'nme'``); any other message as it is."""
    if (index := _NO_ELEMENT.match(message)) and (expr := _indexed(line, index.group(1))):
        return f"{expr}[{index.group(1)}]: {expr} has no element {index.group(1)} here"
    found = _PYTHON_WORDS.match(message)
    if found is None:
        return message
    kind, name = (found.group(1), found.group(2)) if found.group(1) else \
        (found.group(3), found.group(4))
    owner = re.search(r"([A-Za-z_][\w.]*)\." + re.escape(name) + r"\b", line)
    what = _KINDS[kind]
    if owner is None:
        return f"no field {name!r} here" + (f": the value is {what}" if what else "")
    expr, of = f"{owner.group(1)}.{name}", owner.group(1)
    if kind == "None":
        return f"{expr}: {of} is missing (None) here, with no field {name!r}"
    return f"{expr}: {of} " + (f"is {what}, with no field {name!r}" if what
                               else f"has no field {name!r}")


def _indexed(line: str, index: str) -> str | None:
    """The expression the template's ``line`` indexes with ``index`` (``examples`` in
    ``examples[4].customer_id``), if it is there once."""
    found = re.findall(r"([A-Za-z_][\w.]*)\[\s*" + re.escape(index) + r"\s*\]", line)
    return found[0] if len(set(found)) == 1 else None
