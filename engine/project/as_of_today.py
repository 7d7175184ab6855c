"""The as-of date against today: a date after tomorrow counts days that have not happened
(a year mistyped in one row moves the default date, the day after the last transaction).
Said by the commands that score, never written into an output."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from engine.errors import Problem
    from engine.project.config import Config


def today() -> dt.date:
    """The day on this machine's clock (a function: the tests set it)."""
    return dt.date.today()


def dated_after_today(day: np.ndarray, epoch: dt.date, place: Callable[[int], str]
                      ) -> tuple[int, int, str] | None:
    """The rows dated after today among the rows' days (days since ``epoch``): how many, the
    latest day and where its first row is (``place``: a row's file and line); None: none."""
    import numpy as np

    count = int(np.count_nonzero(day > (today() - epoch).days))
    if not count:
        return None
    latest = int(np.argmax(day))
    return count, int(day[latest]), place(latest)


def ahead_text(count: int, where: str) -> str:
    """``dated_after_today``'s rows, as the warning's hint names them."""
    return f"row dated after today, at {where}" if count == 1 else \
        f"{count:,} rows dated after today, the latest at {where}"


def rows_ahead(day: np.ndarray, epoch: dt.date, place: Callable[[int], str]) -> str:
    """``dated_after_today`` in words ("" when none)."""
    found = dated_after_today(day, epoch, place)
    return "" if found is None else ahead_text(found[0], found[2])


def ahead_of_today(config: Config, as_of: dt.date, dated: str = "") -> Problem | None:
    """A warning when the as-of date is after tomorrow (the default, the day after the last
    transaction, is tomorrow for an export of today's rows): every age the run computes then
    counts days that have not happened, and a campaign measured from it compares days with no
    purchases yet. Said by the commands that score, not written into any output: the outputs
    stay the same whatever the day they are made."""
    now = today()
    if as_of <= now + dt.timedelta(days=1):
        return None
    ahead = (as_of - now).days - 1  # as_of is the first day not read
    counted = (f"recency, tenure, P(alive) and the contact look-backs count {ahead} days that "
               "have not happened yet, and a campaign measured from this run compares days "
               "without purchases yet")
    if config.as_of is not None:
        problem = config.problem("as_of", f"{as_of} is after today ({now}): {counted}",
                                 hint="set as_of to today or earlier, or remove it to use the "
                                 "day after the last transaction")
    else:
        last = as_of - dt.timedelta(days=1)
        problem = config.problem(
            "data.transactions", f"the transactions run to {last}, after today ({now}), so "
            f"the default as-of date is {as_of}: {counted}",
            hint=(f"check the {dated} (a year mistyped?) and data.date_format (a day and a month "
                  "swapped?); as_of: in cvm.yaml sets the date") if dated else
            "check the dates: data.date_format (a day and a month swapped?) or rows dated ahead "
            "in the export; as_of: in cvm.yaml sets the date")
    return dataclasses.replace(problem, severity="warning")
