"""``data.encoding`` and ``data.customers_encoding``: the text encoding of the data files (a
shop's export in cp1252 beside a CRM's customers file in UTF-8), checked when cvm.yaml is
read."""

from __future__ import annotations

import codecs

HINT = "e.g. utf-8, utf-8-sig, latin-1, cp1252, utf-16"


def encoding_problem(encoding: str) -> str | None:
    """What is wrong with ``encoding`` as a data file's encoding; None: nothing."""
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        return f"found {encoding!r}, expected the name of a text encoding"
    if not getattr(info, "_is_text_encoding", True):  # rot13, base64: not for files of text
        return f"found {encoding!r}, which is not a text encoding"
    return None
