"""The figures written, rounded as a person reads them: half up on their decimal value.

A float holds 17.115 as 17.11499999999999843...: numpy's ``round`` (to even, on the binary
value) wrote it 17.11, 63.295 as 63.29, 0.125 as 0.12, where a spreadsheet's ROUND and the
README's "money to cents, half up" give 17.12, 63.30 and 0.13 (a finance analyst's trial found
hundreds of such cents in the value table). Here a figure is scaled to its last place and
snapped to six decimals of that place, so that a binary error far below the place (1e-8 of a
cent) does not decide the rounding, then rounded half away from zero. Beyond 2^31 units of the
last place (21 million at cents) a float's own spacing is too coarse to snap: such a figure
is rounded as it is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

_SNAP = 6  # decimals of the last place a figure is snapped to before rounding
_LIMIT = float(2 ** 31)  # units of the last place beyond which no snap is meaningful


def round_half_up(values: ArrayLike, places: int) -> np.ndarray:
    """``values`` rounded to ``places`` decimals, a half away from zero, on their decimal value;
    NaN and infinities kept, never -0."""
    given = np.asarray(values, dtype=np.float64)
    x = given.reshape(-1)  # a single figure too (numpy returns scalars for 0-d arrays)
    scale = 10.0 ** places
    size = np.abs(x * scale)  # the figure in units of its last place, its sign aside
    with np.errstate(invalid="ignore"):
        out = np.round(size, _SNAP)
        if not (np.nanmax(size, initial=0.0) < _LIMIT):  # a huge figure (or an infinity)
            np.copyto(out, size, where=~(size < _LIMIT))
        out += 0.5
        np.floor(out, out=out)
        np.copysign(out, x, out=out)
    out /= scale
    out += 0.0  # -0.0 (a small negative rounded to nothing) is written 0
    return out.reshape(given.shape)


def round_series(series: pd.Series, places: int) -> pd.Series:
    """A column rounded as ``round_half_up`` rounds, its dtype (a nullable float's missing
    values included) kept."""
    values = round_half_up(series.to_numpy(dtype=np.float64, na_value=np.nan), places)
    if series.dtype == np.float64:
        return pd.Series(values, index=series.index, name=series.name)
    return pd.Series(values, index=series.index, name=series.name).astype(series.dtype)
