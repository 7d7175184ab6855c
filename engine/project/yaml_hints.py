"""What a YAML syntax error's lines tell of its cause: a key or a list item indented a space
or two off its neighbours, a value starting with a character YAML reserves."""

from __future__ import annotations

import re

from engine.words import counted


def misaligned(text: str, line: int | None) -> str | None:
    """The error's line and the key line before it at different indents, where that one
    opens no block of its own (the keys of one mapping line up): what they are."""
    lines = text.splitlines()
    if line is None or not 1 < line <= len(lines):
        return None
    here = lines[line - 1]
    # the key line before it (a folded text's lines, a comment or a list item are not keys)
    before = next((n for n in range(line - 1, 0, -1)
                   if re.match(r"\s*[\w-]+:", lines[n - 1])), None)
    if before is None or not re.match(r"\s*[\w-]+:", here):
        return None
    above = lines[before - 1]
    opens = above.split(" #")[0].rstrip().endswith(":")  # its keys go deeper
    indent = len(here) - len(here.lstrip(" "))
    other = len(above) - len(above.lstrip(" "))
    if opens or indent == other:
        return None
    return (f"line {line} is indented {counted(indent, 'space')}, line {before} "
            f"{counted(other, 'space')}: the keys of one mapping line up")


def misaligned_item(text: str, line: int | None) -> str | None:
    """The error's line a list item ("- ...") a space or two off the list item above it
    (lines deeper than both, an item's own block, skipped): what they are."""
    lines = text.splitlines()
    if line is None or not 1 < line <= len(lines):
        return None
    here = lines[line - 1]
    if not re.match(r"\s*- ", here):
        return None
    indent = len(here) - len(here.lstrip(" "))
    for n in range(line - 1, 0, -1):
        above = lines[n - 1]
        if not above.strip() or above.lstrip().startswith("#"):
            continue
        other = len(above) - len(above.lstrip(" "))
        if other > indent + 2 or (other > indent and not above.lstrip().startswith("- ")):
            continue  # deeper: the block of an item above
        opens = above.split(" #")[0].rstrip().endswith(":")  # "- any:": its block deeper
        if not above.lstrip().startswith("- ") or other == indent or abs(other - indent) > 2 \
                or (opens and indent > other):
            return None
        return (f"line {line} is indented {counted(indent, 'space')}, line {n} "
                f"{counted(other, 'space')}: the items of one list line up")
    return None


def unquotable(text: str, line: int | None, column: int | None) -> str | None:
    """The value at the error, quoted, when it starts with a character YAML reserves (%, @,
    `): the value as it must be written."""
    lines = text.splitlines()
    if line is None or column is None or not 0 < line <= len(lines):
        return None
    value = re.split(r" #|[,\]}]", lines[line - 1][column - 1:])[0].strip()  # [@a, b]: @a
    return f'"{value}"' if value[:1] in ("%", "@", "`") and '"' not in value else None
