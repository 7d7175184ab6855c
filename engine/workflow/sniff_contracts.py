"""Recognise a contracts or subscriptions file in ``cvm init --from`` (README "Starting a
project: cvm init"): one row per contract, with its start, its end (empty while it runs) and its
price per billing period, rather than one row per purchase.

A reading as contracts needs a column named like an end (``end``, ``cancelled``,
``churn_date``, ``until``, ...) and a date column for the start: one named like a start
(``start``, ``began``, ``activated``, ...; the customer's ``since``, ``signup``, ``joined`` are
weaker), else, when the end is empty in some rows, the one other date column. Reading an
orders file as contracts would bill every uncancelled order again every period, so the file is
only taken for contracts when nothing says purchases (no order id column, no date column named
like a purchase's: ``date``, ``order_date``, ``invoice_date``, ...) and something besides the
end says contracts (a strong start name, a column named like a price per period, or a contract
id column). Otherwise the reading is only said, with how to force it (``--contracts``).

Taken for contracts, the start becomes ``date`` (whatever was guessed before), a price per
period ``amount`` (never an id-like column), a contract id ``order_id``; ``billing_days`` comes
from the words of the column names (``monthly``, ``per_month``: 30; ``annual``: 365; ...), else
30, said to be a guess of low sureness. The end's dates must read with the start's format
(cvm.yaml has one ``date_format``).
"""

from __future__ import annotations

from itertools import pairwise

from engine.errors import InputError, Problem
from engine.workflow.sniff import (
    PLURAL,
    Contracts,
    Guess,
    Sniffed,
    _date_format,
    _date_guess,
    _kind,
    _reads,
)
from engine.workflow.sniff_names import tokens

# words of a date column's name that say a contract's start; the customer's own dates
# (customer_since, signup_date) are weaker: a purchases file may carry them on every row
START = frozenset(("start", "started", "starts", "begin", "began", "begins", "beginning",
                   "subscribed", "activation", "activated", "effective", "commenced",
                   "commencement", "inception"))
WEAK_START = frozenset(("since", "signup", "signed", "opened", "joined", "registered", "from"))
END = frozenset(("end", "ended", "ends", "cancel", "cancelled", "canceled", "cancellation",
                 "churn", "churned", "terminated", "termination", "stop", "stopped", "expiry",
                 "expires", "expired", "expiration", "until", "lapsed"))
# a price per period: one of these words, or a period word (PERIODS) beside one of PER_PERIOD
# ("monthly_rate", "amount_per_month"); "rate" or "amount" alone says nothing of a period
PRICE = frozenset(("price", "prices", "fee", "fees", "mrr", "arr", "premium", "premiums",
                   "charge", "charges", "tariff", "recurring"))
PER_PERIOD = frozenset(("rate", "amount", "payment", "billing", "billed", "revenue", "value",
                        "total", "spend"))
NOT_PRICE = frozenset(("cost", "costs", "margin", "profit"))
# a date column named like a purchase's (or the whole name a bare date): a file of purchases
PURCHASE = frozenset(("order", "ordered", "purchase", "purchased", "transaction", "txn",
                      "invoice", "invoiced", "sale", "sold", "bought", "receipt", "checkout",
                      "ship", "shipped", "delivery", "delivered"))
BARE_DATE = frozenset(("date", "day", "datum", "timestamp", "time"))
CONTRACT = frozenset(("contract", "subscription", "policy", "agreement"))
ID = frozenset(("id", "no", "nr", "number", "num", "ref", "key", "code"))
# words of a column name that say the billing period: (days, how the name says it)
PERIODS = {"month": (30, "per month"), "monthly": (30, "monthly"), "mo": (30, "per month"),
           "mrr": (30, "monthly (MRR)"), "week": (7, "per week"), "weekly": (7, "weekly"),
           "quarter": (91, "per quarter"), "quarterly": (91, "quarterly"),
           "year": (365, "per year"), "yearly": (365, "yearly"), "annual": (365, "annual"),
           "annually": (365, "annually"), "arr": (365, "annual (ARR)")}
DEFAULT_BILLING = 30
SWITCH = "if each row is a contract, run cvm init into a new folder with --contracts"


def _named(column: str, words: frozenset[str]) -> bool:
    return any(t in words for t in tokens(column))


def _id_like(column: str, values: list[str], kind: str) -> bool:
    """An id, never a price: a name ending in id (``subscription_id``, ``custId``), no or
    number, or distinct whole numbers (over 10 of them, or counting up by one)."""
    last = (tokens(column) or [""])[-1]
    if last in ID or (last.endswith("id") and not last.endswith(("aid", "valid", "rapid"))):
        return True
    if kind != "integer":
        return False
    numbers = [float(v) for v in values if v.strip()]
    return len(set(numbers)) == len(numbers) > 1 and (
        len(numbers) > 10 or all(b - a == 1 for a, b in pairwise(numbers)))


def _price_named(column: str, values: list[str], kind: str) -> bool:
    words = set(tokens(column))
    return (kind in ("decimal", "integer") and not words & NOT_PRICE
            and not _id_like(column, values, kind)
            and bool(words & PRICE or (words & set(PERIODS) and words & PER_PERIOD)))


def _contract_id_named(column: str) -> bool:
    words = tokens(column)
    return any(w in CONTRACT for w in words) and any(w in ID for w in words)


def _purchase_named(column: str) -> bool:
    words = tokens(column)
    return any(w in PURCHASE for w in words) or "".join(words) in BARE_DATE


def _purchase_signs(found: Sniffed, dates: list[str]) -> list[str]:
    """What says one row per purchase: an order id column, a date named like a purchase's."""
    signs = []
    order = found.mapping.get("order_id")
    if order is not None and not _contract_id_named(order.column) and all(
            v.strip() for v in found.columns[order.column]):
        signs.append(f"{order.column!r} holds order ids")
    signs += [f"{col!r} is named like a purchase date" for col in dates if _purchase_named(col)]
    return signs


def detect_contracts(found: Sniffed, force: bool | None = None) -> str | None:
    """Take ``found`` for a contracts file when its columns say so (the module docstring):
    the start becomes ``date``, a price per period ``amount``, and ``found.contracts`` holds
    the end and the billing period. A reading considered but not taken is returned, as the
    line for stdout; otherwise ``found`` is left as it is. ``force``: True takes the reading
    whatever else the file says (an input error when there is none), False never."""
    cols = found.columns
    kinds = {c: _kind(v) for c, v in cols.items()}
    dates = [c for c in cols if kinds[c] == "date"]
    if force is False:
        _purchase_date(found, dates)
        return None
    strong = [c for c in dates if _named(c, START) and not _named(c, END)]
    weak = [c for c in dates if _named(c, WEAK_START) and not _named(c, END | START)]
    starts = strong + weak
    # an end column empty in every sampled row (no contract ended yet) counts beside a start
    ends = [c for c in cols if _named(c, END) and c not in starts
            and (kinds[c] == "date" or (kinds[c] == "empty" and starts))]
    reading = _reading(found, dates, starts, ends)
    if reading is None:
        if force:
            raise InputError(Problem(
                "found no column named like a contract's end (end, cancelled, churn_date, "
                "until, ...) beside a start, expected one to read the file as contracts",
                file=str(found.file), key="--contracts",
                hint="drop --contracts to read it as transactions (one row per purchase)"))
        _purchase_date(found, dates)
        return None
    start, end, sure, why = reading
    if not force:
        purchases = _purchase_signs(found, [c for c in dates if c != end])
        contract = (start in strong or any(_price_named(c, cols[c], kinds[c]) for c in cols)
                    or any(_contract_id_named(c) for c in cols))
        if purchases or not contract:
            but = " and ".join(purchases) if purchases else (
                "no other column says contracts (a start, a price per period or a contract "
                "id)")
            _purchase_date(found, dates)
            return (f"{end!r} is named like a contract's end, but {but}: read as one row per "
                    f"purchase; {SWITCH}")
    _take(found, kinds, start, end, Guess(start, sure, why))
    return None


def _purchase_date(found: Sniffed, dates: list[str]) -> None:
    """Read as purchases, ``date`` is not a column named like a contract's start or end
    (``churn_date`` names a date better than ``day`` does) while another date column is
    there: the first of them named like a purchase date, else the first."""
    guess = found.mapping.get("date")
    lifecycle = START | WEAK_START | END
    if guess is None or not _named(guess.column, lifecycle):
        return
    others = [c for c in dates if not _named(c, lifecycle)]
    if not others:
        return
    col = next((c for c in others if _purchase_named(c)), others[0])
    found.mapping["date"] = Guess(col, "medium", f"the values are dates, and {guess.column!r} "
                                  "is named like a contract's start or end, not a purchase's")
    found.date_sure, found.date_other = "high", None
    _date_guess(found, [v.strip() for v in found.columns[col] if v.strip()])


def _reading(found: Sniffed, dates: list[str], starts: list[str],
             ends: list[str]) -> tuple[str, str, str, str] | None:
    """The start and end columns of a contracts reading, if the file has one."""
    if not ends:
        return None
    cols = found.columns
    end = ends[0]
    running = any(not v.strip() for v in cols[end])
    others = [c for c in dates if c != end]
    if starts:
        start, sure, why = starts[0], "high", "the name says the contract's start, and the " \
            "values are dates"
    elif running and len(others) == 1:
        start, sure, why = others[0], "medium", "the one other date column (the name says " \
            "nothing of a start), and the values are dates"
    else:
        return None
    fmt = _date_format([v.strip() for v in cols[start] if v.strip()])
    ended = [v.strip() for v in cols[end] if v.strip()]
    if fmt is None or (ended and not _reads(ended, fmt)):
        return None
    return start, end, sure, why


def _take(found: Sniffed, kinds: dict[str, str], start: str, end: str, date: Guess) -> None:
    """Turn ``found`` into a contracts file: the start is ``date``, whatever was guessed."""
    cols = found.columns
    found.mapping = {"date": date, **{n: g for n, g in found.mapping.items()  # date first
                                      if n != "date" and g.column not in (start, end)}}
    found.not_guessed.pop("date", None)
    found.date_sure, found.date_other = "high", None  # said again for the start's dates
    _date_guess(found, [v.strip() for v in cols[start] if v.strip()])
    _price(found, kinds)
    _contract_id(found, kinds)
    days, billing_sure, billing_why = _billing(found)
    running = any(not v.strip() for v in cols[end])
    ended = any(v.strip() for v in cols[end])
    found.contracts = Contracts(
        Guess(end, "high", "the name says the contract's end, and the values are "
              + ("dates or empty (still running)" if ended and running else
                 "dates" if ended else "empty (no contract has ended in the sample)")),
        days, billing_sure, billing_why)


def _price(found: Sniffed, kinds: dict[str, str]) -> None:
    """``amount``: the column named like a price per period (also when it was guessed by its
    values only), unless a column is named like an amount already (a sure guess)."""
    amount = found.mapping.get("amount")
    if amount is not None and amount.sure == "high":
        return
    taken = {g.column for n, g in found.mapping.items() if n != "amount"}
    for col in found.columns:
        if col not in taken and _price_named(col, found.columns[col], kinds[col]):
            found.mapping["amount"] = Guess(col, "high", "the name says a price per billing "
                                            f"period, and the values are {PLURAL[kinds[col]]}")
            found.not_guessed.pop("amount", None)
            return


def _contract_id(found: Sniffed, kinds: dict[str, str]) -> None:
    """``order_id``: a column of contract ids (``contract_id``, ``subscription_no``), so that
    ``orders`` counts contracts."""
    if "order_id" in found.mapping:
        return
    taken = {g.column for g in found.mapping.values()}
    for col in found.columns:
        if col not in taken and kinds[col] in ("text", "integer") and _contract_id_named(col):
            found.mapping["order_id"] = Guess(col, "high", "the name says a contract id, and "
                                              f"the values are {PLURAL[kinds[col]]}")
            return


def _billing(found: Sniffed) -> tuple[int, str, str]:
    """The billing period from the words of the column names, the amount's first; said low
    when a column's values name more than one period (one billing_days bills them all)."""
    days, sure, why = _billing_named(found)
    for col, values in found.columns.items():
        named = {PERIODS[t][1]: PERIODS[t][0] for v in set(values) for t in tokens(v)
                 if t in PERIODS}
        if len(set(named.values())) > 1:
            return days, "low", (f"{col!r} holds {', '.join(sorted(named))} contracts, and "
                                 f"every contract is billed every {days} days ({why}): split "
                                 "the file by billing period into projects of their own")
    return days, sure, why


def _billing_named(found: Sniffed) -> tuple[int, str, str]:
    """The billing period from the words of the column names, the amount's first."""
    amount = found.mapping.get("amount")
    names = ([amount.column] if amount else []) + [c for c in found.columns
                                                   if amount is None or c != amount.column]
    for col in names:
        for token in tokens(col):
            if token in PERIODS:
                days, said = PERIODS[token]
                return days, "medium", f"{col!r} says {said}"
    return DEFAULT_BILLING, "low", ("no column name says the billing period: "
                                    f"{DEFAULT_BILLING} days (monthly) assumed")
