"""Reading one file of rules/ or policies/: YAML checked against its record, and ids.

Shared by ``engine.project.rulebook`` and ``engine.project.segments``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from engine.errors import InputError, Problem, errors_only
from engine.project import checks as c
from engine.project.yamlio import Path_, YamlDoc, load_file

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


MAX_ID = 100  # characters: a campaign's id names its briefs' files (255 bytes at most)


def _id_check(value: str) -> str | None:
    if not _ID.match(value):
        return f"found {value!r}, expected letters, digits, _ or -, starting with a letter"
    if len(value) > MAX_ID:  # a new user's trial: `File name too long` at run, blaming output:
        return (f"found an id of {len(value):,} characters, expected at most {MAX_ID} (a "
                "campaign's id names its briefs' files)")
    return None


def is_id(value: str) -> bool:
    """Whether ``value`` is a good id (letters, digits, _ or -, starting with a letter)."""
    return _id_check(value) is None


class Raw(c.Kind):
    """Any value, checked later (conditions need their own parser)."""

    expected = "a condition"

    def convert(self, value: Any, ctx: c.Ctx, path: Path_) -> Any:
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"$ref": "#/$defs/when"}  # engine.project.json_schemas: the condition language


class Id(c.Text):
    """An id; YAML turns unquoted yes/no/on/off into booleans, which deserves a hint."""

    def convert(self, value: Any, ctx: c.Ctx, path: Path_) -> Any:
        if isinstance(value, bool):
            raise c.Invalid(f"found {c.describe(value)}, expected text", "YAML reads yes, no, "
                            "on, off, true and false as true or false: put it in quotes")
        return super().convert(value, ctx, path)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": _ID.pattern, "maxLength": MAX_ID}


ID = Id(check_fn=_id_check)


def read(path: Path, project: Path, kind: c.Kind, problems: list[Problem], *,
         keep_doc: bool = False) -> tuple[YamlDoc | None, Any]:
    """The file's document and checked value, or (None, None) after adding its problems;
    ``keep_doc``: the document all the same when only its keys or values are wrong (None as
    the value), for the parts the check leaves to the caller (a policy's conditions)."""
    display = path.relative_to(project).as_posix()
    try:
        doc = load_file(path, display=display, inside=project)
    except InputError as exc:
        problems.extend(exc.problems)
        return None, None
    if doc.data is None:
        problems.append(c.empty_file(kind, display))
        return None, None
    value, found = c.check_collect(doc, kind)
    problems.extend(found)
    if errors_only(found):
        return (doc if keep_doc else None), None
    return doc, value
