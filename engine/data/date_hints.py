"""What a date that does not read in ``data.date_format`` tells of the right setting: a day
above 12 where the format wants a month (the month comes first), a two-digit year, or a day
the month does not have (a first-day trial met all three under the one hint "fix the value or
data.date_format")."""

from __future__ import annotations

import calendar
import datetime as dt
import re


def is_number(kind: object) -> bool:
    """An Arrow type of numbers (integers, floats, decimals): never dates, to the engine."""
    import pyarrow as pa

    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind)
                or pa.types.is_decimal(kind))


NUMBER_DATES = ("the column holds numbers: if it holds the dates (20230101), export them as "
                "dates or as text (data.date_format reads text only); else map date to the "
                "column of dates")

_SWAPS = (("%d/%m", "%m/%d"), ("%m/%d", "%d/%m"), ("%d.%m", "%m.%d"), ("%m.%d", "%d.%m"),
          ("%d-%m", "%m-%d"), ("%m-%d", "%d-%m"))


def _reads(value: str, fmt: str) -> bool:
    try:
        dt.datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def year_hint(value: object, fmt: str | None, where: str) -> str:
    """The hint for a date read outside the years the engine takes: 05/03/24 under %d/%m/%Y
    is the year 24, a two-digit year the format's %Y read."""
    text = str(value).strip()
    if fmt and "%Y" in fmt and _reads(text, fmt.replace("%Y", "%y")):
        return (f"{text!r} has a two-digit year: if the file writes its years so, set "
                f"data.date_format: \"{fmt.replace('%Y', '%y')}\" in {where}")
    return "check the year"


def date_format_hint(value: object, fmt: str, where: str) -> str:
    """The setting ``value`` reads with, or why it reads with none, else the plain hint;
    ``where``: the configuration file that holds the setting, as shown."""
    text = str(value).strip()
    for a, b in _SWAPS:
        if fmt.startswith(a) and _reads(text, fmt.replace(a, b)):  # never ISO's Y-m-d
            first = "month" if b.startswith("%m") else "day"
            return (f"{text!r} reads with the {first} first: if the file writes its dates so, "
                    f"set data.date_format: \"{fmt.replace(a, b)}\" in {where}")
    if any(_reads(text, iso) for iso in ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")):
        return (f"{text!r} is written YYYY-MM-DD, which is read without a date_format: if the "
                f"file writes its dates so, remove data.date_format from {where}")
    if "%Y" in fmt and _reads(text, fmt.replace("%Y", "%y")):
        return (f"{text!r} has a two-digit year: if the file writes its years so, set "
                f"data.date_format: \"{fmt.replace('%Y', '%y')}\" in {where}")
    parts = _fields(text, fmt)
    if parts is not None:
        year, month, day = parts
        if 1 <= month <= 12 and year >= 1 and day > calendar.monthrange(year, month)[1]:
            return (f"no such day: {calendar.month_name[month]} {year} has "
                    f"{calendar.monthrange(year, month)[1]} days: fix the value")
    return f"fix the value or data.date_format in {where}"


def _fields(text: str, fmt: str) -> tuple[int, int, int] | None:
    """Year, month and day of ``text`` written as ``fmt`` says, if its shape is the format's
    (whatever the day's range): ``31/11/2024`` in ``%d/%m/%Y``."""
    codes = {"d": r"(?P<d>\d{1,2})", "m": r"(?P<m>\d{1,2})", "Y": r"(?P<Y>\d{4})"}
    pattern, seen = "", set()
    for piece in re.split(r"(%.)", fmt):
        if len(piece) == 2 and piece[0] == "%" and piece[1] in codes and piece[1] not in seen:
            pattern += codes[piece[1]]
            seen.add(piece[1])
        elif len(piece) == 2 and piece[0] == "%":
            pattern += ".+?"  # another field (a time): any text
        else:
            pattern += re.escape(piece)
    found = re.fullmatch(pattern, text)
    if found is None or seen != set(codes):
        return None
    return int(found["Y"]), int(found["m"]), int(found["d"])
