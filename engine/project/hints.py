"""Hints for values written the way people write them, not the way the engine reads them: a
number with its currency ("25 EUR"), a percentage, a decimal comma, a date in another order
or one the calendar lacks. Each function returns the hint's text, or None when it has none
better than the message itself."""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from decimal import Decimal
from typing import Any

DATE_SHAPE = "write the date as YYYY-MM-DD (year, month, day)"
_NUMBER = re.compile(r"[+-]?\d[\d,]*(?:\.\d+)?")
_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")  # not 0,125
_SCALES = {"k": Decimal(10**3), "tsd": Decimal(10**3), "thousand": Decimal(10**3),
           "m": Decimal(10**6), "mio": Decimal(10**6), "mn": Decimal(10**6),
           "million": Decimal(10**6), "bn": Decimal(10**9), "mrd": Decimal(10**9)}
_DAYS = {"d": 1, "day": 1, "days": 1, "w": 7, "week": 7, "weeks": 7, "m": 30, "mo": 30,
         "month": 30, "months": 30, "y": 365, "year": 365, "years": 365}
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
_POINT_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+")
_ISO_LIKE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # not the locale's names


def one_item_hint(value: Any) -> str | None:
    """The hint for one value written where a list of values belongs (``order_by: line``)."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and \
            str(value).strip():
        return f"write it as a list, in brackets: [{value}]"
    return None


def as_fraction(percent: Any) -> str:
    """The example of a rate written as a percentage, with the user's own figure: "0.05 for
    5%" (``percent``: 5, or the text '5%', '12,5 %'); "0.1 for 10%" when it is no number."""
    text = str(percent).strip().removesuffix("%").strip()
    # a comma before one or two digits at the end is a decimal comma (12,5); else thousands
    text = re.sub(r",(\d{1,2})$", r".\1", text).replace(",", "")
    try:
        number = Decimal(text)
    except ArithmeticError:
        return "0.1 for 10%"
    if not number.is_finite() or number <= 0 or number > 100:  # no share: the plain example
        return "0.1 for 10%"
    fraction = format((number / 100).normalize(), "f")
    return f"{fraction} for {str(percent).strip().removesuffix('%').strip()}%"


YAML_FLAGS = "YAML reads yes, no, on, off, true and false as true or false: write a number"
_E_NOTATION = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def number_hint(raw: Any, attribute: str) -> str | None:
    """The hint for text found where a number belongs (``raw``, in a condition on
    ``attribute``)."""
    if isinstance(raw, bool):
        return YAML_FLAGS
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if (read := _yaml_text_number(text)) is not None:
        return read
    if _plain(text) is not None:
        return "remove the quotes"
    if text.endswith("%"):  # 50%, 12,5%: a share, whatever its decimal mark
        return (f"write the number without %: {as_fraction(text)} if {attribute} is a share "
                "from 0 to 1")
    numbers = _NUMBER.findall(text)
    if len(numbers) != 1:
        return None
    number, unit = numbers[0], text.replace(numbers[0], "", 1).strip()
    if re.search(r"\d", unit):
        return None
    if unit.startswith("-") and number[0] not in "+-":  # -€3: the minus before the sign
        number, unit = "-" + number, unit[1:].strip()
    plain = number.replace(",", ".") if _DECIMAL_COMMA.fullmatch(number) else \
        number.replace(",", "")
    unit = unit.strip("€£$¥ ") or unit  # €2k: the scale, whatever the currency
    if attribute.endswith("days") and unit.lower() in _DAYS:  # tenure_days: 3m is 3 months
        days = Decimal(plain) * _DAYS[unit.lower()]
        return f"write it in days: {days.normalize():f} for {number} {unit}"
    if unit.lower() in _SCALES:  # 2,5k is 2500, not 2.5
        figure = Decimal(plain) * _SCALES[unit.lower()]
        return f"write the number in full, without {unit!r}: {figure.normalize():f}"
    if _POINT_THOUSANDS.fullmatch(number):  # 1.500 €: YAML reads 1.500 as 1.5
        return (f"write the number alone: {number.replace('.', '')} if the point separates "
                f"thousands, {float(number):g} if it is a decimal point")
    if _THOUSANDS.fullmatch(number) and _DECIMAL_COMMA.fullmatch(number):  # 1,250
        return (f"write the number without a comma: {number.replace(',', '')} if the comma "
                f"separates thousands, {number.replace(',', '.')} if it is a decimal comma")
    return (f"write the number alone, without a unit: {plain}" if unit else
            f"write a decimal point: {plain}" if _DECIMAL_COMMA.fullmatch(number) else
            f"write the number without thousands separators: {plain}")


def text_number_hint(value: Any, key: str = "") -> str | None:
    """The hint for a setting's number written as text: quoted ('0.10'), or with a decimal
    comma (0,30, which YAML reads as text); ``key``: the setting's name (``period_days``: 3
    months is written 90)."""
    if isinstance(value, bool):
        return YAML_FLAGS
    if isinstance(value, str) and (read := _yaml_text_number(value.strip())) is not None:
        return read
    if quoted_number(value):
        return f"write the number without quotes: {value.strip()}"
    if isinstance(value, str) and _DECIMAL_COMMA.fullmatch(value.strip()) \
            and not _THOUSANDS.fullmatch(value.strip()):
        return f"write a decimal point: {value.strip().replace(',', '.')}"
    if isinstance(value, str) and not value.strip().endswith("%"):  # €35, 1,500, 2k
        return number_hint(value, key)
    return None


def _yaml_text_number(text: str) -> str | None:
    """The hint for a number in e-notation that YAML reads as text (``1e3``: YAML 1.1 wants
    a point and a signed exponent), None for any other text."""
    if not _E_NOTATION.fullmatch(text) or ("." in text and re.search(r"[eE][-+]", text)):
        return None
    return (f"write {Decimal(text).normalize():f}: YAML reads {text} as text (a number in "
            "e-notation needs a point and a signed exponent: 1.0e+3)")


def bool_hint(value: Any) -> str | None:
    """The hint for text where true or false belongs: a flag in quotes ('no')."""
    word = value.strip().lower() if isinstance(value, str) else ""
    flags = {"yes": True, "on": True, "true": True, "no": False, "off": False, "false": False}
    if word not in flags:
        return None
    return f"write {str(flags[word]).lower()}" + ("" if word in ("true", "false") else
                                                   f" (or {word} without quotes)")


def quoted_number(value: Any) -> bool:
    """A number written in quotes ('0.10'): YAML reads it as text."""
    return isinstance(value, str) and _plain(value.strip()) is not None


def _plain(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def date_hint(value: Any) -> str:
    """The hint for a value that is not a date: what is wrong with it when that can be said
    (a month 13, a 30 February, 20250630 without its dashes), else the format."""
    if (isinstance(value, int) and not isinstance(value, bool) and len(str(value)) == 8) or (
            isinstance(value, str) and len(value) == 8 and value.isascii() and value.isdigit()):
        text = str(value)
        try:
            day = dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return DATE_SHAPE
        return f"{DATE_SHAPE}: {day.isoformat()}"
    match = _ISO_LIKE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        return DATE_SHAPE
    year, month, day_ = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        return f"there is no month {month}: {DATE_SHAPE}"
    if year >= 1:
        days = calendar.monthrange(year, month)[1]
        if not 1 <= day_ <= days:
            return f"{_MONTHS[month - 1]} {year} has {days} days"
    return DATE_SHAPE


def empty_file_hint(what: str, required: list[str]) -> str | None:
    """The hint for an empty file expected to hold ``what`` with the ``required`` keys."""
    if not required:
        return None
    keys = required[0] if len(required) == 1 else \
        ", ".join(required[:-1]) + " and " + required[-1]
    return f"{what} needs the key{'s' if len(required) > 1 else ''} {keys}"
