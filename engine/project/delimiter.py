"""``data.delimiter`` and ``data.customers_delimiter``: one character between a CSV file's
columns, ``'\\t'`` for a tab, or ``whitespace`` (runs of spaces and tabs)."""

from __future__ import annotations

HINT = "e.g. ',' or ';' or '\\t' (a tab), or 'whitespace'"


def delimiter_problem(delimiter: str) -> str | None:
    """What is wrong with a delimiter as written in cvm.yaml, or None."""
    if delimiter in ("whitespace", "\\t"):
        return None
    if len(delimiter) != 1:
        return (f"found {delimiter!r} ({len(delimiter)} characters), expected one character "
                "or 'whitespace'")
    why = ("quotes and line breaks have their own meaning in CSV" if delimiter in ('"', "\n", "\r")
           else "letters and digits are part of the values" if delimiter.isalnum() else None)
    return None if why is None else f"found {delimiter!r}, which cannot separate columns ({why})"


def as_delimiter(written: str) -> str:
    """The delimiter a reader takes: ``'\\t'`` as written in YAML is a tab."""
    return "\t" if written == "\\t" else written
