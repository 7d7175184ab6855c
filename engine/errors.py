"""One error type for everything a user can fix, and the exit codes the CLI documents.

Every problem reads as a breadcrumb down to the bad value: file, line and column (or row),
the key path or column, what was found, what was expected, and a hint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Exit codes, documented in the README ("Exit codes").
EXIT_OK = 0
EXIT_INPUT = 1  # bad data, config, rules, policies or templates: the user must fix an input
EXIT_USAGE = 2  # bad command line (Typer/Click's own code for usage errors)
EXIT_OUTPUT = 3  # the output cannot be written
EXIT_INTERNAL = 4  # a bug in the engine


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or, with ``severity="warning"``, suspicious) in a user's input."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    key: str | None = None
    hint: str | None = None
    severity: str = "error"

    def location(self) -> str:
        parts = [self.file or ""]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def format(self) -> str:
        """The problem as printed: its control characters escaped (a file named with a
        terminal escape must not clear the screen or retitle the window); a line break in a
        file name or key escaped too, so the message and ``hint:`` lines stay as they are."""
        head = [printable(p, lines=False) for p in (self.location(), self.key) if p]
        text = ": ".join([*head, printable(self.message)])
        if self.hint:
            text += f"\n  hint: {printable(self.hint)}"
        return text


class CvmError(Exception):
    """An error in something the user gave us; the CLI prints it without a traceback."""

    exit_code = EXIT_INPUT

    def __init__(self, problems: Problem | Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = (
            (problems,) if isinstance(problems, Problem) else tuple(problems)
        )
        if not self.problems:
            raise ValueError("CvmError needs at least one problem")
        super().__init__(self.format())

    def format(self) -> str:
        return "\n".join(p.format() for p in self.problems)


class InputError(CvmError):
    """Bad data, configuration, rules, policies or templates."""


class UsageError(CvmError):
    """A bad command line (or API call): an option value or a combination that is not allowed."""

    exit_code = EXIT_USAGE


class OutputError(CvmError):
    """The output cannot be written (permissions, missing disk, a file where a folder should be)."""

    exit_code = EXIT_OUTPUT


CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 but tab and line break, DEL, C1
_CONTROL_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f]")


def printable(text: str, *, lines: bool = True) -> str:
    """``text`` with its control characters escaped as repr() writes them (``\\x1b``,
    ``\\r``): shown, never run by the terminal. ``lines``: keep tabs and line breaks."""
    return (CONTROL if lines else _CONTROL_OR_BREAK).sub(
        lambda m: repr(m.group())[1:-1], text)


def clip(value: object, limit: int = 60) -> str:
    """A found value as shown in a message: its repr, shortened when long (a damaged file can
    hold a value of megabytes, and a message must stay readable)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text) if isinstance(value, str) else text
    head = repr(text[: limit - 20]) if isinstance(value, str) else text[: limit - 20]
    return f"{head}... ({len(text):,} characters)"


def errors_only(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def did_you_mean(found: str, allowed: Iterable[str]) -> str | None:
    """A hint naming the closest allowed spelling, or None. Case is ignored in the
    comparison (WIN_BACK is close to win_back); the allowed spelling is named."""
    import difflib

    spelt = {a.casefold(): a for a in reversed(list(allowed))}  # the first of equal folds
    match = difflib.get_close_matches(found.casefold(), list(spelt), n=1, cutoff=0.6)
    return f"did you mean {spelt[match[0]]!r}?" if match else None


def in_file_order(problems: Sequence[Problem]) -> list[Problem]:
    """Each file's problems together, in the file's order (by line, then column; a problem of
    the whole file first), the files in the order their first problem was found: a check of
    one key may come after a check of a later one, or of another file. Every command prints
    its problems so (cvm validate and cvm run list the same errors alike)."""
    files: dict[str | None, list[tuple[float, int, Problem]]] = {}
    for p in problems:
        found = files.setdefault(p.file, [])
        # a problem without a line found after one with a line (a summary: "and 5 more")
        # stays after them
        after = p.line is None and any(q.line is not None for _, _, q in found)
        found.append((float("inf") if after else p.line or 0, p.column or 0, p))
    return [p for found in files.values()
            for _, _, p in sorted(found, key=lambda t: (t[0], t[1]))]
