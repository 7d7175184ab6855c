"""The guesses of ``cvm init --from`` made from a column's values when no column is named
like the field: the one date column, the only decimal column, repeating ids, Shopify's order
numbers. Each is (column, how sure, why), made a ``sniff.Guess`` by the caller."""

from __future__ import annotations

import re

from engine.workflow.sniff_names import name_score, not_money

Hit = tuple[str, str, str]  # the column, how sure ("high", "medium", "low"), why


def by_values(name: str, columns: dict[str, list[str]], kinds: dict[str, str],
              taken: set[str]) -> Hit | None:
    """A required field no column is named like: the first column whose values fit."""
    free = [c for c in columns if c not in taken]
    if name == "date":
        hits = [c for c in free if kinds[c] == "date"]
        return (hits[0], "medium", "its values are dates (the name says nothing)") \
            if hits else None
    if name == "amount":  # never a unit price, a tax, a share, a cost or a margin
        hits = [c for c in free if kinds[c] == "decimal" and not not_money(c)
                and not name_score("cost", c) and not name_score("margin", c)]
        return (hits[0], "low", "its values have decimals (the name says nothing)") \
            if len(hits) == 1 else None
    hits = [c for c in free if kinds[c] in ("text", "integer")  # ids repeat: customers buy
            # again; a few values in many rows are a type (Invoice, Credit Note), no ids
            and max(2, min(10, len(columns[c]) // 10)) <= len(set(columns[c])) < len(columns[c])]
    return (hits[0], "low", "its values repeat like customer ids (the name says "
            "nothing)") if hits else None


def order_numbers(columns: dict[str, list[str]], taken: set[str]) -> Hit | None:
    """A column of values all written #1001: Shopify's order numbers (its column Name)."""
    return next(((c, "medium", f"its values are order numbers ({f[0]!r})") for c, vs in
                 columns.items() if c not in taken and (f := [v.strip() for v in vs if v.strip()])
                 and all(re.fullmatch(r"#[0-9]+", v) for v in f)), None)
