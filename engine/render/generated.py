"""The Python that Jinja2 generates from a template's text, kept for the process.

Parsing a brief's template and generating its Python is four fifths of compiling it (17 of
21 ms for the bundled briefs). The generated Python is a function of the text, the template's
name and the environment's settings (the key holds every one that code generation reads), not
of the file it came from: the same text in another project folder (a copy of the project,
``cvm plan``'s proposal, a reload of ``cvm serve``, the tests' copies of the examples) reuses
it, and only Python's own compile runs, with that folder's file name.

Never kept: a text that does not parse (its error is raised every time); and a text whose
generation did work the sandbox counts (Jinja2 evaluates constant expressions while it
generates, ``{{ "x"|center(999999) }}``, through the sandbox's guarded filters): kept, a later
compile would skip that work and its count, so a template near a limit would pass or fail by
what the process compiled before, and the folded constant would be held in memory. At most
``KEPT`` texts and ``KEPT_CHARS`` characters of Python are kept, the least recently used
dropped first.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

import jinja2

KEPT = 64  # texts kept
KEPT_CHARS = 16_000_000  # characters of generated Python kept in all
_KEPT: OrderedDict[tuple[object, ...], str] = OrderedDict()
_LOCK = threading.Lock()


def settings(env: jinja2.Environment, name: str | None) -> tuple[object, ...]:
    """What code generation reads of ``env`` for a template called ``name``."""
    escape = env.autoescape(name) if callable(env.autoescape) else env.autoescape
    return (type(env), env.code_generator_class, env.block_start_string, env.block_end_string,
            env.variable_start_string, env.variable_end_string, env.comment_start_string,
            env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
            env.trim_blocks, env.lstrip_blocks, env.newline_sequence,
            env.keep_trailing_newline, env.is_async, env.optimized, env.finalize is not None,
            bool(escape), tuple(sorted(env.filters)), tuple(sorted(env.tests)),
            tuple(sorted(env.extensions)), getattr(env, "intercepted_binops", None),
            getattr(env, "intercepted_unops", None))


def python_of(env: jinja2.Environment, source: str, name: str | None, filename: str | None,
              defer_init: bool, work: Callable[[], object]) -> str:
    """The Python Jinja2 generates for ``source`` in ``env``; ``work``: the sandbox's counts
    of the work done (a generation that changes them is not kept)."""
    key = (settings(env, name), name, defer_init,
           hashlib.sha256(source.encode("utf-8", "surrogatepass")).digest())
    with _LOCK:
        code = _KEPT.get(key)
        if code is not None:
            _KEPT.move_to_end(key)
            return code
    before = work()
    code = env._generate(env._parse(source, name, filename), name, filename,
                         defer_init=defer_init)
    if work() != before or len(code) > KEPT_CHARS // 4:
        return code
    with _LOCK:
        _KEPT[key] = code
        while len(_KEPT) > KEPT or sum(map(len, _KEPT.values())) > KEPT_CHARS:
            _KEPT.popitem(last=False)
    return code
