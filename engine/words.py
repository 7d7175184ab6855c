"""Counts in the messages' words: "1 customer", "2,000 customers" (a one-customer file is a
new user's first try, and "1 customers" reads as a bug)."""

from __future__ import annotations


def counted(n: float, noun: str, plural: str | None = None) -> str:
    """``n`` with thousands separators and ``noun`` in its number: ``counted(1, "customer")``
    is "1 customer", ``counted(2000, "customer")`` "2,000 customers"."""
    shown = f"{n:,.0f}"
    return f"{shown} {noun if shown == '1' else plural or noun + 's'}"


def listed(items: list[str] | tuple[str, ...], last: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c`` (``last``: the word before the last item)."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {last} " + items[-1]
