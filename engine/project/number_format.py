"""How a data file writes numbers as text: cvm.yaml's ``data.decimal``, ``data.thousands``
and ``data.currency_sign`` (``1.234,50 EUR``: decimal ',', thousands '.', sign 'EUR')."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.project import checks as c

THOUSANDS = (",", ".", " ", "'")  # ' ' stands for the no-break spaces too, "'" for ’
# a space, a no-break space, a narrow no-break space (French), a thin space
SPACES = " \u00a0\u202f\u2009"
APOSTROPHES = "'\u2019"


@dataclass(frozen=True)
class Numbers:
    """How numbers written as text are written."""

    decimal: str = "."
    thousands: str | None = None  # None: no thousands separator (1,250.00 is an error)
    sign: str | None = None  # a currency sign or code beside the amounts, read past

    def grouped(self) -> str:
        """A number written with this file's thousands separator, as a pattern (Python's re
        and Arrow's RE2 alike): groups of three digits after a first of one to three that
        does not start with 0 (0,250 is no thousands), then the decimals if any."""
        return grouped_pattern(self.decimal, self.thousands or ",")

    def example(self) -> str:
        """A number as this file should write it: 1,250.00 or 12,50."""
        sep, mark = self.thousands or "", self.decimal
        text = f"1{sep}250{mark}00" if sep else f"12{mark}50"
        if self.sign:
            text = f"{self.sign}{text}" if len(self.sign) == 1 and self.sign in "£$¥" \
                else f"{text} {self.sign}"
        return text


def separator_class(thousands: str) -> str:
    """The characters that stand for ``thousands`` (' ': the no-break spaces too), as a
    pattern's class."""
    return "[" + {" ": SPACES, "'": APOSTROPHES}.get(thousands, thousands) + "]"


def grouped_pattern(decimal: str, thousands: str) -> str:
    """See ``Numbers.grouped``."""
    return (rf"^[-+]?[1-9][0-9]{{0,2}}(?:{separator_class(thousands)}[0-9]{{3}})+"
            rf"(?:{re.escape(decimal)}[0-9]+)?$")


def check_sign(value: str) -> str | None:
    """A sign or code such as £, € or EUR: no digit, space, plus or minus, or mark of a
    number."""
    if not value or len(value) > 5 or re.search(r"[\d\s.,'’+-]", value):
        return f"found {value!r}, expected a currency sign or code such as £, € or EUR"
    return None


def check_thousands(value: str) -> str | None:
    if value in THOUSANDS:
        return None
    return (f"found {value!r}, expected one of \",\" (1,250.00), \".\" (1.250,00), \" \" "
            "(1 250,00) or \"'\" (1'250.00)")


PLAIN = Numbers()  # 1234.50: a decimal point, no thousands separator or currency sign


NUMBER_FIELDS = [
    c.Field("decimal", c.Text(choices=(".", ","), hint="write the mark itself, in quotes: "
                              "decimal: \",\" for a comma, \".\" for a point"), ".",
            about="the decimal mark of numbers written as text (in a CSV file, or a Parquet "
            "file's text columns): '.' (12.50) or ',' (12,50, as many European exports write "
            "them)"),
    c.Field("thousands", c.Optional(c.Text(non_empty=False, check_fn=check_thousands)), None,
            about="the thousands separator of numbers written as text: ',' (1,250.00), '.' "
            "(1.250,00), ' ' (1 250,00; a no-break space too) or \"'\" (1'250.00); null: none, "
            "and a number written with one is an error"),
    c.Field("currency_sign", c.Optional(c.Text(check_fn=check_sign)), None,
            about="a currency sign or code the amounts are written with, before or after the "
            "number (£12.50, 12,50 €, 12.50 EUR): read past; any other sign is an error"),
]


def marks_clash(decimal: str, thousands: str | None) -> tuple[str, str] | None:
    """The problem and hint when the thousands separator is the decimal mark too."""
    if not isinstance(thousands, str) or thousands != decimal:
        return None
    return (f"found {thousands!r}, the decimal mark too (data.decimal)", "a number has one "
            "decimal mark and another thousands separator: 1,250.00 is decimal '.' thousands "
            "','; 1.250,00 the other way round")
