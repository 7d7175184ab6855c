"""The verdict of a measured campaign and how its interval is shown (README "Measuring
campaigns: `cvm measure`"): shared by measure.csv, the terminal table and the report.

"Too early to tell" says every reason that applies (the window not over: both dates; a group
under MIN_GROUP customers: the minimum detectable effect, or why there is none: a group too
small for a variance, or margins that do not vary, as in a window with no transaction yet),
and while it is too early ``significant`` is not judged (None: empty in measure.csv). A group
of fewer than two customers has no sample variance, so there is no interval and no minimum
detectable effect: that is said in words, never as nan.
"""

from __future__ import annotations

import datetime as dt
import math

from engine.data.load import EPOCH
from engine.history.uplift import MIN_GROUP, Uplift


def no_variance(treated: int, holdout: int) -> str | None:
    """Why a group has no variance (so no interval), or None when both groups have one:
    each group that has none (a trial read only the holdout's 1 customer where the treated
    group was empty too)."""
    said = [f"{name} is empty" if n == 0 else f"{name} has 1 customer, too few for a variance"
            for name, n in (("the treated group", treated), ("the holdout", holdout)) if n < 2]
    return " and ".join(said) or None


def judge(margin: Uplift, treated: int, holdout: int, day0: int, days: int,
          end_day: int) -> tuple[str, bool | None]:
    """The verdict and ``significant`` (None while too early to tell). ``day0``: the run's
    as-of day, ``end_day``: the day after the last transaction (days since EPOCH)."""
    reasons = []
    if day0 + days > end_day:
        reasons.append(f"the window ends {EPOCH + dt.timedelta(days=day0 + days - 1)}, the "
                       f"transactions {EPOCH + dt.timedelta(days=end_day - 1)}")
    if treated < MIN_GROUP or holdout < MIN_GROUP:
        why = no_variance(treated, holdout)
        if why is None and not margin.mde > 0:  # zero (or nan): an effect of 0 is no answer
            why = "no margin varies in either group"
        effect = f"no minimum detectable effect: {why}" if why else \
            f"minimum detectable effect {margin.mde:,.2f} per customer"
        reasons.append(f"fewer than {MIN_GROUP} customers in a group ({effect})")
    elif not (math.isfinite(margin.low) and math.isfinite(margin.high)):
        why = no_variance(treated, holdout) or "no margin varies in either group"
        reasons.append(f"no minimum detectable effect: {why}")
    if reasons:
        return "too early to tell: " + "; ".join(reasons), None
    return ("significant", True) if margin.significant else ("not significant", False)


def interval_text(uplift: float | None, low: float | None, high: float | None, treated: int,
                  holdout: int, joiner: str) -> str:
    """``+1.50 (-0.20 .. +3.20)``, or the uplift and why there is no interval; "-" without
    an uplift."""
    def missing(v: float | None) -> bool:
        return v is None or not math.isfinite(v)

    if missing(uplift):
        return "-"
    assert uplift is not None
    if missing(low) or missing(high):
        why = no_variance(treated, holdout) or "no margin varies in either group"
        return f"{uplift:+,.2f} (no interval: {why})"
    assert low is not None and high is not None
    return f"{uplift:+,.2f} ({low:+,.2f}{joiner}{high:+,.2f})"
