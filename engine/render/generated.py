"""The Python that Jinja2 generates from a template's text, kept for the process.

Parsing a brief's template and generating its Python is four fifths of compiling it (17 of
21 ms for the bundled briefs). The generated Python is a function of the text, the template's
name and the environment's settings alone, not of the file it came from: the same text in
another project folder (a copy of the project, ``cvm plan``'s proposal, a reload of
``cvm serve``, the tests' copies of the examples) reuses it, and only Python's own compile
runs, with that folder's file name, so that an error still names its own file. A text that
does not parse is never kept: its error is raised, with its own file, every time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import jinja2

KEPT = 64  # texts kept (the last used)
_KEPT: OrderedDict[tuple[object, ...], str] = OrderedDict()
_LOCK = threading.Lock()


def python_of(env: jinja2.Environment, source: str, name: str | None, filename: str | None,
              defer_init: bool) -> str:
    """The Python Jinja2 generates for ``source`` in ``env`` (parsed and generated once per
    text, name and settings)."""
    key = (type(env), env.trim_blocks, env.lstrip_blocks, env.keep_trailing_newline,
           env.newline_sequence, name, defer_init, source)
    with _LOCK:
        code = _KEPT.get(key)
        if code is not None:
            _KEPT.move_to_end(key)
            return code
    code = env._generate(env._parse(source, name, filename), name, filename,
                         defer_init=defer_init)
    with _LOCK:
        _KEPT[key] = code
        while len(_KEPT) > KEPT:
            _KEPT.popitem(last=False)
    return code
