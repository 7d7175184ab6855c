"""The limits of the template sandbox (``engine.render.sandbox``), and the checks that keep a
template within them *before* it builds a value: a template may not make a string of a
billion characters to find out that it is too long.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sized
from contextlib import contextmanager
from string import Formatter
from types import FrameType
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEscapeFormatter, SandboxedFormatter

MAX_STEPS = 1_000_000
MAX_SIZE = 1_000_000
MAX_OUTPUT = 20_000_000
MAX_INT_BITS = 4096
MAX_WIDTH = 10_000  # a field width or precision in a format string
# characters (or items) a render may build in all, every intermediate value counted: what
# bounds its memory (a list of a thousand texts of a million characters is a gigabyte)
MAX_BUILT = 50_000_000
# a run renders many briefs with one sandbox: their steps and output are bounded in all too
MAX_RUN_STEPS = 10_000_000
MAX_RUN_OUTPUT = 100_000_000
# filters whose work per character or item is far above a copy's (textwrap, regular
# expressions, comparisons in Python): charged this many steps per character or item of
# their input, before they run, so that one call cannot take seconds
COSTLY_FILTERS = frozenset({"wordwrap", "urlize", "title", "sort", "unique", "groupby",
                            "dictsort", "striptags"})
COSTLY_STEPS = 10
LIMITS_HINT = ("templates are limited so that no file can hang a run or exhaust memory "
               "(README \"Campaign briefs\"); loop over the documented lists only")


class TemplateLimit(Exception):
    """A template went past one of the limits above."""


class TemplateTooLarge(TemplateLimit):
    """A template file larger than MAX_TEMPLATE_BYTES: refused whatever the data."""


class TemplateNotText(Exception):
    """A template file that is not UTF-8 text; ``name``: the file under templates/."""

    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name


class TemplateOutside(Exception):
    """A template file that is a link to a file outside the project's templates/."""

    def __init__(self, message: str, hint: str = "a template reads only files inside "
                 "templates/: copy the file there instead of linking to it") -> None:
        super().__init__(message)
        self.hint = hint


_SPEC = re.compile(r"^(?:.?[<>=^])?[-+ ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?[a-zA-Z%]?$")
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


def check_spec(spec: str) -> None:
    found = _SPEC.match(spec)
    if found and any(g and int(g) > MAX_WIDTH for g in found.groups()):
        raise TemplateLimit(f"asks for a field width or precision above {MAX_WIDTH:,}")


def check_percent(text: str, args: Any) -> None:
    for spec in _PERCENT.finditer(text):
        for g in spec.groups():
            if g == "*":
                values = args if isinstance(args, tuple) else (args,)
                if any(isinstance(v, int) and abs(v) > MAX_WIDTH for v in values):
                    raise TemplateLimit(f"asks for a field width above {MAX_WIDTH:,}")
            elif g and int(g) > MAX_WIDTH:
                raise TemplateLimit(f"asks for a field width or precision above {MAX_WIDTH:,}")


class _WidthLimit(Formatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        check_spec(format_spec)
        check_printed(value)
        return super().format_field(value, format_spec)


class BoundedFormatter(_WidthLimit, SandboxedFormatter):
    pass


class BoundedEscapeFormatter(_WidthLimit, SandboxedEscapeFormatter):
    pass


def length(value: Any) -> int:
    return len(value) if isinstance(value, Sized) and not isinstance(value, jinja2.Undefined) \
        else 0


def too_large(what: str) -> TemplateLimit:
    return TemplateLimit(f"builds {what} longer than {MAX_SIZE:,} characters or items")


def printed(value: Any) -> int:
    """About how many characters ``str(value)`` has, counted without building it (a list of
    a million references to one long text is cheap to hold and enormous to print); stops
    counting once past MAX_SIZE."""
    total, todo = 0, [value]
    while todo and total <= MAX_SIZE:
        item = todo.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, Mapping):
            total += 2
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2
            todo.extend(item)
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 2
        else:
            total += 24
    return total


def check_printed(value: Any) -> None:
    if not isinstance(value, str) and printed(value) > MAX_SIZE:
        raise too_large("a text")


def check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if length(seq) and isinstance(times, int) and length(seq) * times > MAX_SIZE:
                raise too_large("a value")
        if isinstance(left, int) and isinstance(right, int) and \
                abs(left).bit_length() + abs(right).bit_length() > MAX_INT_BITS:
            raise TemplateLimit(f"computes a number of more than {MAX_INT_BITS:,} bits")
    elif operator == "**" and isinstance(left, int) and isinstance(right, int) and \
            right > 0 and abs(left) > 1 and right * abs(left).bit_length() > MAX_INT_BITS:
        raise TemplateLimit(f"computes a number of more than {MAX_INT_BITS:,} bits")
    elif operator == "%" and isinstance(left, str):
        check_percent(left, right)
        check_printed(right)


def _padding(value: Any, width: Any) -> None:
    if isinstance(width, int) and width > MAX_SIZE:
        raise too_large("a padded value")


def _joined(items: Any, sep: Any = "") -> None:
    if length(sep) * length(items) + printed(items) > MAX_SIZE:
        raise too_large("a joined value")


def _replaced(text: Any, old: Any, new: Any, *rest: Any) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str) and old and \
            len(text) + text.count(old) * len(new) > MAX_SIZE:
        raise too_large("a replaced value")


def _expanded(text: Any, tabsize: Any = 8) -> None:
    if isinstance(text, str) and isinstance(tabsize, int) and \
            len(text) + text.count("\t") * tabsize > MAX_SIZE:
        raise too_large("an expanded value")


def _indented(text: Any, width: Any = 4, *rest: Any, **kw: Any) -> None:
    lines = text.count("\n") + 1 if isinstance(text, str) else 1
    if length(width) * lines > MAX_SIZE or (isinstance(width, int) and width * lines > MAX_SIZE):
        raise too_large("an indented value")


def _counted(value: Any, count: Any = 0, *rest: Any, **kw: Any) -> None:
    if isinstance(count, int) and count > MAX_SIZE:
        raise too_large("a list")


def _formatted(text: Any, *args: Any, **kwargs: Any) -> None:
    if isinstance(text, str):
        check_percent(text, tuple(args) or kwargs)
        check_printed(args)
        check_printed(kwargs)


def _json(value: Any, indent: Any = None) -> None:
    if isinstance(indent, int) and indent > MAX_WIDTH:
        raise TemplateLimit(f"asks for an indent above {MAX_WIDTH:,}")


# checks run before a filter or a str method builds its result: (value, *args, **kwargs)
FILTER_CHECKS: dict[str, Callable[..., None]] = {
    "center": _padding, "indent": _indented, "join": lambda v, d="", *a: _joined(v, d),
    "replace": _replaced, "batch": _counted, "slice": _counted, "tojson": _json,
    "format": _formatted,
}
# filters that do not turn their value into text (the others are refused a value whose text
# would be too long before they build it)
NOT_PRINTING = frozenset({
    "length", "count", "list", "first", "last", "sort", "reverse", "unique", "map", "select",
    "reject", "selectattr", "rejectattr", "groupby", "dictsort", "batch", "slice", "sum",
    "min", "max", "attr", "default", "d", "int", "float", "abs", "round", "items", "random",
    "join"})
METHOD_CHECKS: dict[str, Callable[..., None]] = {
    "center": _padding, "ljust": _padding, "rjust": _padding, "zfill": _padding,
    "join": lambda sep, items=(): _joined(items, sep), "replace": _replaced,
    "format": lambda text, *a, **k: None,  # bounded by the formatter, field by field
    "expandtabs": _expanded,
}


# Python frames a template may stack up (about 60 levels of includes or macro calls): a template
# including itself without end stops there, where Python's own limit of 1,000 frames took
# seconds (each output string passes up through every level: the work grows as the square of
# the depth; 7.9 s for the bundled brief including itself)
TEMPLATE_FRAMES = 400


_FRAMES_LOCK = threading.Lock()
_rendering = [0, 0]  # renders under way, and the limit before the first of them


@contextmanager
def shallow_recursion() -> Iterator[None]:
    """Python's recursion limit lowered to ``TEMPLATE_FRAMES`` above the caller while a
    template renders (the limit is the process's: renders in several threads share one
    lowering, and the first limit comes back when the last ends)."""
    depth = 0
    frame: FrameType | None = sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    with _FRAMES_LOCK:
        if _rendering[0] == 0:
            _rendering[1] = sys.getrecursionlimit()
        _rendering[0] += 1
        sys.setrecursionlimit(min(_rendering[1], depth + TEMPLATE_FRAMES))
    try:
        yield
    finally:
        with _FRAMES_LOCK:
            _rendering[0] -= 1
            if _rendering[0] == 0:
                sys.setrecursionlimit(_rendering[1])
