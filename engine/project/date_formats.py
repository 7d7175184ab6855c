"""Date formats of cvm.yaml (``data.date_format``, ``data.customers_date_format``): strptime
formats, and what a format written as people write it ('dd/mm/yyyy') is in strptime's terms."""

from __future__ import annotations

import re


def check_format(value: str) -> str | None:
    if "%" not in value:
        said = _as_strptime(value)
        return (f"found {value!r}, expected a strptime format such as '%Y-%m-%d' or "
                "'%d/%m/%Y'" + (f" ({value} is written {said!r})" if said else ""))
    return None


def _as_strptime(value: str) -> str | None:
    """'dd/mm/yyyy' as strptime writes it ('%d/%m/%Y'), for dates made of day, month and year
    (None for anything else)."""
    parts = re.split(r"([^A-Za-z]+)", value)
    codes = {"dd": "%d", "d": "%d", "mm": "%m", "m": "%m", "yyyy": "%Y", "yy": "%y"}
    words = [p for i, p in enumerate(parts) if i % 2 == 0]
    if len(words) != 3 or {w.lower() for w in words} - set(codes) or \
            len({codes[w.lower()][1].lower() for w in words}) != 3:
        return None
    return "".join(codes[p.lower()] if i % 2 == 0 else p for i, p in enumerate(parts))
