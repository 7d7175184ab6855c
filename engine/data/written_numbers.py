"""Numbers written as text the way cvm.yaml says the file writes them: a currency sign or code
beside them (``data.currency_sign``: £12.50, 12,50 €) and thousands separators
(``data.thousands``: 1,250.00) read past, each separator checked to stand between groups of
three digits (1,25 in a file of 1,250.00 is a decimal comma or a typing slip, never 125).
And the hint for a number that cannot be read, when a setting would read it."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from engine.project.location import config_shown
from engine.project.number_format import (
    SPACES,
    THOUSANDS,
    Numbers,
    grouped_pattern,
    separator_class,
)

_BLANK = rf"[\s{SPACES}]*"
_SYMBOLS = "£€$¥₹₩₽₺"
# a sign or code beside a plain or grouped number: $1,250.00, 12,50 €, 12.50 EUR, -£3
_SIGNED = re.compile(rf"^[-+]?[{SPACES}]*(?P<a>[{_SYMBOLS}]|zł|[A-Z]{{3}})?[{SPACES}]*[-+]?"
                     rf"[0-9][0-9.,'’{SPACES}]*[{SPACES}]*(?P<b>[{_SYMBOLS}]|zł|[A-Z]{{3}})?$")

# minus signs of typesetting (U+2212 minus, U+2013 en dash, U+2012 figure dash, U+FE63,
# U+FF0D), which the number reader does not take for '-'
_DASHES = "\u2212\u2013\u2012\ufe63\uff0d"

def read_past(col: pa.ChunkedArray, numbers: Numbers
              ) -> tuple[pa.ChunkedArray, pa.ChunkedArray | None]:
    """``col`` (text, trimmed, empty as null) without the currency sign (one, before or after
    the number: £3£ and 12£50 keep theirs) and the thousands separators of the numbers
    written with them in groups of three digits, and where a separator stands otherwise
    (None when the file has no thousands separator): those values are left as written, so
    the number is refused at its row whatever else it holds (1,25, 0,250, 1,2e3)."""
    if numbers.sign:
        sign = re.escape(numbers.sign)
        before = rf"^([-+]?){_BLANK}{sign}{_BLANK}([-+]?[0-9](?:[^{_SYMBOLS}]*[0-9])?)$"
        after = rf"^([-+]?[0-9][^{_SYMBOLS}]*?){_BLANK}{sign}$"
        col = pc.if_else(pc.match_substring_regex(col, before),
                         pc.replace_substring_regex(col, before, r"\1\2"),
                         pc.replace_substring_regex(col, after, r"\1"))
    if not numbers.thousands:
        return col, None
    sep = separator_class(numbers.thousands)
    written = pc.match_substring_regex(col, sep)
    grouped = pc.match_substring_regex(col, numbers.grouped())
    col = pc.if_else(pc.and_kleene(written, grouped), pc.replace_substring_regex(col, sep, ""),
                     col)
    # said as misplaced when the value is digits and marks only (1,25); 10.745,28 € in a file
    # of £ is refused for its sign (unreadable_hint), not for its separator
    digits = rf"^[-+]?[0-9](?:[0-9]|{sep}|{re.escape(numbers.decimal)})*$"
    return col, pc.and_kleene(pc.and_kleene(written, pc.invert(grouped)),
                              pc.match_substring_regex(col, digits))


def misplaced_hint(numbers: Numbers) -> str:
    """The hint for a thousands separator not between groups of three digits."""
    sep = numbers.thousands or ""
    mark = ("a comma" if sep == "," else "a point" if sep == "." else
            "a space" if sep == " " else "an apostrophe")
    other = (f"; if {mark} is the decimal mark, set data.decimal: {sep!r} and data.thousands "
             f"to the other mark" if sep in (",", ".") else "")
    return (f"data.thousands is {sep!r} in {config_shown()}: {mark} stands only before groups "
            f"of three digits ({numbers.example()}){other}")


def point_hint(numbers: Numbers) -> str:
    """The hint for a number written with a point where the decimal mark is a comma."""
    if numbers.thousands == ".":  # the points left are those out of place (1.25)
        return misplaced_hint(numbers)
    if numbers.thousands:
        return (f"data.decimal is ',' and data.thousands {numbers.thousands!r} in "
                f"{config_shown()}: a point is neither; write {numbers.example()}")
    return (f"data.decimal is ',' in {config_shown()}: write a comma as the decimal mark "
            "(12,50); if the points separate thousands (1.250,00), set data.thousands: \".\"")


def unreadable_hint(numbers: Numbers, first: str, written: str, *, points: bool,
                    misplaced: bool, configured: bool) -> str:
    """The hint for the first number no setting reads: ``first`` as read (its sign and
    separators read past), ``written`` as the file writes it; ``points``: the file's other
    numbers have decimal points; ``misplaced``: a thousands separator out of place;
    ``configured``: cvm.yaml's settings apply (not a responses file). The most telling hint
    first: a minus after the number, parentheses, a misplaced separator, a setting that reads
    it, a decimal comma, then what the settings say."""
    comma = numbers.decimal == ","
    text = written.strip()  # −12,50 or €−12,50, not 1–2
    if (dash := next((c for i, c in enumerate(text[:2]) if c in _DASHES and (
            i == 0 or not text[0].isdigit())), None)) is not None:
        plain = text.replace(dash, "-", 1)  # −12,50: a word processor's minus
        return (f"{dash!r} (U+{ord(dash):04X}) is a typographic minus, not the minus sign '-' "
                f"numbers are read with: write {plain} (replace it in the export)")
    if re.fullmatch(r"[0-9][0-9.,]*-", first):  # 121- (an accounting export's)
        return (f"the minus sign stands after the number: write it first "
                f"(-{written.strip()[:-1]}), as a plain signed number")
    if (negative := parentheses_hint(written, numbers, configured)) is not None:  # (3.00)
        return negative
    if misplaced:  # 1,25 in a file of 1,250.00
        return misplaced_hint(numbers)
    if configured and (setting := unread_hint(written, numbers)) is not None:
        return setting
    if not comma and not points and re.fullmatch(r"[-+]?[0-9]+,(?:[0-9]{1,2}|[0-9]{4,})",
                                                 first):  # 12,50 and no 12.50
        if not configured:  # a responses file: read with fixed settings, none applies
            return ("a decimal comma: this file is read with a decimal point whatever "
                    f"{config_shown()}'s data settings say: write {first.replace(',', '.')}")
        return (f"a decimal comma: set data.decimal: \",\" in {config_shown()} if every number "
                "of the file is written so, or export with a decimal point")
    if numbers.thousands or numbers.sign:  # not: no thousands separators or signs
        return f"write the numbers as {config_shown()}'s data settings say: {numbers.example()}"
    return ("use ',' as the decimal mark (data.decimal), no thousands separators or currency "
            "signs" if comma else "use '.' as the decimal mark, no thousands separators or "
            "currency signs")


def parentheses_hint(written: str, numbers: Numbers, configured: bool) -> str | None:
    """The hint for (3.00), an accounting export's negative amount: the number inside with a
    minus sign, and the settings that number needs too (-£3.00: data.currency_sign)."""
    inside = _PARENTHESES.fullmatch(written.strip())
    if inside is None:
        return None
    minus = "-" + inside.group(1)
    then = unread_hint(minus, numbers) if configured else None
    return (f"a negative amount in parentheses, as accounting exports write it: write it with "
            f"a minus sign ({minus})" + (f"; then {then}" if then else ""))


_PARENTHESES = re.compile(rf"\(\s*((?:[{_SYMBOLS}]|[A-Z]{{3}})?[{SPACES}]*[0-9][0-9.,'’{SPACES}]*"
                          rf"(?:[{SPACES}]*(?:[{_SYMBOLS}]|[A-Z]{{3}}))?)\s*\)")


# a sign and the code of the one currency it stands for (a first-day trial's EUR 12,50 beside
# currency_sign: "€" was told to convert its currency)
_SAME_CURRENCY = {"€": "EUR", "£": "GBP", "₹": "INR", "zł": "PLN", "₽": "RUB", "₺": "TRY",
                  "₩": "KRW", "₪": "ILS", "₴": "UAH", "฿": "THB", "₫": "VND", "₦": "NGN"}


def unread_hint(first: str, numbers: Numbers) -> str | None:
    """The hint for ``first``, a number that cannot be read, when it is written with a
    currency sign or thousands separators the settings do not name; None otherwise."""
    found = _SIGNED.match(first.strip())
    if found is None:
        return None
    sign = found.group("a") or found.group("b")
    if sign and numbers.sign and sign != numbers.sign:
        if _SAME_CURRENCY.get(sign, sign) == _SAME_CURRENCY.get(numbers.sign, numbers.sign):
            return (f"data.currency_sign is {numbers.sign!r} in {config_shown()}: this amount "
                    f"is written with {sign!r}, the same currency written another way; one "
                    "sign is read past: export the amounts written one way")
        return (f"data.currency_sign is {numbers.sign!r} in {config_shown()}: this amount is "
                f"written with {sign!r}; amounts in another currency need converting first")
    settings = [f"data.currency_sign: {_quoted(sign)}"] if sign and not numbers.sign else []
    digits = re.sub(r"[A-Z]{3}|zł", "", first).strip(_SYMBOLS + SPACES + "-+ ")
    other = "," if numbers.decimal == "." else "."
    for mark, sep in [(m, t) for m in (numbers.decimal, other) for t in THOUSANDS if t != m]:
        if re.match(grouped_pattern(mark, sep), digits) \
                and (mark, sep) != (numbers.decimal, numbers.thousands):
            if mark not in digits and sep in (",", ".") and not numbers.thousands \
                    and re.fullmatch(r"[1-9][0-9]{0,2}[,.][0-9]{3}", digits):
                return _either(digits, sep, settings)  # 1,250: thousands, or three decimals
            settings += [f"data.decimal: {_quoted(mark)}"] if mark != numbers.decimal else []
            settings += [f"data.thousands: {_quoted(sep)}"] if sep != numbers.thousands else []
            break
    if not settings:
        return None
    what = _listed([{"data.currency_sign": "a currency sign", "data.decimal":
                         "a decimal comma" if other == "," else "a decimal point",
                         "data.thousands": "a thousands separator"}[s.partition(":")[0]]
                    for s in settings])
    return (f"{what}: set {_listed(settings)} in {config_shown()} if the numbers are all "
            "written so, or export plain numbers")


def _either(digits: str, sep: str, settings: list[str]) -> str:
    """The hint for 1,250 or 1.250 alone: a thousands separator, or a decimal mark before
    three decimals; the file's other numbers tell, not this one."""
    whole, mark = digits.replace(sep, ""), "comma" if sep == "," else "point"
    sign = f"set {settings[0]} and " if settings else "set "
    return (f"{digits} is {whole} with a thousands separator, or {digits.replace(sep, '.')} "
            f"with a decimal {mark}: {sign}data.thousands: {_quoted(sep)} in {config_shown()} "
            f"for the first, data.decimal: {_quoted(sep)} for the second (as the file's "
            "other numbers are written), or export plain numbers")


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _quoted(text: str) -> str:
    return '"' + text + '"' if text != '"' else "'\"'"
