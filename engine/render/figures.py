"""How the templates' filters write a figure (engine.render.sandbox: ``money``, ``pct``,
``num``)."""

from __future__ import annotations

import math
from typing import Any

NO_FIGURE = "n/a"  # a figure that has none: a share of a budget of 0, a return on no spend


def none(value: Any) -> bool:
    """No figure: None, or a float that is not a number."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def price(value: float) -> str:
    """A price per unit: two decimals, or up to four when it has fractions of a cent (a
    contact may cost 0.005: '0.01' read as 13 x 0.01 = 0.13 for 0.07)."""
    text = f"{value:,.4f}"
    return text[:-2] if text.endswith("00") else text.rstrip("0")


class Price(float):
    """A price per unit (a channel's cost per contact), which ``money`` shows with its
    fractions of a cent: every brief template, the project's own too, gets it right without
    a change."""
