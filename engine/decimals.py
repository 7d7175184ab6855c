"""The figures written, rounded as a person reads them: half up on their decimal value.

A float holds 17.115 as 17.11499999999999843...: numpy's ``round`` (to even, on the binary
value) wrote it 17.11, 63.295 as 63.29, 0.125 as 0.12, where a spreadsheet's ROUND and the
README's "money to cents, half up" give 17.12, 63.30 and 0.13 (a finance analyst's trial found
hundreds of such cents in the value table). Here a figure is scaled to its last place, and a
fraction of that place within a tolerance below one half counts as one half: the larger of
5e-7 of the place (the binary error of a sum of many rows) and 2^-47 of the figure (a few
units in the last bit of a large one), far below any figure's real precision. Then it is
rounded half away from zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

_ABSOLUTE = 5e-7  # of the last place: the binary error of a figure summed from many rows
_RELATIVE = 2.0 ** -47  # of the figure: a few units in the last bit of a large one


def round_half_up(values: ArrayLike, places: int) -> np.ndarray:
    """``values`` rounded to ``places`` decimals, a half away from zero, on their decimal value;
    NaN and infinities kept, never -0."""
    given = np.asarray(values, dtype=np.float64)
    x = given.reshape(-1)  # a single figure too (numpy returns scalars for 0-d arrays)
    scale = 10.0 ** places
    with np.errstate(invalid="ignore", over="ignore"):
        size = x * scale  # the figure in units of its last place, its sign aside
        np.abs(size, out=size)
        # beyond 2^52 units a float has no fraction left to round (and NaN, infinities, a
        # figure whose scaling overflows stay as they are)
        whole = None if np.max(size, initial=0.0) < 2.0 ** 52 else ~(size < 2.0 ** 52)
        out = np.floor(size)
        tolerance = size * _RELATIVE
        np.maximum(tolerance, _ABSOLUTE, out=tolerance)
        size -= out  # the fraction of the last place (exact below 2^52 units)
        size += tolerance
        out += size >= 0.5
        np.copysign(out, x, out=out)
        out /= scale
    if whole is not None:
        out[whole] = x[whole]
    out += 0.0  # -0.0 (a small negative rounded to nothing) is written 0
    return out.reshape(given.shape)


def round_series(series: pd.Series, places: int) -> pd.Series:
    """A column rounded as ``round_half_up`` rounds, its dtype (a nullable float's missing
    values included) kept."""
    values = round_half_up(series.to_numpy(dtype=np.float64, na_value=np.nan), places)
    if series.dtype == np.float64:
        return pd.Series(values, index=series.index, name=series.name)
    return pd.Series(values, index=series.index, name=series.name).astype(series.dtype)


def figure(value: float, places: int) -> float:
    """One figure rounded as ``round_half_up`` rounds."""
    return float(round_half_up(value, places))


def from_cents(value: float, places: int = 0) -> float:
    """A money figure shown to fewer places than the cent, rounded as its cents read: the
    files write money to the cent (52904.4999 is 52904.50), and a reader rounding that gets
    52,905 (rounding the figure itself gave 52,904)."""
    return figure(figure(value, 2), places)


def units(value: float) -> str:
    """A money figure to the unit, as text with thousands separators, rounded as its cents
    read (``from_cents``): 52904.4999 is 52,905."""
    return f"{from_cents(value):,.0f}"


def lowest_at(value: float, places: int) -> float:
    """The lowest figure of ``places`` decimals that is at least ``value`` (a tier's cut as
    the lowest written figure in the tier): ``value`` itself when it has no more decimals, up
    to the binary error ``round_half_up`` allows (1532.27 stays 1532.27; 1532.27000017 is
    1532.28)."""
    import math

    units = value * 10.0 ** places
    return math.ceil(units - max(_ABSOLUTE, abs(units) * _RELATIVE)) / 10.0 ** places


def fixed(value: float, places: int) -> str:
    """One figure as text, rounded half up, with thousands separators (1,234.57)."""
    return f"{figure(value, places):,.{places}f}"


def percent(share: float, places: int = 1) -> str:
    """A share as a percentage, rounded half up on its decimal value as the files and the
    briefs' ``pct`` are (0.1725 is 17.3%; Python's format wrote 17.2% from its binary
    value)."""
    return f"{figure(share * 100, places):.{places}f}%"
