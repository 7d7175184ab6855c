"""How a test compares a figure of the value table with one worked out by hand: the table
shows money to the cent and other decimals to 6 places, and the tiers, stages and policies
read it so (engine.value.formulas.as_shown); a total of parts each rounded may be a cent off
the rounded exact total."""

from __future__ import annotations

from typing import Any

import pytest

from engine.value.formulas import MONEY


def shown(value: float, column: str | None = None) -> Any:
    """``value`` as the table shows ``column`` (None: money), for ``==``."""
    money = column is None or column in MONEY
    return pytest.approx(value, abs=0.0100001 if money else 5.1e-7)
