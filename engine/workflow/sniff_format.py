"""How a sampled file writes its amounts, for ``cvm init --from``, when they carry a currency
sign (£12.50, 12,50 €, 12.50 EUR) or thousands separators (1,250.00, 1.250,00, 1 250,00,
1'250.00): the settings that read them (data.currency_sign, data.thousands, data.decimal),
guessed only from columns named like an amount, a cost or a margin, and only when every value
of those columns reads under them and some value shows the separator unambiguously; and the
sample as the engine will read it then."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.project.number_format import SPACES, Numbers, grouped_pattern, separator_class
from engine.workflow.sniff_numbers import CODES, SYMBOLS

_SIGN = "|".join([re.escape(s) for s in SYMBOLS] + [c.upper() for c in sorted(CODES)])
_BLANKS = f"[{SPACES}]*"
_BEFORE = re.compile(rf"^([-+]?){_BLANKS}({_SIGN}){_BLANKS}([-+]?[0-9].*)$")
_AFTER = re.compile(rf"^([-+]?[0-9].*?){_BLANKS}({_SIGN})$")
_NUMBERLIKE = re.compile(rf"^[-+]?[0-9][0-9.,'’{SPACES}]*$")
_AMBIGUOUS = re.compile(r"^[-+]?[0-9]{1,3}[.,][0-9]{3}$")  # 1,250 / 1.250 alone


@dataclass(frozen=True)
class Format:
    numbers: Numbers
    why: str  # what the sample shows, for cvm.yaml's comment


def _unsigned(text: str) -> tuple[str, str | None]:
    """``text`` without a currency sign before or after it, and the sign."""
    if (found := _BEFORE.match(text)) is not None:
        return found.group(1) + found.group(3), found.group(2)
    if (found := _AFTER.match(text)) is not None:
        return found.group(1), found.group(2)
    return text, None


def _grouped(decimal: str, thousands: str) -> re.Pattern[str]:
    return re.compile(grouped_pattern(decimal, thousands))  # as the engine reads them


def _decimal(text: str, mark: str) -> bool:
    """A number whose mark can only be a decimal mark: 0.500, 1250.500, 12.5, 1.2500."""
    m = re.escape(mark)
    return bool(re.fullmatch(rf"[-+]?(?:0|[0-9]{{4,}}){m}[0-9]+|[-+]?[0-9]+{m}(?:[0-9]{{1,2}}|"
                             rf"[0-9]{{4,}})", text))


def _plain(decimal: str) -> re.Pattern[str]:
    return re.compile(rf"^[-+]?[0-9]+(?:{re.escape(decimal)}[0-9]+)?$")


def _evident(values: list[str], every: list[str], decimal: str, thousands: str) -> str | None:
    """A value of ``values`` (a column's) that can only be read with this pair: both marks
    (1,250.00), a space or an apostrophe between groups (1 250), or the separator where some
    money column (``every``: all their values) writes a decimal of one or two digits with
    the other mark (1,250 beside 12.50)."""
    grouped = _grouped(decimal, thousands)
    for v in values:
        if grouped.match(v) and (decimal in v or thousands in (" ", "'")):
            return v
    other = [v for v in every if re.fullmatch(rf"[-+]?[0-9]+{re.escape(decimal)}[0-9]{{1,2}}", v)]
    return next((v for v in values if grouped.match(v)), None) if other else None


def guess(columns: dict[str, list[str]]) -> Format | None:
    """The settings that read the money columns' values, when plain numbers with one decimal
    mark (data.decimal alone) do not and they do; None otherwise."""
    from engine.workflow.sniff_names import money_named

    money = {n: [v.strip() for v in vs if v.strip()] for n, vs in columns.items()
             if money_named(n)}
    # the columns of numbers among them (SalesChannel is named like sales, and holds words)
    money = {n: vs for n, vs in money.items()
             if vs and all(_NUMBERLIKE.match(_unsigned(v)[0]) for v in vs)}
    if not money:
        return None
    signs = {s for vs in money.values() for v in vs if (s := _unsigned(v)[1])}
    if len(signs) > 1:
        return None
    sign = next(iter(signs), None)
    bare = {n: [_unsigned(v)[0] for v in vs] for n, vs in money.items()}
    values = [v for vs in bare.values() for v in vs]
    for decimal, thousands in ((".", ","), (",", "."), (",", " "), (".", " "), (".", "'")):
        grouped, plain = _grouped(decimal, thousands), _plain(decimal)
        readable = all(grouped.match(v) or plain.match(v) for v in values)
        seen = next((s for vs in bare.values()
                     if (s := _evident(vs, values, decimal, thousands))), None)
        if readable and seen is not None:
            name, shown = next((n, v) for n, vs in money.items() for v in vs
                               if _unsigned(v)[0] == seen)
            return Format(Numbers(decimal, thousands, sign),
                          f"column {name!r} writes numbers like {shown!r}")
    mark = next((d for d in (".", ",") if all(_plain(d).match(v) for v in values)), None)
    if sign is None or mark is None or (any(_AMBIGUOUS.match(v) for v in values) and not any(
            _decimal(v, mark) for v in values)):
        return None  # £1,250 beside £980: thousands or three decimals, not to be guessed
    name, shown = next((n, v) for n, vs in money.items() for v in vs if _unsigned(v)[1])
    return Format(Numbers(mark, None, sign), f"column {name!r} writes numbers like {shown!r}")


def as_read(values: list[str], numbers: Numbers) -> list[str]:
    """The sampled values as the engine reads them under ``numbers``: 1250.00 for £1,250.00;
    other values as written (03.01.2024 is a date, not a number with thousands points)."""
    out = []
    grouped = _grouped(numbers.decimal, numbers.thousands) if numbers.thousands else None
    plain = _plain(numbers.decimal)
    for v in values:
        text, sign = _unsigned(v.strip())
        if sign is not None and sign != numbers.sign:
            out.append(v)
            continue
        if grouped is not None and numbers.thousands and grouped.match(text):
            text = re.sub(separator_class(numbers.thousands), "", text)
        if not plain.match(text):
            out.append(v if sign is None else text)
            continue
        out.append(text.replace(",", "."))
    return out
