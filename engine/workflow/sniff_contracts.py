"""Recognise a contracts or subscriptions file in ``cvm init --from`` (README "Subscriptions and
contracts"): one row per contract, with its start, its end (empty while it runs) and its price
per billing period, rather than one row per purchase.

A file is taken for contracts when a date column is named like an end (``end``, ``cancelled``,
``churn_date``, ``terminated``, ...) and either another date column is named like a start
(``start``, ``began``, ``signup``, ...), or the end is empty in some rows (contracts still
running) and there is exactly one other date column. The mapping then takes the start for
``date`` and, where a column is named like a price per period (``price``, ``fee``, ``mrr``,
``premium``, ...), that column for ``amount``; ``billing_days`` comes from the words of the
column names (``monthly``, ``per_month``: 30; ``annual``: 365; ...), else 30, said to be a
guess of low sureness. The end's dates must read with the start's format (cvm.yaml has one
``date_format``).
"""

from __future__ import annotations

from engine.workflow.sniff import (
    PLURAL,
    Contracts,
    Guess,
    Sniffed,
    _date_format,
    _date_guess,
    _kind,
    _reads,
    _tokens,
)

START = frozenset(("start", "started", "starts", "begin", "began", "begins", "beginning",
                   "since", "signup", "signed", "subscribed", "activation", "activated",
                   "effective", "opened", "joined", "commenced", "inception", "from"))
END = frozenset(("end", "ended", "ends", "cancel", "cancelled", "canceled", "cancellation",
                 "churn", "churned", "terminated", "termination", "stop", "stopped", "expiry",
                 "expires", "expired", "expiration", "until", "lapsed"))
PRICE = frozenset(("price", "fee", "fees", "mrr", "premium", "charge", "rate", "subscription",
                   "recurring", "amount", "tariff", "billing", "billed"))
# words of a column name that say the billing period: (days, how the name says it)
PERIODS = {"month": (30, "per month"), "monthly": (30, "monthly"), "mo": (30, "per month"),
           "mrr": (30, "monthly (MRR)"), "week": (7, "per week"), "weekly": (7, "weekly"),
           "quarter": (91, "per quarter"), "quarterly": (91, "quarterly"),
           "year": (365, "per year"), "yearly": (365, "yearly"), "annual": (365, "annual"),
           "annually": (365, "annually"), "arr": (365, "annual (ARR)")}
DEFAULT_BILLING = 30


def _named(column: str, words: frozenset[str]) -> bool:
    return any(t in words for t in _tokens(column))


def detect_contracts(found: Sniffed) -> None:
    """Take ``found`` for a contracts file when its columns say so (the module docstring):
    the start becomes ``date``, a price per period ``amount``, and ``found.contracts`` holds
    the end and the billing period. Otherwise ``found`` is left as it is."""
    cols = found.columns
    kinds = {c: _kind(v) for c, v in cols.items()}
    dates = [c for c in cols if kinds[c] == "date"]
    starts = [c for c in dates if _named(c, START) and not _named(c, END)]
    # an end column empty in every sampled row (no contract ended yet) counts beside a start
    ends = [c for c in cols if _named(c, END) and c not in starts
            and (kinds[c] == "date" or (kinds[c] == "empty" and starts))]
    if not ends:
        return
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
        return
    filled = [v.strip() for v in cols[start] if v.strip()]
    fmt = _date_format(filled)
    ended = [v.strip() for v in cols[end] if v.strip()]
    if fmt is None or (ended and not _reads(ended, fmt)):
        return
    for name in [n for n, g in found.mapping.items() if g.column in (start, end)]:
        del found.mapping[name]
    found.mapping = {"date": Guess(start, sure, why), **found.mapping}  # date first, as before
    found.not_guessed.pop("date", None)
    _date_guess(found, filled)
    _price(found, kinds)
    _contract_id(found, kinds)
    days, billing_sure, billing_why = _billing(found)
    found.contracts = Contracts(
        Guess(end, "high", "the name says the contract's end, and the values are "
              + ("dates or empty (still running)" if ended and running else
                 "dates" if ended else "empty (no contract has ended in the sample)")),
        days, billing_sure, billing_why)


def _price(found: Sniffed, kinds: dict[str, str]) -> None:
    """``amount``: the column named like a price per period, unless a column is named like
    an amount already (a sure guess)."""
    if "amount" in found.mapping and found.mapping["amount"].sure == "high":
        return
    taken = {g.column for g in found.mapping.values()}
    for col in found.columns:
        if col in taken or kinds[col] not in ("decimal", "integer"):
            continue
        if _named(col, PRICE) and not _named(col, frozenset(("cost", "margin", "profit"))):
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
        words = _tokens(col)
        if (col not in taken and kinds[col] in ("text", "integer")
                and any(w in ("contract", "subscription", "policy", "agreement") for w in words)
                and any(w in ("id", "no", "number", "nr", "ref") for w in words)):
            found.mapping["order_id"] = Guess(col, "high", "the name says a contract id, and "
                                              f"the values are {PLURAL[kinds[col]]}")
            return


def _billing(found: Sniffed) -> tuple[int, str, str]:
    """The billing period from the words of the column names, the amount's first."""
    amount = found.mapping.get("amount")
    names = ([amount.column] if amount else []) + [c for c in found.columns
                                                   if amount is None or c != amount.column]
    for col in names:
        for token in _tokens(col):
            if token in PERIODS:
                days, said = PERIODS[token]
                return days, "medium", f"{col!r} says {said}"
    return DEFAULT_BILLING, "low", ("no column name says the billing period: "
                                    f"{DEFAULT_BILLING} days (monthly) assumed")
