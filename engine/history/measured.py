"""What ``cvm measure`` and learning read from the history, as arrays: the measured runs'
actioned customers (coded as in the transactions), grouped per run and campaign, and each
customer's outcome over a campaign's window (README "Measuring campaigns: `cvm measure`").

At a million customers and ten runs that is ten million rows: every step here is a numpy pass
over integer codes (no pandas group-by or merge on strings, no Python object per row). The
ids are looked up in the transactions' ids once (engine.history.columnar.lookup); campaign,
channel and status become small integer codes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select

from engine.activation.ids import id_texts, positions_of
from engine.data.load import EPOCH, Transactions
from engine.history.changes import arrays, fetch
from engine.history.columnar import categories, equal, read_blocks
from engine.history.lookback import looked_back
from engine.history.store import Store
from engine.history.tables import responses, run_actions, runs


@dataclass(frozen=True)
class Measured:
    """The runs measured and their actioned customers, one entry per row (run order, then as
    recorded)."""

    runs: list[tuple[int, str, object]]  # (run, run_id, as_of) in run order
    run: np.ndarray  # int64: the row's run
    code: np.ndarray  # int64: the customer's code in the transactions, -1 if none
    customer_id: np.ndarray  # object: the id where the code is -1, else None
    campaign: np.ndarray  # int64 codes into campaigns
    campaigns: list[str]
    channel: np.ndarray  # int64 codes into channels, -1: none (empty unless asked for)
    channels: list[str]
    allocated: np.ndarray  # bool: status allocated (contacted)
    holdout: np.ndarray  # bool (a missing holdout is False)
    cost: np.ndarray  # float (a missing cost is 0)
    answers: pd.DataFrame  # imported conversions: customer_id, campaign, date, day, code


def read_measured(store: Store, tx: Transactions, *, before: dt.date | None = None,
                  channels: bool = False) -> Measured:
    """The runs measured (the latest per as-of date; only those dated before ``before`` if
    given), their actioned customers (with ``channels``, their channels) and the imported
    conversions."""
    wanted = ["customer_id", "campaign", *(["channel"] if channels else []), "status",
              "holdout", "cost"]
    with store.reading() as conn:
        chosen = fetch(conn, looked_back(before))
        keys = sorted(int(r) for r, _ in chosen)
        meta = fetch(conn, select(runs.c.id, runs.c.run_id, runs.c.as_of)
                     .where(runs.c.id.in_(keys))) if keys else []
        block, run, _ = read_blocks(conn, run_actions, keys, wanted)
        answers = fetch(conn, select(responses.c.customer_id, responses.c.campaign,
                                     responses.c.response_date)
                        .where(responses.c.outcome == "converted"))
    who, campaign_of, date = arrays(answers, 3)
    # the block's ids and the conversions' with one hash table of the transactions' ids
    code, answer_code = positions_of([block.column("customer_id"), who], tx.id_array)
    missing = np.full(len(code), None, dtype=object)
    lost = np.flatnonzero(code < 0)
    if len(lost):
        missing[lost] = id_texts(block.column("customer_id"), lost)
    # date: a date, or ISO text as SQLite gives it back (numpy parses either, in C)
    day = date.astype("datetime64[D]").astype(np.int64) - (EPOCH - dt.date(1970, 1, 1)).days
    got = pd.DataFrame({"customer_id": pd.Series(who, dtype=object),
                        "campaign": pd.Series(campaign_of, dtype=object),
                        "date": pd.Series(date, dtype=object), "day": day,
                        "code": answer_code})
    campaign, campaign_names = categories(block.column("campaign"))
    channel, channel_names = categories(block.column("channel")) if channels else \
        (np.zeros(0, dtype=np.int64), [])
    return Measured(
        sorted((int(r), str(i), a) for r, i, a in meta), run, code, missing, campaign,
        campaign_names, channel, channel_names,
        equal(block.column("status"), "allocated"),
        _flag(block.column("holdout")),
        _zero_missing(block.column("cost").to_numpy()), got)


def read_with_days(store: Store, tx: Transactions, cache: Sums, names: tuple[str, ...], *,
                   before: dt.date | None = None, channels: bool = False) -> Measured:
    """``read_measured``, while the transactions' columns ``names`` are put in day order into
    ``cache`` on the second core (Arrow decodes the blocks, numpy sorts and gathers: both
    without Python's lock). The same arrays as one after the other."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        found = pool.submit(read_measured, store, tx, before=before, channels=channels)
        for name in names:
            _in_day_order(tx, name, cache)
        return found.result()


def _zero_missing(values: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(values), 0.0, values)


def _flag(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(column, False).to_numpy(), dtype=bool)


def groups(m: Measured) -> Iterator[tuple[int, str, np.ndarray]]:
    """(run, campaign, the rows of its actioned customers as recorded), in run then campaign
    order (campaigns in text order)."""
    bounds = np.flatnonzero(np.diff(m.run)) + 1
    kind = np.int16 if len(m.campaigns) < np.iinfo(np.int16).max else np.int64
    for lo, hi in zip([0, *bounds], [*bounds, len(m.run)], strict=True):
        if lo == hi:
            continue
        # a stable sort of small integers (a radix sort): each group keeps the recorded order
        order = np.argsort(m.campaign[lo:hi].astype(kind), kind="stable") + lo
        keys = m.campaign[order]
        cuts = np.flatnonzero(np.diff(keys)) + 1
        for a, b in zip([0, *cuts], [*cuts, len(keys)], strict=True):
            if keys[a] >= 0:  # a row without a campaign belongs to none
                yield int(m.run[lo]), m.campaigns[int(keys[a])], order[a:b]


def by_campaign(got: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {str(k): g for k, g in got.groupby("campaign", sort=False)}


Sums = dict[tuple[int, int, str], np.ndarray]
WHAT = ("bought", "revenue", "margin")


def _sums(tx: Transactions, codes: np.ndarray, first: int, last: int, cache: Sums,
          what: tuple[str, ...] = WHAT) -> tuple[np.ndarray, ...]:
    """Per customer (``codes``; -1: no transaction at all) the figures ``what`` of purchases
    (count), revenue, margin on days first .. last - 1 (one pass over the window's
    transactions per window and figure, shared by the campaigns)."""
    ok = codes >= 0
    at = np.maximum(codes, 0)
    out = []
    for name in what:
        if (first, last, name) not in cache:
            cache[(first, last, name)] = _per_customer(tx, first, last, name, cache)
        out.append(np.where(ok, cache[(first, last, name)][at], 0))
    return tuple(out)


def _per_customer(tx: Transactions, first: int, last: int, name: str,
                  cache: Sums) -> np.ndarray:
    """One bincount over the window's slice of the rows in day order: each customer's figures
    summed in that order (ties as they come), as always. Purchases are counted over the
    positive rows alone, kept apart once, so that no window masks its rows."""
    n = len(tx.customer_ids)
    if name == "bought":
        code = _in_day_order(tx, "bought", cache)
        lo, hi = _bound(first, cache, "bought_starts"), _bound(last, cache, "bought_starts")
        return np.bincount(code[lo:hi], minlength=n)
    code = _in_day_order(tx, "code", cache)
    values = _in_day_order(tx, "amount" if name == "revenue" else "margin", cache)
    lo, hi = _bound(first, cache), _bound(last, cache)
    return np.bincount(code[lo:hi], weights=values[lo:hi], minlength=n)


def outcomes(m: Measured, rows: np.ndarray, answers: pd.DataFrame, tx: Transactions,
             day0: int, days: int, cache: Sums) -> tuple[np.ndarray, ...]:
    """Per customer of ``rows`` (a group of ``m``): converted (as ``conversions``), revenue
    and margin on days day0 .. day0 + days - 1, and the margin over the same number of days
    before it (the CUPED covariate)."""
    codes = m.code[rows]
    revenue, margin = _sums(tx, codes, day0, day0 + days, cache, ("revenue", "margin"))
    (before,) = _sums(tx, codes, day0 - days, day0, cache, ("margin",))
    return conversions(m, rows, answers, tx, day0, days, cache), revenue, margin, before


def conversions(m: Measured, rows: np.ndarray, answers: pd.DataFrame, tx: Transactions,
                day0: int, days: int, cache: Sums) -> np.ndarray:
    """Per customer of ``rows``: converted (1.0 or 0.0: a purchase in the transactions or an
    imported conversion of the campaign, ``answers``, on days day0 .. day0 + days - 1). The
    one definition of a conversion: cvm measure and learning (engine.history.learn) both use
    it."""
    codes = m.code[rows]
    (bought,) = _sums(tx, codes, day0, day0 + days, cache, ("bought",))
    inside = answers[(answers["day"] >= day0) & (answers["day"] < day0 + days)]
    # by code (customer_id is kept only for customers absent from the transactions)
    known = np.zeros(len(tx.customer_ids) + 1, dtype=bool)
    known[inside["code"].to_numpy(dtype=np.int64)] = True  # -1: the spare last slot
    responded = known[codes] & (codes >= 0)
    lost = codes < 0
    if lost.any():
        responded[lost] = pd.Index(pd.unique(inside["customer_id"].to_numpy(dtype=object))
                                   ).get_indexer(m.customer_id[rows][lost]) >= 0
    converted: np.ndarray = ((bought > 0) | responded).astype(float)
    return converted


def _in_day_order(tx: Transactions, name: str, cache: Sums) -> np.ndarray:
    """The transactions' customer codes (``code``), amounts, margins, or the codes of the
    positive rows alone (``bought``: purchases), in day order (ties as they come: the order
    each customer's figures are summed in), each made once, when first asked for, and kept in
    ``cache`` (the purchases from the codes and amounts), so that a window is a slice, not a pass
    over every row. Also kept: where each day starts in them."""
    if (1, 0, "starts") not in cache:  # (1, 0): never a window (first > last)
        day = tx.day
        low = int(day.min()) if len(day) else 0
        ordered = bool(np.all(day[1:] >= day[:-1])) if len(day) else True
        if not ordered:
            cache[(1, 0, "order")] = _day_order(day, low)
        # starts[d - low]: the first row dated d or later
        counts = np.bincount(day - low) if len(day) else np.zeros(0, dtype=np.int64)
        cache[(1, 0, "starts")] = np.concatenate([[0], np.cumsum(counts)])
        cache[(1, 0, "low")] = np.array([low])
    if (1, 0, name) not in cache:
        order = cache.get((1, 0, "order"))
        if name == "bought":
            # from the codes and amounts in day order: sequential passes, no more gathers
            positive = _in_day_order(tx, "amount", cache) > 0
            # bought_starts[d - low]: the first positive row dated d or later
            before = np.concatenate([[0], np.cumsum(positive)])
            cache[(1, 0, "bought_starts")] = before[cache[(1, 0, "starts")]]
            cache[(1, 0, name)] = _in_day_order(tx, "code", cache)[positive]
        else:
            values = {"code": tx.code, "amount": tx.amount, "margin": tx.margin}[name]
            cache[(1, 0, name)] = values if order is None else values[order]
    return cache[(1, 0, name)]


def _bound(day: int, cache: Sums, starts: str = "starts") -> int:
    """The first row (in day order; of the positive rows with ``bought_starts``) dated
    ``day`` or later."""
    at = cache[(1, 0, starts)]
    return int(at[min(max(day - int(cache[(1, 0, "low")][0]), 0), len(at) - 1)])


def _day_order(day: np.ndarray, low: int) -> np.ndarray:
    """The rows in day order, ties as they come: a radix sort of the days counted from the
    first (16 bits cover 179 years of days), numpy's stable sort beyond."""
    if int(day.max()) - low < 1 << 16:
        return np.argsort((day - low).astype(np.uint16), kind="stable")
    return np.argsort(day, kind="stable")
