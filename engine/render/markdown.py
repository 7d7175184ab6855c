"""Escaping text for Markdown: a value from the data (a customer id, an offer, a policy's
description) must read as itself in a Markdown file, never as markup. A customer id such as
``<script>`` would otherwise be raw HTML in every Markdown viewer, ``|`` would break a table
and ``**`` or ``[x](javascript:...)`` would become emphasis or a link.
"""

from __future__ import annotations

import re

# Backslash-escaped everywhere (CommonMark lets any ASCII punctuation be escaped): markup
# characters, the table separator, HTML's < > and entity &.
_INLINE = re.compile(r"([\\`*\[\]<>|&~])")
# '_' is emphasis only at a word boundary: snake_case ids are left as they are
_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
# a heading, list item or rule when the value starts a line (a marker and then a space or
# the end: -5 or 3.14 are left alone); '>' is escaped everywhere already
_BLOCK = re.compile(r"^(\s*)([#+=-]|\d+(?=[.)]))(?=[.)]?(\s|$))")


# a character the passes below but the last would change: without one, and without a block
# marker at its start, the text is its own escape (most of a brief's values: names, figures)
_ANY = re.compile(r"[\\`*\[\]<>|&~_\n\r]")


def escape_markdown(text: str) -> str:
    """``text`` so that Markdown shows it literally, on one line."""
    if _ANY.search(text) is None and _BLOCK.match(text) is None:
        return text
    text = " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text
    text = _INLINE.sub(r"\\\1", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    return _BLOCK.sub(lambda m: m.group(1) + "\\" + m.group(2) if not m.group(2).isdigit()
                      else m.group(1) + m.group(2) + "\\", text, count=1)
